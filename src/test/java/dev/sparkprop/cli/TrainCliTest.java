package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.data.IdxTestFiles;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.run.RunLock;
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
  private static org.apache.spark.sql.SparkSession spark; // shared by the commands of this class
  @TempDir Path dir;

  @BeforeAll
  static void master() {
    spark = CliSession.start();
  }

  @AfterAll
  static void clear() {
    CliSession.stop(spark);
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

  /**
   * validation.path (an IDX pair with the prefix "validation") is evaluated after every epoch and
   * keep=best records the kept epoch in model.json; without a validation set keep=best is refused
   * before Spark starts.
   */
  @Test
  void aValidationSetChoosesTheKeptEpoch() throws Exception {
    Path data = data("v");
    Path val = Files.createDirectories(dir.resolve("validation"));
    IdxTestFiles.write(val, "validation-images-idx3-ubyte", IdxTestFiles.images(50, 2, 2, 5));
    IdxTestFiles.write(val, "validation-labels-idx1-ubyte", IdxTestFiles.labels(50, 10, 6));
    Path out = dir.resolve("val-run");
    String[] r = train(data, "epochs=4", "keep=best", "validation.path=" + val, "out=" + out);
    assertExit(0, r, "data: validation ", "epoch 1: validation loss ", "epoch 4: validation loss ");
    String manifest = Files.readString(out.resolve("model/model.json"));
    assertTrue(manifest.contains("\"kept_epoch\" : ") && manifest.contains("\"validation_loss\" : "), manifest);
    assertExit(2, train(data, "keep=best", "out=" + dir.resolve("no-val")),
        "keep=best and early.stop.patience need a validation set: set validation.path or validation.fraction");
    assertExit(0, train(data, "keep=best", "validation.fraction=0.2", "out=" + dir.resolve("val-frac")),
        "validation: 60 of 300 rows (validation.fraction, seed ", "epoch 2: validation loss ");
    assertExit(2, train(data, "validation.fraction=0.2", "validation.path=" + val, "out=" + dir.resolve("both")),
        "validation.fraction and validation.path are both set");
    assertFalse(Files.exists(dir.resolve("no-val")), "refused before anything is written");
  }

  /** A run directory belongs to one run at a time; a lock file left by a dead run blocks nobody. */
  @Test
  void aRunDirectoryInUseIsRefusedAtOnceAndAStaleLockIsNot() throws Exception {
    Path data = data("d");
    Path busy = dir.resolve("busy");
    try (dev.sparkprop.run.RunLock held = dev.sparkprop.run.RunLock.take(busy)) {
      String[] r = train(data, "out=" + busy);
      assertExit(2, r, "error: out: " + busy + " is in use by another run (process " + ProcessHandle.current().pid() + " on ",
          "); wait for it to end, or choose another out=");
      assertFalse(Files.exists(busy.resolve("config.properties")), "nothing written by the refused run");
    }
    Path stale = Files.createDirectories(dir.resolve("stale"));
    Files.writeString(stale.resolve(".lock"), "process 999999 on elsewhere, since 2026-01-01T00:00:00Z");
    assertExit(0, train(data, "out=" + stale), "final test accuracy");
  }

  /** A barrier run with more partitions than a local master's slots: refused before Spark starts, nothing written. */
  @Test
  void morePartitionsThanALocalMastersSlotsAreRefusedBeforeSparkStarts() throws Exception {
    Path out = dir.resolve("p");
    int jobs = CliSession.jobs(spark);
    assertExit(2, train(data("d"), "out=" + out, "partitions=3"),
        "error: partitions: sync.mode=barrier runs all 3 partitions at once, but local[2] has 2 task slots; "
            + "set partitions to at most 2, or use sync.mode=job");
    assertFalse(Files.exists(out), "nothing written");
    assertEquals(jobs, CliSession.jobs(spark), "no Spark job ran");
    assertFalse(spark.sparkContext().isStopped(), "a command leaves a session it did not start running");
  }

  /** An out= that cannot be a run directory: exit 2 and one line naming it, before Spark starts. */
  @Test
  void anUnusableOutIsRefusedWithOneLine() throws Exception {
    Path data = data("d");
    Path file = Files.writeString(dir.resolve("a-file"), "x");
    for (String[] c : new String[][] {
        {file.toString(), "error: out: cannot use " + file + " as the run directory (" + file + " exists and is not a folder)"},
        {file.resolve("sub").toString(), "error: out: cannot use " + file.resolve("sub") + " as the run directory ("},
        {"/proc/sparkprop-run", "error: out: cannot use /proc/sparkprop-run as the run directory ("}}) {
      String[] r = train(data, "out=" + c[0]);
      assertExit(2, r, c[1], "choose a folder you can write, with out=");
      assertEquals(1, r[2].strip().lines().count(), "one line: " + r[2]);
    }
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

  /** A CSV table of 2x2 images: header, then one line per row. */
  private Path csv(String name, String header, List<String> lines) throws Exception {
    Path d = Files.createDirectories(dir.resolve(name));
    StringBuilder sb = new StringBuilder();
    if (header != null) sb.append(header).append('\n');
    for (String l : lines) sb.append(l).append('\n');
    Files.writeString(d.resolve("part-0.csv"), sb.toString());
    return d;
  }

  /**
   * Bad tables met after Spark started: a CSV without its header line (was a 100-line trace), a
   * value longer than the reader's limit (one such line of 200 MB ran the driver out of memory).
   * Each is one line, exit 3, and the refused run removes the run directory it created, with
   * the config.properties it had written.
   */
  @Test
  void aHeaderlessCsvAndAnOverlongValueAreNamedAndTheRefusedRunLeavesNothing() throws Exception {
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < 40; i++) rows.add((i % 10) + "," + (i % 7) + ",0,255," + (i * 3 % 256));
    Path headerless = csv("headerless", null, rows);
    Path out = dir.resolve("r-headerless");
    assertExit(3, train(headerless, "out=" + out), "headerless: its first line is not a header (it holds numbers, as a data line does); "
        + "a CSV table needs a header line naming its columns");
    assertFalse(Files.exists(out), "the refused run left " + out);

    List<String> longValue = new ArrayList<>(rows);
    longValue.set(17, "3," + "1".repeat(100_000) + ",0,0,0");
    Path overlong = csv("overlong", "label,pixel0,pixel1,pixel2,pixel3", longValue);
    Path out2 = dir.resolve("r-overlong");
    String[] r = train(overlong, "out=" + out2);
    assertExit(3, r, "overlong/part-0.csv: a value is longer than 1000 characters (the CSV reader's limit");
    assertTrue(r[2].strip().lines().count() == 1 && r[2].length() < 1000, "one short line, not the line itself: " + r[2].length() + " characters");

    // a line longer than 4 MiB (one of 200 MB ran the driver out of memory) is found before Spark reads the file
    List<String> longLine = new ArrayList<>(rows);
    longLine.set(20, "3," + "7".repeat(5 << 20) + ",0,0,0");
    Path huge = csv("longline", "label,pixel0,pixel1,pixel2,pixel3", longLine);
    Path out3 = dir.resolve("r-longline");
    r = train(huge, "out=" + out3);
    assertExit(3, r, "longline/part-0.csv: line 22 is longer than 4 MiB, the limit of a CSV line");
    assertFalse(Files.exists(out3), "the refused run left " + out3);
    assertFalse(Files.exists(out2), "the refused run left " + out2);
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
