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

  private static void deleteTree(Path p) throws Exception {
    try (var w = Files.walk(p)) {
      for (Path q : w.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
    }
  }
}
