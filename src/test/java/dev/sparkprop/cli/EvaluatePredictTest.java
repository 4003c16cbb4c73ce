package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.train.TestData;
import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluate and predict commands in-process on local[2], with a saved MNIST-shaped model. */
class EvaluatePredictTest {
  private static org.apache.spark.sql.SparkSession spark; // shared by the commands of this class
  @TempDir static Path dir;
  private static String model;
  private static String cnnModel;
  private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {784, 16, 10}, Activation.RELU);
  private static final NetworkSpec CNN = NetworkSpec.parse("conv(4,3) relu, pool(2), conv(6,3,stride=2,same) tanh, dense(10) softmax",
      new NetworkSpec.Shape(1, 28, 28), Activation.RELU);

  @BeforeAll
  static void setUp() throws Exception {
    spark = CliSession.start();
    model = dir.resolve("model").toString();
    ModelStore.save(model, new SavedModel(SPEC, new Initializer(Initializer.Kind.HE, 0, 0).initialize(SPEC, 5),
        Map.of(), Map.of()), false);
    cnnModel = dir.resolve("cnn-model").toString();
    ModelStore.save(cnnModel, new SavedModel(CNN, new Initializer(Initializer.Kind.HE, 0, 0).initialize(CNN, 5),
        Map.of(), Map.of()), false);
  }

  /** A model with convolutions: evaluate and predict on the cluster, IDX and PNG alike. */
  @Test
  void aCnnModelEvaluatesAndPredicts() throws Exception {
    assertExit(0, run(Evaluate::run, "model=" + cnnModel, "data=" + TestData.mnistDir()), "10000 images", "accuracy",
        "confusion matrix");
    Path csv = dir.resolve("cnn-pred.csv");
    assertExit(0, run(Predict::run, "model=" + cnnModel, "data=" + TestData.mnistDir(), "out=" + csv),
        "wrote 10000 predictions (csv)");
    assertEquals(10000, readCsvParts(csv).stream().filter(l -> !l.startsWith("id,")).count());
    pngsPredictLikeTheSameIdxRows(cnnModel, "cnn-");
  }

  @AfterAll
  static void clear() {
    CliSession.stop(spark);
  }

  private static String[] run(BiFunction<String[], PrintStream, Integer> command, String... args) {
    CliRun r = CliRun.of(command, args);
    return new String[] {String.valueOf(r.code()), r.out(), r.err()};
  }

  private static void assertExit(int code, String[] r, String... parts) {
    new CliRun(Integer.parseInt(r[0]), r[1], r[2]).expect(code, parts);
  }

  @Test
  void evaluatePrintsAccuracyConfusionAndPerClassTableAndWritesCsv() throws Exception {
    Path out = dir.resolve("eval");
    String[] r = run(Evaluate::run, "model=" + model, "data=" + TestData.mnistDir(), "out=" + out);
    assertExit(0, r, "10000 images", "accuracy", "confusion matrix", "per class (Spark SQL)");
    List<String> perClass = Files.readAllLines(out.resolve("per_class.csv"));
    assertEquals("class,support,predicted,true_positives,precision,recall,f1", perClass.get(0));
    assertEquals(11, perClass.size());
    long support = 0;
    long predicted = 0;
    long tp = 0;
    for (String line : perClass.subList(1, 11)) {
      String[] f = line.split(",");
      support += Long.parseLong(f[1]);
      predicted += Long.parseLong(f[2]);
      tp += Long.parseLong(f[3]);
    }
    assertEquals(10000, support);
    assertEquals(10000, predicted);
    // the SQL table and the aggregated counts agree on the accuracy
    String acc = r[1].replaceAll("(?s).*accuracy ([0-9.]+),.*", "$1");
    assertEquals(Double.parseDouble(acc), tp / 10000.0, 1e-4);
    assertEquals(11, Files.readAllLines(out.resolve("confusion.csv")).size());
  }

  @Test
  void predictWritesCsvAndParquetForIdxImages() throws Exception {
    Path csv = dir.resolve("pred.csv");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + TestData.mnistDir().resolve("t10k-images-idx3-ubyte"),
        "out=" + csv), "wrote 10000 predictions (csv)");
    List<String> lines = readCsvParts(csv);
    assertTrue(lines.get(0).startsWith("id,prediction,prob_0,prob_1"), lines.get(0));
    assertEquals(10000, lines.stream().filter(l -> !l.startsWith("id,")).count(), "one row per test image");
    String[] f = lines.stream().filter(l -> l.startsWith("0,")).findFirst().orElseThrow().split(",");
    double sum = 0;
    for (int k = 2; k < 12; k++) sum += Double.parseDouble(f[k]);
    assertEquals(1.0, sum, 1e-4, "probabilities of row 0 sum to 1");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + TestData.mnistDir(), "out=" + dir.resolve("pred.parquet")),
        "wrote 10000 predictions (parquet)");
    assertExit(2, run(Predict::run, "model=" + model, "data=" + TestData.mnistDir(), "out=" + csv), "already exists");
  }

  /**
   * The tables of submit/prepare (Parquet, with a row column) and a hand-made CSV without labels:
   * evaluate gives the IDX files' figures, predict the same predictions under the same ids, and a
   * bad value is named with its file, record and column.
   */
  @Test
  void tablesEvaluateAndPredictLikeTheIdxFiles() throws Exception {
    Path tables = dir.resolve("tables");
    assertExit(0, run(Prepare::run, "in=" + TestData.mnistDir(), "out=" + tables), "wrote");
    String[] idx = run(Evaluate::run, "model=" + model, "data=" + TestData.mnistDir());
    String[] pq = run(Evaluate::run, "model=" + model, "data=" + tables.resolve("test"));
    assertExit(0, pq, "10000 images");
    assertEquals(idx[1].substring(idx[1].indexOf("accuracy ")), pq[1].substring(pq[1].indexOf("accuracy ")),
        "the same accuracy, loss, confusion matrix and per-class table as the IDX files");

    Path fromIdx = dir.resolve("t-idx.csv");
    Path fromTable = dir.resolve("t-pq.csv");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + TestData.mnistDir(), "out=" + fromIdx), "wrote 10000");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + tables.resolve("test"), "out=" + fromTable), "wrote 10000");
    Map<String, String> byId = byId(readCsvParts(fromIdx));
    assertEquals(byId, byId(readCsvParts(fromTable)), "the same id, prediction and probabilities");

    // a CSV of the first 50 test images without labels, rows numbered by a row column
    DataSpec test = TestData.mnist("t10k");
    Shard s = ShardReader.read(test.imagesPath, test.labelsPath, 10, 50, test.features, 0, ShardReader.ranges(50, 1));
    float[] x = new float[50 * 784];
    s.copyRows(0, 50, x);
    StringBuilder csv = new StringBuilder("row");
    for (int j = 0; j < 784; j++) csv.append(",pixel").append(j);
    for (int r = 0; r < 50; r++) {
      csv.append('\n').append(r);
      for (int j = 0; j < 784; j++) csv.append(',').append(Math.round(x[r * 784 + j] * 255));
    }
    Path unlabelled = Files.createDirectories(dir.resolve("unlabelled")).resolve("images.csv");
    Files.writeString(unlabelled, csv + "\n");
    Path fromCsv = dir.resolve("t-csv.csv");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + unlabelled, "out=" + fromCsv), "wrote 50");
    Map<String, String> csvIds = byId(readCsvParts(fromCsv));
    assertEquals(50, csvIds.size());
    // the same class; probabilities equal up to float rounding (50 rows a forward pass instead of 5000)
    for (Map.Entry<String, String> e : csvIds.entrySet()) {
      String[] want = byId.get(e.getKey()).split(",");
      String[] got = e.getValue().split(",");
      assertEquals(want[0], got[0], "id " + e.getKey());
      for (int k = 1; k < want.length; k++) assertEquals(Double.parseDouble(want[k]), Double.parseDouble(got[k]), 1e-6);
    }
    assertExit(3, run(Evaluate::run, "model=" + model, "data=" + unlabelled), "has no 'label' column");

    // an id column of the user's: a CSV of the same 50 images named "img-R", without a row column
    Path named = Files.createDirectories(dir.resolve("named")).resolve("images.csv");
    Files.writeString(named, csv.toString().replaceFirst("^row,", "name,").replaceAll("\n(\\d+),", "\nimg-$1,") + "\n");
    Path fromNamed = dir.resolve("t-named.csv");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + named, "id=name", "out=" + fromNamed), "wrote 50");
    Map<String, String> namedIds = byId(readCsvParts(fromNamed));
    assertEquals(50, namedIds.size());
    for (Map.Entry<String, String> e : csvIds.entrySet()) {
      assertEquals(e.getValue(), namedIds.get("img-" + e.getKey()), "img-" + e.getKey() + " joins back to its row");
    }
    assertExit(3, run(Predict::run, "model=" + model, "data=" + named, "id=nope", "out=" + dir.resolve("t-nope.csv")),
        "has no column 'nope' for the id");
    assertExit(2, run(Predict::run, "model=" + model, "data=" + TestData.mnistDir(), "id=name", "out=" + dir.resolve("t-x.csv")),
        "id: names a column of a table");

    Files.writeString(unlabelled, csv.toString().replaceFirst("\n7,0,", "\n7,300,") + "\n");
    assertExit(3, run(Predict::run, "model=" + model, "data=" + unlabelled, "out=" + dir.resolve("t-bad.csv")),
        "images.csv, row 7, column pixel0: 300, outside 0..255");
  }

  /** id -> the rest of a predict CSV's line. */
  private static Map<String, String> byId(List<String> lines) {
    Map<String, String> m = new HashMap<>();
    for (String l : lines) if (!l.startsWith("id,")) m.put(l.substring(0, l.indexOf(',')), l.substring(l.indexOf(',') + 1));
    return m;
  }

  @Test
  void predictReadsPngImagesLikeTheSameIdxRows() throws Exception {
    pngsPredictLikeTheSameIdxRows(model, "");
  }

  private static void pngsPredictLikeTheSameIdxRows(String model, String prefix) throws Exception {
    DataSpec test = TestData.mnist("t10k");
    Shard shard = ShardReader.read(test.imagesPath, test.labelsPath, 10, 3, 784, 0, ShardReader.ranges(3, 1));
    Path pngs = Files.createDirectories(dir.resolve(prefix + "pngs"));
    float[] x = new float[3 * 784];
    shard.copyRows(0, 3, x);
    for (int i = 0; i < 3; i++) {
      BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      for (int p = 0; p < 784; p++) img.getRaster().setSample(p % 28, p / 28, 0, Math.round(x[i * 784 + p] * 255));
      ImageIO.write(img, "png", pngs.resolve("digit" + i + ".png").toFile());
    }
    Path fromPng = dir.resolve(prefix + "png.csv");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + pngs, "out=" + fromPng), "wrote 3 predictions");
    Path fromIdx = dir.resolve(prefix + "idx.csv");
    assertExit(0, run(Predict::run, "model=" + model, "data=" + TestData.mnistDir(), "out=" + fromIdx));
    Map<String, String> idx = new HashMap<>();
    for (String l : readCsvParts(fromIdx)) idx.put(l.substring(0, l.indexOf(',')), l.substring(l.indexOf(',') + 1));
    for (String l : readCsvParts(fromPng)) {
      if (l.startsWith("id,")) continue;
      String name = l.substring(0, l.indexOf(','));
      String row = name.replaceAll(".*digit([0-9]).png", "$1");
      // Same class; the probabilities equal up to float rounding (BLAS kernels may sum a row's
      // products in another order when the batch has another size: 3 PNGs against 10000 rows).
      String[] want = idx.get(row).split(",");
      String[] got = l.substring(l.indexOf(',') + 1).split(",");
      assertEquals(want.length, got.length);
      assertEquals(want[0], got[0], "PNG " + name + " and IDX row " + row + ": predicted class");
      for (int k = 1; k < want.length; k++) {
        assertEquals(Float.parseFloat(want[k]), Float.parseFloat(got[k]), 1e-6f, "PNG " + name + " and IDX row " + row + ": prob_" + (k - 1));
      }
    }
  }

  @Test
  void pngsOfTheWrongSizeOrColourAreRefused() throws Exception {
    Path small = Files.createDirectories(dir.resolve("small"));
    ImageIO.write(new BufferedImage(27, 28, BufferedImage.TYPE_BYTE_GRAY), "png", small.resolve("a.png").toFile());
    assertExit(3, run(Predict::run, "model=" + model, "data=" + small, "out=" + dir.resolve("s.csv")),
        "a.png", "27x28 pixels, expected 28x28");
    Path rgb = Files.createDirectories(dir.resolve("rgb")).resolve("b.png");
    ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_INT_RGB), "png", rgb.toFile());
    assertExit(3, run(Predict::run, "model=" + model, "data=" + rgb, "out=" + dir.resolve("r.csv")),
        "b.png", "colour type 2 (RGB), expected an 8-bit grayscale PNG of 28x28");
    assertFalse(Files.exists(dir.resolve("r.csv")) && Files.exists(dir.resolve("r.csv/_SUCCESS")), "no output for bad input");
    // 16 bits a pixel: refused, not rescaled silently
    Path deep = Files.createDirectories(dir.resolve("deep")).resolve("c.png");
    ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_USHORT_GRAY), "png", deep.toFile());
    assertExit(3, run(Predict::run, "model=" + model, "data=" + deep, "out=" + dir.resolve("d.csv")),
        "c.png", "16-bit grayscale, expected an 8-bit grayscale PNG of 28x28");
    // a text file named .png is named as that, not as an IDX file with a wrong magic number
    Path text = Files.writeString(dir.resolve("note.png"), "not an image\n");
    assertExit(3, run(Predict::run, "model=" + model, "data=" + text, "out=" + dir.resolve("t.csv")),
        "note.png: named .png, but it is not a PNG file (no PNG signature)");
    // a header that claims 60000 x 60000 pixels is refused before anything is decoded
    byte[] bomb = Files.readAllBytes(small.resolve("a.png"));
    java.nio.ByteBuffer.wrap(bomb).putInt(16, 60000).putInt(20, 60000);
    Path bombs = Files.createDirectories(dir.resolve("bomb"));
    Files.write(bombs.resolve("e.png"), bomb);
    assertExit(3, run(Predict::run, "model=" + model, "data=" + bombs, "out=" + dir.resolve("e.csv")),
        "e.png", "60000x60000 pixels, expected 28x28");
    // a PNG cut short: its header is right, its pixels cannot be decoded
    BufferedImage digit = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
    for (int i = 0; i < 28; i++) digit.getRaster().setSample(i, i, 0, 255);
    java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
    ImageIO.write(digit, "png", whole);
    Path cut = Files.createDirectories(dir.resolve("cut"));
    Files.write(cut.resolve("f.png"), java.util.Arrays.copyOf(whole.toByteArray(), whole.size() / 2));
    String[] r = run(Predict::run, "model=" + model, "data=" + cut, "out=" + dir.resolve("f.csv"));
    assertExit(3, r, "f.png: cannot decode the PNG");
    assertEquals(1, r[2].lines().filter(l -> !l.isBlank()).count(), "one line, no trace: " + r[2]);
    assertFalse(Files.exists(dir.resolve("f.csv")), "a failed predict leaves no output folder behind");
  }

  @Test
  void badArgumentsAndModelsAreRefusedBeforeSparkStarts() throws Exception {
    assertExit(2, run(Evaluate::run, "model=" + model), "data= is required");
    assertExit(2, run(Evaluate::run, "model=" + model, "data=x", "dta=y"), "unknown key 'dta'");
    assertExit(3, run(Evaluate::run, "model=" + dir.resolve("nomodel"), "data=" + TestData.mnistDir()), "no such model directory");
    assertExit(3, run(Evaluate::run, "model=" + model, "data=" + dir.resolve("nodata")), "nodata", "no such file or folder");
    Path broken = dir.resolve("broken");
    ModelStore.save(broken.toString(), ModelStore.load(model), false);
    Files.write(broken.resolve("dense_1_W.npy"), new byte[] {1, 2, 3});
    assertExit(3, run(Evaluate::run, "model=" + broken, "data=" + TestData.mnistDir()), "dense_1_W.npy");
    assertExit(2, run(Predict::run, "model=" + model, "data=x", "out=" + dir.resolve("o"), "format=json"), "format: expected csv or parquet");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "missing | dense_0_b.npy: missing",
      "truncated | dense_0_W.npy: 50300 bytes, model.json says 50304 (truncated)",
      "tampered | dense_0_W.npy: sha256",
      "shape | tensor 'dense_0_W' has shape [784, 16] but the network needs [784, 32]",
      "onnx-missing | model.onnx: missing (listed in model.json); write it again with submit/export-onnx",
      "onnx-tampered | model.onnx: sha256",
      "nan | dense_0_b.npy: tensor 'dense_0_b' holds NaN at index 3 (of 16); a model's values must be finite"})
  void everyDamagedModelIsRefusedWithExitCode3(String damage, String message) throws Exception {
    Path m = dir.resolve("damaged-" + damage);
    NetworkSpec spec = NetworkSpec.of(new int[] {784, 16, 10}, Activation.RELU);
    ModelStore.save(m.toString(), new SavedModel(spec, new float[spec.numParams()], Map.of(), Map.of()), false);
    Path w = m.resolve("dense_0_W.npy");
    switch (damage) {
      case "missing" -> Files.delete(m.resolve("dense_0_b.npy"));
      case "truncated" -> Files.write(w, java.util.Arrays.copyOf(Files.readAllBytes(w), 50300));
      case "onnx-missing" -> Files.delete(m.resolve("model.onnx"));
      case "nan" -> { // written with its checksums, as a hand-edited model would be
        float[] p = new float[spec.numParams()];
        p[spec.biasOffset(0) + 3] = Float.NaN;
        ModelStore.save(m.toString(), new SavedModel(spec, p, Map.of(), Map.of()), true);
      }
      case "onnx-tampered" -> {
        byte[] b = Files.readAllBytes(m.resolve("model.onnx"));
        b[b.length - 100] ^= 1;
        Files.write(m.resolve("model.onnx"), b);
      }
      case "tampered" -> {
        byte[] b = Files.readAllBytes(w);
        b[200] = 1;
        Files.write(w, b);
      }
      default -> {
        Path j = m.resolve("model.json");
        Files.writeString(j, Files.readString(j).replace("\"layers\" : [ 784, 16, 10 ]", "\"layers\" : [ 784, 32, 10 ]"));
      }
    }
    assertExit(3, run(Evaluate::run, "model=" + m, "data=" + TestData.mnistDir()), message);
    assertExit(3, run(Predict::run, "model=" + m, "data=" + TestData.mnistDir(), "out=" + dir.resolve("o-" + damage)), message);
    // the API's load (transform, evaluate of a Spark application) is the same reader
    dev.sparkprop.io.BadModelException api = org.junit.jupiter.api.Assertions.assertThrows(dev.sparkprop.io.BadModelException.class,
        () -> dev.sparkprop.spark.SparkpropModel.load(m.toString()));
    assertTrue(api.getMessage().contains(message), api.getMessage());
  }

  private static List<String> readCsvParts(Path csvDir) throws Exception {
    try (Stream<Path> parts = Files.list(csvDir)) {
      List<Path> files = parts.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
      java.util.ArrayList<String> lines = new java.util.ArrayList<>();
      for (Path p : files) lines.addAll(Files.readAllLines(p));
      return lines;
    }
  }
}
