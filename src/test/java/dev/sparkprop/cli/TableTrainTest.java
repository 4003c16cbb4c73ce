package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.run.EpochMetrics;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table of real-valued measurements trained from the command line as a new user would
 * (README's "Data formats"): a CSV of 12 columns on scales from 1e-3 to 1e4, one of them constant
 * and one a text id, with two Gaussian classes whose Bayes classifier is known; the layer list
 * without an input size; the scaling computed on the cluster, kept in the model, its ONNX graph
 * and its checkpoints.
 */
class TableTrainTest {
  private static org.apache.spark.sql.SparkSession spark;
  @TempDir static Path dir;
  private static final int INFORMATIVE = 4;
  private static final double MU = 0.5; // class means +-MU on the informative columns: Bayes accuracy Phi(MU*2) = 0.84
  private static final double[] SCALE = {1e-3, 1e4, 0.5, 30, 1, 2e-2, 300, 1e3, 5e-3, 7, 1, 1};
  private static final double[] OFFSET = {5e-3, -2e4, 10, 1e3, 0, 0.3, 0, 5e3, 1, -7, 2.5, 0};
  private static final int CONSTANT = 10; // a column holding 2.5 in every row
  private static Path train;
  private static Path test;
  private static double bayes; // the Bayes classifier's accuracy on the test rows
  private static final String LAYERS = "layers=dense(32) relu, dense(2) softmax";

  @BeforeAll
  static void setUp() throws Exception {
    spark = CliSession.start();
    train = write("train", 20_000, 1);
    bayes = bayesAccuracy(test = write("test", 10_000, 2));
  }

  @AfterAll
  static void stop() {
    CliSession.stop(spark);
  }

  /** n rows: id, label, f0..f11; column j = OFFSET + SCALE * (N(0,1) + class mean on the first INFORMATIVE columns). */
  private static Path write(String name, int n, long seed) throws Exception {
    Random r = new Random(seed);
    Path d = Files.createDirectories(dir.resolve(name));
    StringBuilder sb = new StringBuilder("id,label");
    for (int j = 0; j < SCALE.length; j++) sb.append(",f").append(j);
    sb.append('\n');
    for (int i = 0; i < n; i++) {
      int y = r.nextInt(2);
      sb.append("r").append(i).append(',').append(y);
      for (int j = 0; j < SCALE.length; j++) {
        double z = j == CONSTANT ? 0 : r.nextGaussian() + (j < INFORMATIVE ? (y == 1 ? MU : -MU) : 0);
        sb.append(',').append((float) (OFFSET[j] + SCALE[j] * z));
      }
      sb.append('\n');
    }
    Files.writeString(d.resolve("part-0.csv"), sb);
    return d;
  }

  /** The raw features and labels of a table written by {@link #write}. */
  private static List<float[]> rows(Path table, List<Integer> labels) throws Exception {
    List<float[]> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(table.resolve("part-0.csv"));
    for (String l : lines.subList(1, lines.size())) {
      String[] v = l.split(",");
      labels.add(Integer.parseInt(v[1]));
      float[] x = new float[SCALE.length];
      for (int j = 0; j < x.length; j++) x[j] = Float.parseFloat(v[2 + j]);
      out.add(x);
    }
    return out;
  }

  /** The Bayes classifier (the sign of the informative columns' standardized sum) on the table's rows. */
  private static double bayesAccuracy(Path table) throws Exception {
    List<Integer> labels = new ArrayList<>();
    List<float[]> x = rows(table, labels);
    int right = 0;
    for (int i = 0; i < x.size(); i++) {
      double s = 0;
      for (int j = 0; j < INFORMATIVE; j++) s += (x.get(i)[j] - OFFSET[j]) / SCALE[j];
      if ((s > 0 ? 1 : 0) == labels.get(i)) right++;
    }
    return right / (double) x.size();
  }

  private static CliRun train(String... extra) {
    List<String> args = new ArrayList<>(List.of("train.path=" + train, "test.path=" + test, LAYERS, "classes=2",
        "epochs=6", "batch.size=128", "optimizer=adam", "lr=0.003", "progress=plain"));
    args.addAll(List.of(extra));
    return CliRun.of(Train::run, args.toArray(new String[0]));
  }

  private static double finalAccuracy(CliRun r) {
    Matcher m = Pattern.compile("final test accuracy ([0-9.]+)").matcher(r.out());
    assertTrue(m.find(), r.out());
    return Double.parseDouble(m.group(1));
  }

  @Test
  void standardizedFeaturesReachTheBayesAccuracyAndTheModelKeepsTheScaling() throws Exception {
    Path out = dir.resolve("std");
    CliRun r = train("out=" + out).expect(0, "(12 feature columns: f0, f1, f2, f3, ..., f11)",
        "features.scale=standard: standard over 12 columns (1 constant, left as they are), from 20000 training rows",
        "WARNING: f10 holds the same value in every training row: left unscaled");
    double acc = finalAccuracy(r);
    assertTrue(Math.abs(acc - bayes) <= 0.01, "test accuracy " + acc + " against the Bayes classifier's " + bayes);

    SavedModel m = ModelStore.load(out.resolve("model").toString());
    assertEquals(dev.sparkprop.data.FeatureScaling.Kind.STANDARD, m.scaling().kind());
    List<String> names = new ArrayList<>();
    for (int j = 0; j < SCALE.length; j++) names.add("f" + j);
    assertEquals(names, m.featureColumns(), "every numeric column but the label; not the text id");
    float[] shift = m.scaling().shift();
    float[] scale = m.scaling().scale();
    for (int j = 0; j < SCALE.length; j++) {
      if (j == CONSTANT) {
        assertEquals(0f, shift[j]);
        assertEquals(1f, scale[j]);
        continue;
      }
      double sd = SCALE[j] * (j < INFORMATIVE ? Math.sqrt(1 + MU * MU) : 1);
      assertEquals(OFFSET[j], shift[j], 0.05 * sd, "mean of f" + j);
      assertEquals(sd, scale[j], 0.03 * sd, "standard deviation of f" + j);
    }

    // evaluate reads the model's columns and scaling: the run's own final figures
    CliRun e = CliRun.of(Evaluate::run, "model=" + out.resolve("model"), "data=" + test).expect(0, "10000 images");
    assertTrue(e.out().contains(String.format("accuracy %.4f", acc)), e.out());

    // ONNX Runtime on the raw rows: the same accuracy (products in another order may flip a near tie)
    List<Integer> labels = new ArrayList<>();
    List<float[]> x = rows(test, labels);
    int w = SCALE.length;
    float[] flat = new float[x.size() * w];
    for (int i = 0; i < x.size(); i++) System.arraycopy(x.get(i), 0, flat, i * w, w);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    int right = 0;
    try (OrtSession session = env.createSession(Files.readAllBytes(out.resolve("model").resolve("model.onnx")));
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(flat), new long[] {x.size(), w});
        OrtSession.Result res = session.run(Map.of("features", in))) {
      float[][] p = (float[][]) res.get(0).getValue();
      for (int i = 0; i < p.length; i++) if ((p[i][1] > p[i][0] ? 1 : 0) == labels.get(i)) right++;
    }
    assertEquals(acc, right / (double) x.size(), 2e-3, "ONNX Runtime's accuracy on the raw features");
  }

  /** The same table unscaled: the network cannot use columns of such different sizes, which is why auto scales them. */
  @Test
  void withoutScalingTheSameNetworkFallsFarShort() {
    CliRun r = train("out=" + dir.resolve("none"), "features.scale=none").expect(0, "final test accuracy");
    assertFalse(r.out().contains("features.scale=none:"), "nothing computed");
    double acc = finalAccuracy(r);
    assertTrue(acc < bayes - 0.05, "unscaled accuracy " + acc + " against the Bayes classifier's " + bayes);
  }

  /** A resume reads the scaling from the checkpoint (it does not compute it again) and ends bit for bit as an uninterrupted run. */
  @Test
  void aResumeKeepsTheCheckpointsScaling() throws Exception {
    Path whole = dir.resolve("whole");
    train("out=" + whole, "epochs=3", "features.scale=minmax").expect(0, "features.scale=minmax: minmax over 12 columns");
    Path cut = dir.resolve("cut");
    train("out=" + cut, "epochs=3", "features.scale=minmax", "checkpoint.every=1").expect(0);
    // as if the run had died in its second epoch: its model and every checkpoint after the first epoch's gone
    deleteTree(cut.resolve("model"));
    List<Path> ckpts;
    try (var l = Files.list(cut.resolve("checkpoints"))) {
      ckpts = l.filter(p -> p.getFileName().toString().startsWith("ckpt-")).sorted().toList();
    }
    assertEquals(2, ckpts.size(), "checkpoints after epochs 1 and 2: " + ckpts);
    deleteTree(ckpts.get(1));
    CliRun resumed = train("out=" + cut, "epochs=3", "features.scale=minmax", "checkpoint.every=1")
        .expect(0, "resuming from checkpoint", "epoch 2, step 0");
    assertFalse(resumed.out().contains("features.scale=minmax:"), "the resume computed the statistics again:\n" + resumed.out());
    SavedModel a = ModelStore.load(whole.resolve("model").toString());
    SavedModel b = ModelStore.load(cut.resolve("model").toString());
    assertEquals(a.scaling(), b.scaling());
    assertArrayEquals(a.params(), b.params(), "resumed parameters");
  }

  /** Three species named by strings: the classes in sorted order, kept in the model, given back by predict. */
  @Test
  void stringLabelsAreClassesInSortedOrder() throws Exception {
    String[] species = {"virginica", "setosa", "versicolor"};
    Random r = new Random(7);
    Path d = Files.createDirectories(dir.resolve("species"));
    for (String name : List.of("train", "test")) {
      StringBuilder sb = new StringBuilder("label,a,b\n");
      for (int i = 0; i < (name.equals("train") ? 3000 : 600); i++) {
        int k = r.nextInt(3);
        sb.append(species[k]).append(',').append((float) (4 * k + r.nextGaussian())).append(',')
            .append((float) (1e3 * r.nextGaussian())).append('\n');
      }
      Files.writeString(d.resolve(name + ".csv"), sb);
    }
    Path out = dir.resolve("species-run");
    CliRun run = CliRun.of(Train::run, "train.path=" + d.resolve("train.csv"), "test.path=" + d.resolve("test.csv"),
        "layers=dense(8) relu, dense(3) softmax", "epochs=4", "out=" + out, "progress=plain").expect(0,
        "labels: 3 classes from the training labels, in sorted order: 0=setosa, 1=versicolor, 2=virginica");
    double acc = finalAccuracy(run);
    assertTrue(acc > 0.95, "accuracy " + acc);
    SavedModel m = ModelStore.load(out.resolve("model").toString());
    assertEquals(List.of("setosa", "versicolor", "virginica"), m.labels());
    CliRun.of(Evaluate::run, "model=" + out.resolve("model"), "data=" + d.resolve("test.csv"))
        .expect(0, String.format("accuracy %.4f", acc));
    Path pred = dir.resolve("species-pred");
    CliRun.of(Predict::run, "model=" + out.resolve("model"), "data=" + d.resolve("test.csv"), "out=" + pred).expect(0);
    List<String> lines = new ArrayList<>();
    try (var l = Files.list(pred)) {
      for (Path p : l.filter(p -> p.toString().endsWith(".csv")).sorted().toList()) lines.addAll(Files.readAllLines(p));
    }
    assertTrue(lines.get(0).startsWith("id,prediction,prediction_label,prob_0"), lines.get(0));
    List<String> truth = Files.readAllLines(d.resolve("test.csv"));
    int right = 0;
    int rows = 0;
    for (String l : lines) {
      if (l.startsWith("id,")) continue;
      String[] v = l.split(",");
      assertEquals(m.labels().get(Integer.parseInt(v[1])), v[2], "prediction_label names the predicted class");
      if (truth.get(1 + Integer.parseInt(v[0])).startsWith(v[2] + ",")) right++;
      rows++;
    }
    assertEquals(600, rows);
    assertEquals(acc, right / 600.0, 5e-5, "predict's labels are the evaluation's classes");

    // a test label the training rows never had, and an output layer of another width, are refused before training
    Files.writeString(d.resolve("rose.csv"), "label,a,b\nsetosa,1,2\nrose,3,4\n");
    CliRun.of(Train::run, "train.path=" + d.resolve("train.csv"), "test.path=" + d.resolve("rose.csv"),
        "layers=dense(8) relu, dense(3) softmax", "epochs=1", "out=" + dir.resolve("rose-run"))
        .expect(2, "error: test.path: the test data has label rose that the training data does not");
    CliRun.of(Train::run, "train.path=" + d.resolve("train.csv"), "test.path=" + d.resolve("test.csv"),
        "layers=dense(8) relu, dense(4) softmax", "epochs=1", "out=" + dir.resolve("four-run"))
        .expect(2, "error: classes: the training labels name 3 classes (setosa, versicolor, virginica) but the network has 4 outputs");
  }

  /**
   * Regression (loss=mse): a linear target with noise over features on scales 1e-3..1e4. A
   * linear network reaches the least-squares fit's R^2 on the test rows (computed here by the
   * normal equations on the raw training rows); evaluate, predict, metrics.csv, model.json and
   * ONNX Runtime on the raw rows all give the run's own figures; two targets by label.columns.
   */
  @Test
  void aRegressionReachesTheLeastSquaresFit() throws Exception {
    int w = 6;
    double[] beta = {2, -1, 0.5, 0, 1.5, -0.75};
    Random r = new Random(21);
    Path d = Files.createDirectories(dir.resolve("reg"));
    List<double[]> trainX = new ArrayList<>();
    List<Double> trainY = new ArrayList<>();
    List<double[]> testX = new ArrayList<>();
    List<Double> testY = new ArrayList<>();
    for (String name : List.of("train", "test")) {
      StringBuilder sb = new StringBuilder("label,y2");
      for (int j = 0; j < w; j++) sb.append(",x").append(j);
      sb.append('\n');
      for (int i = 0; i < (name.equals("train") ? 20_000 : 5_000); i++) {
        double[] x = new double[w];
        double y = 3;
        for (int j = 0; j < w; j++) {
          double z = r.nextGaussian();
          x[j] = (float) (SCALE[j * 2] * (z + 3));
          y += beta[j] * z;
        }
        y += 0.8 * r.nextGaussian();
        double y2 = 100 * x[0] / SCALE[0] + r.nextGaussian();
        (name.equals("train") ? trainX : testX).add(x);
        (name.equals("train") ? trainY : testY).add((double) (float) y);
        sb.append((float) y).append(',').append((float) y2);
        for (double v : x) sb.append(',').append((float) v);
        sb.append('\n');
      }
      Files.writeString(d.resolve(name + ".csv"), sb);
    }
    double leastSquares = r2OfLeastSquares(trainX, trainY, testX, testY);
    Path out = dir.resolve("reg-run");
    CliRun run = CliRun.of(Train::run, "train.path=" + d.resolve("train.csv"), "test.path=" + d.resolve("test.csv"),
        "loss=mse", "layers=dense(1)", "features.columns=x0,x1,x2,x3,x4,x5", "epochs=8", "batch.size=128", "optimizer=adam",
        "lr=0.01", "out=" + out, "progress=plain").expect(0, "label.scale=standard: 1 target");
    Matcher m = Pattern.compile("final test mse ([0-9.e+-]+), rmse [0-9.e+-]+, mae [0-9.e+-]+, r2 ([0-9.-]+)").matcher(run.out());
    assertTrue(m.find(), run.out());
    double r2 = Double.parseDouble(m.group(2));
    System.out.printf("regression: test R^2 %.4f, least squares %.4f%n", r2, leastSquares);
    assertTrue(Math.abs(r2 - leastSquares) <= 0.02, "R^2 " + r2 + " against the least-squares fit's " + leastSquares);
    assertTrue(Files.readString(out.resolve("metrics.csv")).startsWith(dev.sparkprop.run.EpochMetrics.REGRESSION_CSV_HEADER));
    SavedModel model = ModelStore.load(out.resolve("model").toString());
    assertEquals(List.of("label"), model.labels(), "a regression's outputs are named after its targets");
    assertEquals(dev.sparkprop.data.FeatureScaling.Kind.STANDARD, model.targetScaling().kind());
    assertEquals(r2, ((Number) ((Map<?, ?>) model.info().get("metrics")).get("test_r2")).doubleValue(), 1e-4);
    CliRun.of(Evaluate::run, "model=" + out.resolve("model"), "data=" + d.resolve("test.csv"))
        .expect(0, "5000 rows", String.format("r2 %.4f", r2));
    // ONNX Runtime on the raw feature columns: the predictions predict writes, in the target's units
    Path pred = dir.resolve("reg-pred");
    CliRun.of(Predict::run, "model=" + out.resolve("model"), "data=" + d.resolve("test.csv"), "out=" + pred).expect(0);
    double[] predicted = new double[testX.size()];
    try (var l = Files.list(pred)) {
      for (Path p : l.filter(p -> p.toString().endsWith(".csv")).toList()) {
        for (String line : Files.readAllLines(p)) {
          if (line.startsWith("id,")) continue;
          String[] v = line.split(",");
          predicted[Integer.parseInt(v[0])] = Double.parseDouble(v[1]);
        }
      }
    }
    float[] flat = new float[testX.size() * w];
    for (int i = 0; i < testX.size(); i++) for (int j = 0; j < w; j++) flat[i * w + j] = (float) testX.get(i)[j];
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(Files.readAllBytes(out.resolve("model").resolve("model.onnx")));
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(flat), new long[] {testX.size(), w});
        OrtSession.Result res = session.run(Map.of("features", in))) {
      float[][] p = (float[][]) res.get("predictions").get().getValue();
      for (int i = 0; i < p.length; i++) {
        assertEquals(predicted[i], p[i][0], 1e-4 * Math.max(1, Math.abs(predicted[i])), "row " + i);
      }
    }
    // two targets by name, and a text value in a target named
    CliRun.of(Train::run, "train.path=" + d.resolve("train.csv"), "test.path=" + d.resolve("test.csv"), "loss=mse",
        "label.columns=label,y2", "layers=dense(16) relu, dense(2)", "epochs=3", "out=" + dir.resolve("reg2-run"),
        "progress=plain").expect(0, "label.scale=standard: 2 targets", "(6 feature columns: x0, x1, x2, x3, x4, x5)");
    Files.writeString(d.resolve("bad.csv"), "label,x0\n1.5,2\nabc,3\n");
    CliRun.of(Train::run, "train.path=" + d.resolve("bad.csv"), "test.path=" + d.resolve("bad.csv"), "loss=mse",
        "layers=dense(1)", "epochs=1", "out=" + dir.resolve("reg-bad")).expect(3, "column label: 'abc' is not a number");
  }

  /** R^2 on the test rows of the least-squares fit (with an intercept) on the training rows, by the normal equations. */
  private static double r2OfLeastSquares(List<double[]> x, List<Double> y, List<double[]> tx, List<Double> ty) {
    int k = x.get(0).length + 1;
    org.ejml.data.DMatrixRMaj a = new org.ejml.data.DMatrixRMaj(k, k);
    org.ejml.data.DMatrixRMaj b = new org.ejml.data.DMatrixRMaj(k, 1);
    for (int i = 0; i < x.size(); i++) {
      double[] row = new double[k];
      row[0] = 1;
      System.arraycopy(x.get(i), 0, row, 1, k - 1);
      for (int p = 0; p < k; p++) {
        b.add(p, 0, row[p] * y.get(i));
        for (int q = 0; q < k; q++) a.add(p, q, row[p] * row[q]);
      }
    }
    org.ejml.data.DMatrixRMaj coef = new org.ejml.data.DMatrixRMaj(k, 1);
    assertTrue(org.ejml.dense.row.CommonOps_DDRM.solve(a, b, coef));
    double mean = 0;
    for (double v : ty) mean += v;
    mean /= ty.size();
    double sse = 0;
    double sst = 0;
    for (int i = 0; i < tx.size(); i++) {
      double f = coef.get(0);
      for (int j = 1; j < k; j++) f += coef.get(j) * tx.get(i)[j - 1];
      sse += (ty.get(i) - f) * (ty.get(i) - f);
      sst += (ty.get(i) - mean) * (ty.get(i) - mean);
    }
    return 1 - sse / sst;
  }

  /**
   * features.missing: an empty value is refused by its row and column by default; with mean it
   * becomes its column's training mean (kept in the model), in evaluate and in the ONNX graph,
   * which takes NaN for it.
   */
  @Test
  void missingValuesAreRefusedOrFilledWithTheTrainingMean() throws Exception {
    Random r = new Random(31);
    Path d = Files.createDirectories(dir.resolve("missing"));
    List<float[]> testRows = new ArrayList<>();
    List<Integer> testLabels = new ArrayList<>();
    double present = 0;
    int presentCount = 0;
    for (String name : List.of("train", "test")) {
      StringBuilder sb = new StringBuilder("label,a,b\n");
      for (int i = 0; i < (name.equals("train") ? 4000 : 1000); i++) {
        int y = r.nextInt(2);
        float a = (float) (2 * y + r.nextGaussian());
        float b = (float) (100 * r.nextGaussian() + 50 * y);
        boolean gone = r.nextDouble() < 0.15;
        if (name.equals("train") && !gone) {
          present += a;
          presentCount++;
        }
        if (name.equals("test")) {
          testRows.add(new float[] {gone ? Float.NaN : a, b});
          testLabels.add(y);
        }
        sb.append(y).append(',').append(gone ? "" : String.valueOf(a)).append(',').append(b).append('\n');
      }
      Files.writeString(d.resolve(name + ".csv"), sb);
    }
    String[] common = {"train.path=" + d.resolve("train.csv"), "test.path=" + d.resolve("test.csv"),
        "layers=dense(8) relu, dense(2) softmax", "epochs=3", "progress=plain"};
    List<String> refused = new ArrayList<>(List.of(common));
    refused.add("out=" + dir.resolve("missing-error"));
    CliRun.of(Train::run, refused.toArray(new String[0]))
        .expect(3, "column a: empty (features.missing=mean fills a missing value)");
    Path out = dir.resolve("missing-mean");
    List<String> filled = new ArrayList<>(List.of(common));
    filled.addAll(List.of("features.missing=mean", "out=" + out));
    CliRun run = CliRun.of(Train::run, filled.toArray(new String[0])).expect(0, "features.missing=mean: ",
        "a missing value replaced by its column's training mean");
    double acc = finalAccuracy(run);
    SavedModel m = ModelStore.load(out.resolve("model").toString());
    assertTrue(m.scaling().fillsMissing());
    assertEquals(present / presentCount, m.scaling().fill()[0], 1e-4, "the fill is the training rows' mean of the values present");
    CliRun.of(Evaluate::run, "model=" + out.resolve("model"), "data=" + d.resolve("test.csv"))
        .expect(0, String.format("accuracy %.4f", acc));
    float[] flat = new float[testRows.size() * 2];
    for (int i = 0; i < testRows.size(); i++) System.arraycopy(testRows.get(i), 0, flat, 2 * i, 2);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    int right = 0;
    try (OrtSession session = env.createSession(Files.readAllBytes(out.resolve("model").resolve("model.onnx")));
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(flat), new long[] {testRows.size(), 2});
        OrtSession.Result res = session.run(Map.of("features", in))) {
      float[][] p = (float[][]) res.get(0).getValue();
      for (int i = 0; i < p.length; i++) if ((p[i][1] > p[i][0] ? 1 : 0) == testLabels.get(i)) right++;
    }
    assertEquals(acc, right / (double) testRows.size(), 2e-3, "ONNX Runtime, NaN for a missing value");
  }

  /** A regression resumed from a checkpoint keeps its feature and target scalings and ends bit for bit as an uninterrupted run. */
  @Test
  void aRegressionResumesBitForBit() throws Exception {
    Random r = new Random(41);
    Path d = Files.createDirectories(dir.resolve("reg-resume"));
    StringBuilder sb = new StringBuilder("label,a,b\n");
    for (int i = 0; i < 3000; i++) {
      double a = r.nextGaussian();
      double b = r.nextGaussian();
      sb.append((float) (500 + 80 * a - 30 * b + 5 * r.nextGaussian())).append(',').append((float) (1e-3 * a)).append(',')
          .append((float) (1e4 * b)).append('\n');
    }
    Files.writeString(d.resolve("t.csv"), sb);
    String[] args = {"train.path=" + d.resolve("t.csv"), "test.path=" + d.resolve("t.csv"), "loss=mse",
        "layers=dense(8) relu, dense(1)", "epochs=3", "checkpoint.every=1", "progress=plain"};
    List<String> whole = new ArrayList<>(List.of(args));
    whole.add("out=" + dir.resolve("reg-whole"));
    CliRun.of(Train::run, whole.toArray(new String[0])).expect(0, "label.scale=standard: 1 target");
    Path cut = dir.resolve("reg-cut");
    List<String> cutArgs = new ArrayList<>(List.of(args));
    cutArgs.add("out=" + cut);
    CliRun.of(Train::run, cutArgs.toArray(new String[0])).expect(0);
    deleteTree(cut.resolve("model"));
    try (var l = Files.list(cut.resolve("checkpoints"))) {
      List<Path> ckpts = l.filter(p -> p.getFileName().toString().startsWith("ckpt-")).sorted().toList();
      deleteTree(ckpts.get(ckpts.size() - 1));
    }
    CliRun resumed = CliRun.of(Train::run, cutArgs.toArray(new String[0])).expect(0, "resuming from checkpoint");
    assertFalse(resumed.out().contains("label.scale=standard:") || resumed.out().contains("features.scale=standard:"),
        "the resume computed the statistics again:\n" + resumed.out());
    SavedModel a = ModelStore.load(dir.resolve("reg-whole").resolve("model").toString());
    SavedModel b = ModelStore.load(cut.resolve("model").toString());
    assertEquals(a.targetScaling(), b.targetScaling());
    assertEquals(a.scaling(), b.scaling());
    assertArrayEquals(a.params(), b.params(), "resumed parameters");
  }

  private static void deleteTree(Path p) throws Exception {
    try (var w = Files.walk(p)) {
      for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
    }
  }
}
