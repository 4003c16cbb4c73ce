package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.data.IdxTestFiles;
import dev.sparkprop.io.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training command in-process on local[2] with small synthetic IDX data: what it writes,
 * what it refuses (with message and exit code), and that nothing on disk is damaged.
 */
class TrainCliTest {
  @TempDir Path dir;

  @BeforeAll
  static void master() {
    System.setProperty("spark.master", "local[2]");
    System.setProperty("spark.ui.enabled", "false");
    System.setProperty("spark.driver.host", "127.0.0.1");
  }

  @AfterAll
  static void clear() {
    System.clearProperty("spark.master");
    System.clearProperty("spark.ui.enabled");
    System.clearProperty("spark.driver.host");
  }

  /** 300 training and 100 test images of 2x2 pixels, labels 0..9. */
  private Path data(String name) throws Exception {
    Path d = Files.createDirectories(dir.resolve(name));
    IdxTestFiles.write(d, "train-images-idx3-ubyte", IdxTestFiles.images(300, 2, 2, 1));
    IdxTestFiles.write(d, "train-labels-idx1-ubyte", IdxTestFiles.labels(300, 10, 2));
    IdxTestFiles.write(d, "t10k-images-idx3-ubyte", IdxTestFiles.images(100, 2, 2, 3));
    IdxTestFiles.write(d, "t10k-labels-idx1-ubyte", IdxTestFiles.labels(100, 10, 4));
    return d;
  }

  /** Runs Train; returns {exit code, stdout, stderr}. */
  private String[] train(Path data, String... kv) {
    List<String> args = new ArrayList<>(List.of("layers=4,8,10", "epochs=2", "batch.size=32",
        "train.path=" + data, "test.path=" + data));
    args.addAll(Arrays.asList(kv));
    CliRun r = CliRun.of(Train::run, args.toArray(new String[0]));
    return new String[] {String.valueOf(r.code()), r.out(), r.err()};
  }

  private static void assertExit(int code, String[] r, String... parts) {
    new CliRun(Integer.parseInt(r[0]), r[1], r[2]).expect(code, parts);
  }

  @Test
  void runWritesModelMetricsAndConfigAndRefusesToOverwriteTheModel() throws Exception {
    Path data = data("d");
    Path out = dir.resolve("run");
    String[] r = train(data, "out=" + out);
    assertExit(0, r);
    assertTrue(ModelStore.exists(out.resolve("model").toString()));
    assertEquals(3, Files.readAllLines(out.resolve("metrics.csv")).size());
    assertTrue(Files.readString(out.resolve("config.properties")).contains("layers=4,8,10"));
    byte[] before = Files.readAllBytes(out.resolve("model/dense_0_W.npy"));
    String[] again = train(data, "out=" + out, "seed=7");
    assertExit(2, again, "already holds a model", "overwrite=true");
    assertTrue(Arrays.equals(before, Files.readAllBytes(out.resolve("model/dense_0_W.npy"))), "the model is untouched");
    assertExit(0, train(data, "out=" + out, "seed=7", "overwrite=true"));
    assertFalse(Arrays.equals(before, Files.readAllBytes(out.resolve("model/dense_0_W.npy"))), "replaced when asked");
  }

  @Test
  void initFromStartsFromSavedWeightsAndChecksThem() throws Exception {
    Path data = data("d");
    Path first = dir.resolve("first");
    assertExit(0, train(data, "out=" + first));
    assertExit(0, train(data, "out=" + dir.resolve("second"), "init.from=" + first.resolve("model")));
    assertExit(2, train(data, "out=" + dir.resolve("third"), "layers=4,16,10", "init.from=" + first.resolve("model")),
        "init.from", "4-8(relu)-10(softmax)", "4-16(relu)-10(softmax)");
    Files.delete(first.resolve("model/dense_1_b.npy"));
    assertExit(3, train(data, "out=" + dir.resolve("fourth"), "init.from=" + first.resolve("model")),
        "dense_1_b.npy", "missing");
  }

  @Test
  void divergenceStopsWithTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
    Path data = data("d");
    Path out = dir.resolve("run");
    String[] r = train(data, "out=" + out, "optimizer=sgd", "lr=1e30", "lr.schedule=constant", "init=uniform",
        "checkpoint.every=1", "checkpoint.unit=step", "epochs=3");
    assertExit(1, r, "training diverged at epoch", "is NaN or infinite", "last good checkpoint");
    assertFalse(ModelStore.exists(out.resolve("model").toString()), "no model from a diverged run");
    try (Stream<Path> s = Files.list(out.resolve("checkpoints"))) {
      for (Path c : s.toList()) {
        float[] p = ModelStore.load(c.toString()).params();
        for (float v : p) assertTrue(Float.isFinite(v), c + " holds a non-finite parameter");
      }
    }
  }

  @Test
  void badDataFilesAreRefusedWithExitCode3() throws Exception {
    Path data = data("truncated");
    byte[] img = Files.readAllBytes(data.resolve("train-images-idx3-ubyte"));
    Files.write(data.resolve("train-images-idx3-ubyte"), Arrays.copyOf(img, img.length - 10));
    assertExit(3, train(data, "out=" + dir.resolve("r1")), "train-images-idx3-ubyte", "truncated");

    Path labels = data("labels");
    byte[] lab = Files.readAllBytes(labels.resolve("t10k-labels-idx1-ubyte"));
    lab[8 + 5] = 11;
    Files.write(labels.resolve("t10k-labels-idx1-ubyte"), lab);
    assertExit(3, train(labels, "out=" + dir.resolve("r2")), "t10k-labels-idx1-ubyte", "label 11 at item 5");

    Path mismatch = data("mismatch");
    IdxTestFiles.write(mismatch, "train-labels-idx1-ubyte", IdxTestFiles.labels(299, 10, 2));
    assertExit(3, train(mismatch, "out=" + dir.resolve("r3")), "300 images", "299 labels");

    Path magic = data("magic");
    IdxTestFiles.write(magic, "train-images-idx3-ubyte", IdxTestFiles.labels(300, 10, 2));
    assertExit(3, train(magic, "out=" + dir.resolve("r4")), "wrong magic number");
    assertExit(2, train(data("d"), "out=" + dir.resolve("r5"), "layers=5,8,10"), "layers: the first size is 5", "4");
    for (String r : new String[] {"r1", "r2", "r3", "r4", "r5"}) assertFalse(Files.exists(dir.resolve(r)), "nothing written for " + r);
  }
}
