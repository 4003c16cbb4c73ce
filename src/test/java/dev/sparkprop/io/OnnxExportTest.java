package dev.sparkprop.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.train.TestData;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The exported ONNX model, run by ONNX Runtime, against this library's forward pass: trained
 * networks on the 10,000 MNIST test images (the same class for every image, probabilities within
 * 1e-5), and a small network with every layer option on random input.
 */
class OnnxExportTest {
  private static final String CNN = "conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax";

  @Test
  void aTrainedMlpGivesTheSameClassesAndProbabilitiesOnTheTestSet() throws Exception {
    NetworkSpec spec = NetworkSpec.of(new int[] {784, 512, 10}, Activation.RELU);
    sameOnTheTestSet(spec, trained(spec, 300, 100, 0.1f), 0.9);
  }

  @Test
  void aTrainedCnnGivesTheSameClassesAndProbabilitiesOnTheTestSet() throws Exception {
    NetworkSpec spec = NetworkSpec.parse(CNN, new NetworkSpec.Shape(1, 28, 28), Activation.RELU);
    assertEquals(225_034, spec.numParams());
    sameOnTheTestSet(spec, trained(spec, 150, 64, 0.05f), 0.9);
  }

  /** Stride 2, 'same' padding with an odd total, a pool whose stride differs from its size, every activation. */
  @Test
  void everyLayerOptionMatchesOnRandomInput() throws Exception {
    NetworkSpec spec = NetworkSpec.parse("conv(3,3,stride=2,same) tanh, pool(3,2), conv(4,2,same) sigmoid, "
        + "conv(5,2) identity, dense(7) relu, dense(6) tanh, dense(5) sigmoid, dense(4) identity, dense(3) softmax",
        new NetworkSpec.Shape(2, 13, 11), Activation.RELU);
    Random r = new Random(3);
    float[] params = new float[spec.numParams()];
    for (int i = 0; i < params.length; i++) params[i] = (float) r.nextGaussian() * 0.5f;
    int rows = 37;
    float[] x = new float[rows * spec.inputSize()];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    float[] ours = forward(spec, params, x, rows);
    float[] theirs = runOnnx(OnnxExport.write(spec, params, "test"), x, rows, spec.inputSize(), spec.outputSize());
    assertEquals(0, maxDiff(ours, theirs), 1e-5);
  }

  /**
   * A scaled model's graph takes the raw features: ONNX Runtime on raw values of very different
   * scales (1e-3 .. 1e4) gives the probabilities of this library's forward pass on the values the
   * model's scaling makes of them, and the same bits of the scaled input (Sub, then Div, in float).
   */
  @Test
  void aFeatureScalingIsInTheGraph() throws Exception {
    NetworkSpec spec = NetworkSpec.of(new int[] {6, 16, 3}, Activation.RELU);
    Random r = new Random(5);
    float[] params = new float[spec.numParams()];
    for (int i = 0; i < params.length; i++) params[i] = (float) r.nextGaussian() * 0.5f;
    float[] shift = {1e-3f, -2f, 50f, 0f, 4000f, 0.5f};
    float[] scale = {2e-3f, 3f, 10f, 1f, 1500f, 0.25f};
    dev.sparkprop.data.FeatureScaling scaling = dev.sparkprop.data.FeatureScaling.of(
        dev.sparkprop.data.FeatureScaling.Kind.STANDARD, shift, scale);
    int rows = 41;
    float[] raw = new float[rows * 6];
    for (int i = 0; i < raw.length; i++) raw[i] = shift[i % 6] + scale[i % 6] * (float) r.nextGaussian();
    float[] scaled = raw.clone();
    scaling.apply(scaled, rows, 6);
    float[] ours = forward(spec, params, scaled, rows);
    float[] theirs = runOnnx(OnnxExport.write(spec, params, scaling, "test"), raw, rows, 6, 3);
    assertEquals(0, maxDiff(ours, theirs), 1e-5);
    for (int i = 0; i < rows; i++) assertEquals(argmax(ours, i * 3, 3), argmax(theirs, i * 3, 3), "row " + i);
    float[] unscaled = runOnnx(OnnxExport.write(spec, params, "test"), raw, rows, 6, 3);
    assertTrue(maxDiff(ours, unscaled) > 1e-2, "without the scaling nodes the same raw rows give other probabilities");
  }

  /** The committed CNN fixture ('same' padding on a 4x5 map, pooling, tanh), whose probabilities PyTorch computed. */
  @Test
  void theCommittedCnnFixtureGivesPyTorchsProbabilities() throws Exception {
    java.nio.file.Path fixture = TestData.projectDir().resolve("src/test/resources/fixtures/model-cnn-v1");
    SavedModel m = ModelStore.load(fixture.toString());
    float[] x = new float[40];
    for (int i = 0; i < 40; i++) x[i] = ((i * 5) % 11 - 5) / 4f;
    float[] p = runOnnx(OnnxExport.write(m.spec(), m.params(), "test"), x, 1, 40, 2);
    assertEquals(0.4841983281794841, p[0], 1e-6);
    assertEquals(0.515801671820516, p[1], 1e-6);
  }

  /** A saved model holds model.onnx, listed in model.json with its size and sha256, and equal to a fresh export. */
  @Test
  void aSavedModelHoldsItsOnnxExport(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    NetworkSpec spec = NetworkSpec.parse(CNN, new NetworkSpec.Shape(1, 28, 28), Activation.RELU);
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 1);
    String target = dir.resolve("m").toString();
    ModelStore.save(target, new SavedModel(spec, params, Map.of(), Map.of()), false);
    byte[] onnx = java.nio.file.Files.readAllBytes(dir.resolve("m/model.onnx"));
    assertEquals(java.util.Arrays.toString(OnnxExport.write(spec, params, Version.get())), java.util.Arrays.toString(onnx));
    String manifest = java.nio.file.Files.readString(dir.resolve("m/model.json"));
    assertTrue(manifest.contains("\"sha256\" : \"" + ModelStore.sha256(onnx) + "\""), manifest);
    assertTrue(manifest.contains("\"opset\" : 13"), manifest);
    ModelStore.load(target); // checks it
  }

  /** export-onnx on a model saved without model.onnx: adds it, tensors unchanged; a missing model is exit 3. */
  @Test
  void exportOnnxAddsItToAnOlderModel(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path old = dir.resolve("old");
    java.nio.file.Path fixture = TestData.projectDir().resolve("src/test/resources/fixtures/model-cnn-v1");
    java.nio.file.Files.createDirectories(old);
    try (var files = java.nio.file.Files.list(fixture)) {
      for (java.nio.file.Path f : files.toList()) java.nio.file.Files.copy(f, old.resolve(f.getFileName()));
    }
    SavedModel before = ModelStore.load(old.toString());
    java.io.ByteArrayOutputStream text = new java.io.ByteArrayOutputStream();
    assertEquals(0, dev.sparkprop.cli.ExportOnnx.run(new String[] {"model=" + old}, new java.io.PrintStream(text, true)));
    assertTrue(text.toString().startsWith("wrote " + old + "/model.onnx"), text.toString());
    SavedModel after = ModelStore.load(old.toString());
    org.junit.jupiter.api.Assertions.assertArrayEquals(before.params(), after.params());
    assertEquals(before.spec(), after.spec());
    assertEquals(java.util.Arrays.toString(OnnxExport.write(after.spec(), after.params(), Version.get())),
        java.util.Arrays.toString(java.nio.file.Files.readAllBytes(old.resolve("model.onnx"))));
    assertEquals(3, dev.sparkprop.cli.ExportOnnx.run(new String[] {"model=" + dir.resolve("none")}, System.out));
    // a deleted model.onnx (still listed in model.json) is written again, not refused with advice to run export-onnx
    java.nio.file.Files.delete(old.resolve("model.onnx"));
    assertEquals(3, dev.sparkprop.cli.Evaluate.run(new String[] {"model=" + old, "data=x"}, System.out));
    assertEquals(0, dev.sparkprop.cli.ExportOnnx.run(new String[] {"model=" + old}, System.out));
    assertEquals(java.util.Arrays.toString(OnnxExport.write(after.spec(), after.params(), Version.get())),
        java.util.Arrays.toString(java.nio.file.Files.readAllBytes(old.resolve("model.onnx"))));
    org.junit.jupiter.api.Assertions.assertArrayEquals(before.params(), ModelStore.load(old.toString()).params());
  }

  /** Plain SGD on the first rows of the training set, so that the classes are decided, not ties. */
  private static float[] trained(NetworkSpec spec, int steps, int batch, float lr) throws Exception {
    DataSpec data = TestData.mnist("train");
    int rows = steps * batch;
    Shard all = ShardReader.read(data.imagesPath, data.labelsPath, 10, rows, data.features, 0, ShardReader.ranges(rows, 1));
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 42);
    float[] grad = new float[params.length];
    int[] labels = new int[batch];
    int[] order = new int[rows];
    for (int i = 0; i < rows; i++) order[i] = i;
    Network net = new Network(spec, dev.sparkprop.nn.Kernel.OPENBLAS.gemm());
    for (int k = 0; k < steps; k++) {
      net.setParameters(params);
      all.gatherRows(order, k * batch, batch, net.input(batch).data, labels);
      net.forwardBackward(batch, labels, 0, grad);
      for (int i = 0; i < params.length; i++) params[i] -= lr * grad[i] / batch;
    }
    return params;
  }

  private static void sameOnTheTestSet(NetworkSpec spec, float[] params, double minAccuracy) throws Exception {
    DataSpec test = TestData.mnist("t10k");
    int n = (int) test.count;
    Shard all = ShardReader.read(test.imagesPath, test.labelsPath, 10, n, test.features, 0, ShardReader.ranges(n, 1));
    float[] x = new float[n * spec.inputSize()];
    all.copyRows(0, n, x);
    float[] ours = forward(spec, params, x, n);
    float[] theirs = runOnnx(OnnxExport.write(spec, params, "test"), x, n, spec.inputSize(), spec.outputSize());
    int classes = spec.outputSize();
    int differ = 0;
    int correct = 0;
    for (int i = 0; i < n; i++) {
      int a = argmax(ours, i * classes, classes);
      if (a != argmax(theirs, i * classes, classes)) differ++;
      if (a == all.labels()[i]) correct++;
    }
    double diff = maxDiff(ours, theirs);
    System.out.printf("%s: %d test images, accuracy %.4f, classes differing %d, largest probability difference %.2e%n",
        spec, n, correct / (double) n, differ, diff);
    assertTrue(correct >= minAccuracy * n, "the network should be trained: accuracy " + correct / (double) n);
    assertEquals(0, differ, "images whose class differs between ONNX Runtime and sparkprop");
    assertTrue(diff <= 1e-5, "largest probability difference " + diff);
  }

  /** sparkprop's forward pass, 500 rows at a time. */
  private static float[] forward(NetworkSpec spec, float[] params, float[] x, int rows) {
    Network net = new Network(spec, dev.sparkprop.nn.Kernel.OPENBLAS.gemm());
    net.setParameters(params);
    int f = spec.inputSize();
    int classes = spec.outputSize();
    float[] out = new float[rows * classes];
    int[] labels = new int[500];
    for (int s = 0; s < rows; s += 500) {
      int n = Math.min(500, rows - s);
      System.arraycopy(x, s * f, net.input(n).data, 0, n * f);
      net.forward(n, labels, 0);
      System.arraycopy(net.output().data, 0, out, s * classes, n * classes);
    }
    return out;
  }

  private static float[] runOnnx(byte[] model, float[] x, int rows, int features, int classes) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(model, options);
        OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {rows, features});
        OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, input))) {
      OnnxTensor out = (OnnxTensor) result.get(OnnxExport.OUTPUT).orElseThrow();
      long[] shape = out.getInfo().getShape();
      assertEquals(rows, shape[0]);
      assertEquals(classes, shape[1]);
      FloatBuffer b = out.getFloatBuffer();
      float[] a = new float[b.remaining()];
      b.get(a);
      return a;
    }
  }

  private static int argmax(float[] a, int off, int n) {
    int best = 0;
    for (int k = 1; k < n; k++) if (a[off + k] > a[off + best]) best = k;
    return best;
  }

  private static double maxDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }
}
