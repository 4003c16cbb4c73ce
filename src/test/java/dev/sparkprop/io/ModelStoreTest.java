package dev.sparkprop.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Network;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model directory format: round trip, atomic save, and every kind of damaged model refused. */
class ModelStoreTest {
  @TempDir Path dir;

  private static final NetworkSpec SPEC = NetworkSpec.of(new int[] {6, 5, 3}, Activation.TANH);

  private static SavedModel model(long seed) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("metrics", Map.of("test_accuracy", 0.5));
    float[] p = new Initializer(Initializer.Kind.GLOROT, 0, 0).initialize(SPEC, seed);
    return new SavedModel(SPEC, p, Map.of("optimizer_m", new float[] {1f, 2f}), info);
  }

  private String saved() throws Exception {
    String target = dir.resolve("m").toString();
    ModelStore.save(target, model(1), false);
    return target;
  }

  private static void assertMessage(Exception e, String... parts) {
    for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
  }

  @Test
  void roundTripIsBitExactWithInfoAndExtraTensors() throws Exception {
    String target = saved();
    SavedModel back = ModelStore.load(target);
    assertEquals(SPEC, back.spec());
    assertArrayEquals(model(1).params(), back.params());
    assertArrayEquals(new float[] {1f, 2f}, back.extraTensors().get("optimizer_m"));
    assertEquals(0.5, ((Map<?, ?>) back.info().get("metrics")).get("test_accuracy"));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "no temporary directory left next to the model");
    }
  }

  /** The feature scaling and the feature columns travel with the model, bit for bit; a bad scale is refused by name. */
  @Test
  void theInputsScalingAndColumnsRoundTrip() throws Exception {
    SavedModel plain = model(1);
    dev.sparkprop.data.FeatureScaling scaling = dev.sparkprop.data.FeatureScaling.of(
        dev.sparkprop.data.FeatureScaling.Kind.MINMAX, new float[] {0.1f, -3f, 1e4f, 0f, 2.5e-3f, 7f},
        new float[] {1.5f, 0.25f, 3e3f, 1f, 1e-3f, 9f});
    SavedModel m = new SavedModel(SPEC, plain.params(), Map.of(), Map.of(), scaling, List.of("a", "b", "c", "d", "e", "f"));
    String target = dir.resolve("scaled").toString();
    ModelStore.save(target, m, false);
    SavedModel back = ModelStore.load(target);
    assertEquals(scaling, back.scaling());
    assertArrayEquals(scaling.scale(), back.scaling().scale());
    assertEquals(List.of("a", "b", "c", "d", "e", "f"), back.featureColumns());
    assertTrue(Files.readString(Path.of(target, "model.json")).contains("\"scaling\" : \"minmax\""));
    // a model without scaling reads as none, with no input tensors
    assertTrue(ModelStore.load(saved()).scaling().isNone());
    // a zero scale put in by hand is named
    byte[] zeros = Npy.encode(new float[6], 0, new int[] {6});
    Files.write(Path.of(target, "input_scale.npy"), zeros);
    String json = Files.readString(Path.of(target, "model.json"));
    String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(zeros));
    json = json.replaceAll("(\"name\" : \"input_scale\"[^}]*\"sha256\" : \")[0-9a-f]+", "$1" + sha);
    Files.writeString(Path.of(target, "model.json"), json);
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.load(target));
    assertMessage(e, "feature scaling: column 0 has shift 0.1 and scale 0.0");
  }

  @Test
  void existingModelIsNeverOverwrittenUnlessAsked() throws Exception {
    String target = saved();
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.save(target, model(2), false));
    assertMessage(e, target, "overwrite=true");
    assertArrayEquals(model(1).params(), ModelStore.load(target).params(), "untouched");
    ModelStore.save(target, model(2), true);
    assertArrayEquals(model(2).params(), ModelStore.load(target).params());
  }

  @Test
  void aSaveThatFailsHalfWayLeavesThePreviousModelIntact() throws Exception {
    String target = saved();
    Map<String, float[]> broken = new HashMap<>();
    broken.put("optimizer_v", null); // fails after the network's tensors were written
    SavedModel bad = new SavedModel(SPEC, model(3).params(), broken, Map.of());
    assertThrows(NullPointerException.class, () -> ModelStore.save(target, bad, true));
    assertArrayEquals(model(1).params(), ModelStore.load(target).params(), "the previous model is intact");
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "the half-written directory was removed");
    }
  }

  @Test
  void missingTensorFileIsNamed() throws Exception {
    String target = saved();
    Files.delete(Path.of(target, "dense_1_W.npy"));
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.load(target));
    assertMessage(e, "dense_1_W.npy", "missing");
  }

  @Test
  void truncatedTensorFileIsNamed() throws Exception {
    String target = saved();
    Path f = Path.of(target, "dense_0_W.npy");
    byte[] b = Files.readAllBytes(f);
    Files.write(f, java.util.Arrays.copyOf(b, b.length - 8));
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.load(target));
    assertMessage(e, "dense_0_W.npy", "truncated");
  }

  @Test
  void tamperedTensorFailsItsChecksum() throws Exception {
    String target = saved();
    Path f = Path.of(target, "dense_0_b.npy");
    byte[] b = Files.readAllBytes(f);
    b[b.length - 1] ^= 0x40;
    Files.write(f, b);
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.load(target));
    assertMessage(e, "dense_0_b.npy", "sha256", "does not match");
  }

  /** Checksums match whatever was written: a NaN or an infinity saved with them is refused on load, naming the tensor and index. */
  @Test
  void nonFiniteValuesAreRefusedOnLoad(@TempDir Path tmp) throws Exception {
    NetworkSpec spec = NetworkSpec.of(new int[] {6, 5, 3}, Activation.RELU);
    float[] p = new float[spec.numParams()];
    p[spec.weightOffset(1) + 7] = Float.POSITIVE_INFINITY;
    String target = tmp.resolve("inf").toString();
    ModelStore.save(target, new SavedModel(spec, p, Map.of(), Map.of()), false);
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)),
        "dense_1_W.npy", "tensor 'dense_1_W' holds Infinity at index 7 (of 15)");
    String extra = tmp.resolve("extra").toString();
    ModelStore.save(extra, new SavedModel(spec, new float[spec.numParams()], Map.of("adam_m", new float[] {0, Float.NaN}), Map.of()), false);
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(extra)), "tensor 'adam_m' holds NaN at index 1 (of 2)");
  }

  /** A named pipe in place of a model's file is refused at once, naming it (a reader would block on it forever). */
  @Test
  void aPipeInPlaceOfAModelFileIsRefusedAtOnce() throws Exception {
    String target = saved();
    Path tensor = Path.of(target, "dense_0_b.npy");
    Files.delete(tensor);
    assertEquals(0, new ProcessBuilder("mkfifo", tensor.toString()).start().waitFor());
    BadModelException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
        () -> assertThrows(BadModelException.class, () -> ModelStore.load(target)));
    assertMessage(e, "dense_0_b.npy: is a named pipe (FIFO), not a regular file or folder");
  }

  @Test
  void shapesThatDoNotMatchTheManifestAreRefused() throws Exception {
    String target = saved();
    Path manifest = Path.of(target, "model.json");
    // The manifest claims another hidden size: the tensors' shapes no longer match it.
    Files.writeString(manifest, Files.readString(manifest).replaceFirst("\"layers\" : \\[ 6, 5, 3 \\]", "\"layers\" : [ 6, 4, 3 ]"));
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.load(target));
    assertMessage(e, "model.json", "dense_0_W", "shape [6, 5]", "needs [6, 4]");
  }

  @Test
  void npyHeaderShapeIsCheckedToo() throws Exception {
    String target = saved();
    // A .npy whose own header disagrees (same length, so only the header check can catch it).
    Path f = Path.of(target, "dense_0_W.npy");
    String text = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] swapped = text.replace("'shape': (6, 5)", "'shape': (5, 6)").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    Files.write(f, swapped);
    Path manifest = Path.of(target, "model.json");
    String json = Files.readString(manifest);
    String oldSum = ModelStore.sha256(text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    Files.writeString(manifest, json.replace(oldSum, ModelStore.sha256(swapped)));
    BadModelException e = assertThrows(BadModelException.class, () -> ModelStore.load(target));
    assertMessage(e, "dense_0_W.npy", "shape [5, 6], expected [6, 5]");
  }

  /** model.json is read strictly: a dtype other than float32, and anything after the JSON object, are refused. */
  @Test
  void anEditedDtypeAndTextAfterTheJsonAreRefused() throws Exception {
    String target = saved();
    Path manifest = Path.of(target, "model.json");
    String json = Files.readString(manifest);
    Files.writeString(manifest, json.replaceFirst("\"dtype\" : \"<f4\"", "\"dtype\" : \"<f8\""));
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "model.json", "has dtype '<f8'",
        "expected '<f4'");
    Files.writeString(manifest, json + "\n{\"more\": 1}\n");
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "model.json", "not valid JSON");
    Files.writeString(manifest, json + "\n\n");
    ModelStore.load(target); // white space after it is fine
  }

  @Test
  void wrongFormatVersionAndNonJsonAreRefused() throws Exception {
    String target = saved();
    Path manifest = Path.of(target, "model.json");
    String json = Files.readString(manifest);
    Files.writeString(manifest, json.replace("\"format_version\" : 1", "\"format_version\" : 99"));
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "format_version 99");
    Files.writeString(manifest, "{ not json");
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "model.json", "not valid JSON");
    Files.writeString(manifest, json.replace("\"file\" : \"dense_0_W.npy\"", "\"file\" : \"../../etc/passwd\""));
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "invalid file name");
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(dir.resolve("none").toString())),
        "no such model directory");
  }

  @Test
  void committedFixtureStillLoads() throws Exception {
    // src/test/resources/fixtures/model-v1 was written by format version 1; a format change
    // that cannot read it must be deliberate (bump the version, keep reading version 1).
    Path fixture = Path.of(System.getProperty("sparkprop.project.dir", "."), "src/test/resources/fixtures/model-v1");
    SavedModel m = ModelStore.load(fixture.toString());
    assertEquals(new NetworkSpec(new int[] {4, 3, 2}, new Activation[] {Activation.RELU, Activation.SOFTMAX}), m.spec());
    for (int i = 0; i < m.params().length; i++) assertEquals(((i % 7) - 3) / 8f, m.params()[i], 0f, "parameter " + i);
    Network net = new Network(m.spec());
    net.setParameters(m.params());
    float[] x = {1f, 0.5f, 0f, 2f};
    System.arraycopy(x, 0, net.input(1).data, 0, 4);
    net.forward(1, new int[] {0}, 0);
    // hidden = relu(x W0 + b0), logits = hidden W1 + b1, by hand
    float[] w0 = {-0.375f, -0.25f, -0.125f, 0f, 0.125f, 0.25f, 0.375f, -0.375f, -0.25f, -0.125f, 0f, 0.125f};
    float[] b0 = {0.25f, 0.375f, -0.375f};
    float[] w1 = {-0.25f, -0.125f, 0f, 0.125f, 0.25f, 0.375f};
    float[] b1 = {-0.375f, -0.25f};
    double[] h = new double[3];
    for (int j = 0; j < 3; j++) {
      double z = b0[j];
      for (int i = 0; i < 4; i++) z += x[i] * w0[i * 3 + j];
      h[j] = Math.max(0, z);
    }
    double z0 = b1[0];
    double z1 = b1[1];
    for (int j = 0; j < 3; j++) {
      z0 += h[j] * w1[j * 2];
      z1 += h[j] * w1[j * 2 + 1];
    }
    double p0 = 1 / (1 + Math.exp(z1 - z0));
    assertEquals(p0, net.output().data[0], 1e-6);
    assertFalse(m.info().isEmpty());
  }

  /**
   * The committed convolutional fixture (2x4x5 input; conv same, pool, conv valid, dense) loads
   * with its layer list, and its forward pass gives what PyTorch gives from the same .npy files
   * ({@code F.conv2d(x, conv_0_W, conv_0_b, padding=1)}, relu, {@code F.max_pool2d(2)},
   * {@code F.conv2d(., conv_2_W, conv_2_b)}, tanh, {@code flatten(1) @ dense_3_W + dense_3_b},
   * softmax; run on this fixture: 0.4841983281794841, 0.515801671820516). The .npy weights are
   * laid out as PyTorch's {@code Conv2d.weight}: out x in x kh x kw.
   */
  @Test
  void committedCnnFixtureLoadsAndMatchesPyTorch() throws Exception {
    Path fixture = Path.of(System.getProperty("sparkprop.project.dir", "."), "src/test/resources/fixtures/model-cnn-v1");
    SavedModel m = ModelStore.load(fixture.toString());
    assertEquals("2x4x5: conv(2,3,same) relu, pool(2), conv(3,2) tanh, dense(2) softmax", m.spec().toString());
    assertEquals(73, m.params().length);
    for (int i = 0; i < m.params().length; i++) assertEquals(((i % 7) - 3) / 8f, m.params()[i], 0f, "parameter " + i);
    Network net = new Network(m.spec());
    net.setParameters(m.params());
    for (int i = 0; i < 40; i++) net.input(1).data[i] = ((i * 5) % 11 - 5) / 4f;
    net.forward(1, new int[] {0}, 0);
    assertEquals(0.4841983281794841, net.output().data[0], 1e-6);
    assertEquals(0.515801671820516, net.output().data[1], 1e-6);
  }

  @Test
  void aCnnRoundTripsAndABadLayerIsNamed() throws Exception {
    NetworkSpec spec = NetworkSpec.parse("conv(4,3,stride=2,same) tanh, pool(2,1), conv(2,2) relu, dense(5), dense(3) softmax",
        new NetworkSpec.Shape(3, 9, 8), Activation.SIGMOID);
    float[] p = new Initializer(Initializer.Kind.GLOROT, 0, 0).initialize(spec, 7);
    String target = dir.resolve("cnn").toString();
    ModelStore.save(target, new SavedModel(spec, p, Map.of(), Map.of()), false);
    SavedModel back = ModelStore.load(target);
    assertEquals(spec, back.spec());
    assertArrayEquals(p, back.params());
    assertTrue(Files.exists(Path.of(target, "conv_0_W.npy")) && Files.exists(Path.of(target, "dense_3_W.npy")));
    Path manifest = Path.of(target, "model.json");
    String json = Files.readString(manifest);
    Files.writeString(manifest, json.replace("\"type\" : \"maxpool\"", "\"type\" : \"avgpool\""));
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "network.layers[1].type is 'avgpool'");
    Files.writeString(manifest, json.replace("\"padding\" : \"same\"", "\"padding\" : \"full\""));
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "network.layers[0].padding is 'full'");
    Files.writeString(manifest, json.replace("\"input_shape\" : [ 3, 9, 8 ]", "\"input_shape\" : [ 3, 2, 2 ]"));
    assertMessage(assertThrows(BadModelException.class, () -> ModelStore.load(target)), "needs an input of at least");
  }
}
