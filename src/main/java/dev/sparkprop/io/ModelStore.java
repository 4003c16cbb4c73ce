package dev.sparkprop.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkprop.nn.NetworkSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Saves and loads {@link SavedModel}s as a directory through Hadoop's FileSystem API (local
 * paths, {@code hdfs://}, {@code s3a://}): {@code model.json} and one NumPy file per tensor. See
 * docs/MODEL_FORMAT.md.
 *
 * <p>Saving is atomic: everything is written into a hidden sibling directory which is then
 * renamed into place, so a crash mid-save leaves the previous model (or nothing) as it was. An
 * existing model is replaced only with {@code overwrite}. Loading checks everything (format and
 * version, architecture, each file's sha256, length and .npy header) and never deserialises Java
 * objects.
 */
public final class ModelStore {
  public static final String FORMAT = "sparkprop-model";
  public static final int FORMAT_VERSION = 1;
  public static final String MANIFEST = "model.json";
  /** The network and its parameters as an ONNX model ({@link OnnxExport}), beside the tensors. */
  public static final String ONNX = "model.onnx";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ModelStore() {}

  /** True if {@code dir} holds a model (its manifest). */
  public static boolean exists(String dir) throws IOException {
    Path p = new Path(dir);
    return HadoopFiles.fs(p).exists(new Path(p, MANIFEST));
  }

  /** Saves a model with its model.onnx. */
  public static void save(String dir, SavedModel model, boolean overwrite) throws IOException {
    save(dir, model, overwrite, true);
  }

  /**
   * Saves a model, atomically; {@code onnx}: with model.onnx (checkpoints, written every few steps
   * for a resume, go without).
   */
  public static void save(String dir, SavedModel model, boolean overwrite, boolean onnx) throws IOException {
    Path target = new Path(dir);
    FileSystem fs = HadoopFiles.fs(target);
    target = fs.makeQualified(target);
    if (fs.exists(target) && !overwrite) {
      throw new BadModelException(dir + ": already exists; refusing to overwrite it (set overwrite=true, or choose another out=)");
    }
    Path parent = target.getParent();
    fs.mkdirs(parent);
    String stamp = Long.toHexString(System.nanoTime());
    Path tmp = new Path(parent, "." + target.getName() + ".tmp-" + stamp);
    try {
      fs.mkdirs(tmp);
      NetworkSpec spec = model.spec();
      ObjectNode root = JSON.createObjectNode();
      root.put("format", FORMAT);
      root.put("format_version", FORMAT_VERSION);
      root.put("library_version", Version.get());
      NetworkJson.write(root.putObject("network"), spec);
      ArrayNode tensors = root.putArray("tensors");
      for (int l = 0; l < spec.numLayers(); l++) {
        if (!spec.hasWeights(l)) continue;
        int[] w = spec.weightShape(l);
        writeTensor(fs, tmp, tensors, tensorName(spec, l, "W"), Npy.encode(model.params(), spec.weightOffset(l), w), w, "network");
        writeTensor(fs, tmp, tensors, tensorName(spec, l, "b"), Npy.encode(model.params(), spec.biasOffset(l),
            new int[] {spec.out(l)}), new int[] {spec.out(l)}, "network");
      }
      ObjectNode input = root.putObject("input");
      input.put("scaling", model.scaling().kind().key());
      if (model.scaling().kind() != dev.sparkprop.data.FeatureScaling.Kind.NONE) {
        int[] w = {model.scaling().width()};
        writeTensor(fs, tmp, tensors, SHIFT, Npy.encode(model.scaling().shift(), 0, w), w, "input");
        writeTensor(fs, tmp, tensors, SCALE, Npy.encode(model.scaling().scale(), 0, w), w, "input");
        input.put("shift", SHIFT).put("scale", SCALE);
      }
      if (model.scaling().fillsMissing()) {
        int[] w = {model.scaling().width()};
        writeTensor(fs, tmp, tensors, FILL, Npy.encode(model.scaling().fill(), 0, w), w, "input");
        input.put("missing", "mean").put("fill", FILL);
      }
      ArrayNode columns = input.putArray("columns");
      for (String c : model.featureColumns()) columns.add(c);
      ObjectNode output = root.putObject("output");
      ArrayNode labels = output.putArray("labels");
      for (String l : model.labels()) labels.add(l);
      output.put("scaling", model.targetScaling().kind().key());
      if (!model.targetScaling().isNone()) {
        int[] w = {model.targetScaling().width()};
        writeTensor(fs, tmp, tensors, OUT_SHIFT, Npy.encode(model.targetScaling().shift(), 0, w), w, "output");
        writeTensor(fs, tmp, tensors, OUT_SCALE, Npy.encode(model.targetScaling().scale(), 0, w), w, "output");
        output.put("shift", OUT_SHIFT).put("scale", OUT_SCALE);
      }
      for (Map.Entry<String, float[]> e : model.extraTensors().entrySet()) {
        float[] a = e.getValue();
        writeTensor(fs, tmp, tensors, e.getKey(), Npy.encode(a, 0, new int[] {a.length}), new int[] {a.length}, "extra");
      }
      if (onnx) {
        byte[] bytes = OnnxExport.write(spec, model.params(), model.scaling(), model.targetScaling(), Version.get());
        try (OutputStream out = fs.create(new Path(tmp, ONNX), true)) {
          out.write(bytes);
        }
        root.putObject("onnx").put("file", ONNX).put("opset", OnnxExport.OPSET).put("input", OnnxExport.INPUT)
            .put("output", OnnxExport.outputName(spec)).put("bytes", bytes.length).put("sha256", sha256(bytes));
      }
      root.set("info", JSON.valueToTree(model.info()));
      try (OutputStream out = fs.create(new Path(tmp, MANIFEST), true)) {
        JSON.writeValue(out, root);
      }
      if (fs.exists(target)) {
        Path old = new Path(parent, "." + target.getName() + ".old-" + stamp);
        if (!fs.rename(target, old)) throw new IOException("could not move the old " + target + " aside");
        if (!fs.rename(tmp, target)) {
          fs.rename(old, target);
          throw new IOException("could not rename " + tmp + " to " + target);
        }
        fs.delete(old, true);
      } else if (!fs.rename(tmp, target)) {
        throw new IOException("could not rename " + tmp + " to " + target);
      }
    } finally {
      if (fs.exists(tmp)) fs.delete(tmp, true);
    }
  }

  /** The feature scaling's tensors: {@code x' = (x - input_shift) / input_scale} (docs/MODEL_FORMAT.md). */
  static final String SHIFT = "input_shift";
  static final String SCALE = "input_scale";
  /** {@code features.missing=mean}: a missing (NaN) input's replacement, per column. */
  static final String FILL = "input_fill";
  /** A regression's target scaling: predictions are {@code z * output_scale + output_shift}. */
  static final String OUT_SHIFT = "output_shift";
  static final String OUT_SCALE = "output_scale";

  /** {@code dense_L_W}, {@code conv_L_b}: the layer's kind and its place in the list (from 0). */
  static String tensorName(NetworkSpec spec, int l, String which) {
    return (spec.layer(l) instanceof NetworkSpec.Conv ? "conv_" : "dense_") + l + "_" + which;
  }

  private static void writeTensor(FileSystem fs, Path dir, ArrayNode index, String name, byte[] bytes, int[] shape,
      String role) throws IOException {
    String file = name + ".npy";
    try (OutputStream out = fs.create(new Path(dir, file), true)) {
      out.write(bytes);
    }
    ObjectNode t = index.addObject();
    t.put("name", name);
    t.put("file", file);
    t.put("role", role);
    t.put("dtype", "<f4");
    ArrayNode s = t.putArray("shape");
    for (int d : shape) s.add(d);
    t.put("bytes", bytes.length);
    t.put("sha256", sha256(bytes));
  }

  /** Loads and checks a model directory. */
  public static SavedModel load(String dir) throws IOException {
    return load(dir, true);
  }

  /**
   * Loads and checks a model directory except its model.onnx, which is neither read nor required:
   * for {@code export-onnx}, which writes that file again (so a deleted or damaged one is rebuilt).
   */
  public static SavedModel loadWithoutOnnx(String dir) throws IOException {
    return load(dir, false);
  }

  private static SavedModel load(String dir, boolean withOnnx) throws IOException {
    Path root = new Path(dir);
    FileSystem fs = HadoopFiles.fs(root);
    Path manifestPath = new Path(root, MANIFEST);
    if (!fs.exists(root)) throw new BadModelException(dir + ": no such model directory");
    if (!fs.exists(manifestPath)) throw new BadModelException(dir + ": no " + MANIFEST + "; is this a sparkprop model directory?");
    String where = manifestPath.toString();
    checkReadable(fs, root);
    checkReadable(fs, manifestPath);
    JsonNode m;
    try (InputStream in = open(fs, manifestPath)) {
      // strict: anything after the JSON object (an edit gone wrong, two files run together) is refused
      m = JSON.reader().with(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(in);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new BadModelException(where + ": not valid JSON: " + e.getOriginalMessage());
    }
    if (m == null || !m.isObject()) throw new BadModelException(where + ": expected a JSON object");
    if (!FORMAT.equals(m.path("format").asText())) {
      throw new BadModelException(where + ": format '" + m.path("format").asText() + "', expected '" + FORMAT + "'");
    }
    int version = m.path("format_version").asInt(-1);
    if (version != FORMAT_VERSION) {
      throw new BadModelException(where + ": format_version " + m.path("format_version") + ", this sparkprop reads version "
          + FORMAT_VERSION + " only");
    }
    NetworkSpec spec = NetworkJson.read(m.path("network"), where);
    float[] params = new float[spec.numParams()];
    Map<String, float[]> extra = new LinkedHashMap<>();
    Map<String, JsonNode> byName = new LinkedHashMap<>();
    for (JsonNode t : m.path("tensors")) byName.put(t.path("name").asText(), t);
    for (int l = 0; l < spec.numLayers(); l++) {
      if (!spec.hasWeights(l)) continue;
      String w = tensorName(spec, l, "W");
      String b = tensorName(spec, l, "b");
      readTensor(fs, root, byName.remove(w), w, spec.weightShape(l), params, spec.weightOffset(l), where);
      readTensor(fs, root, byName.remove(b), b, new int[] {spec.out(l)}, params, spec.biasOffset(l), where);
    }
    dev.sparkprop.data.FeatureScaling scaling = readScaling(fs, root, m.path("input"), byName, SHIFT, SCALE,
        spec.inputSize(), where);
    dev.sparkprop.data.FeatureScaling targetScaling = readScaling(fs, root, m.path("output"), byName, OUT_SHIFT, OUT_SCALE,
        spec.outputSize(), where);
    List<String> featureColumns = new ArrayList<>();
    for (JsonNode c : m.path("input").path("columns")) featureColumns.add(c.asText());
    if (!featureColumns.isEmpty() && featureColumns.size() != spec.inputSize()) {
      throw new BadModelException(where + ": input.columns lists " + featureColumns.size() + " columns, the network takes "
          + spec.inputSize());
    }
    List<String> labels = new ArrayList<>();
    for (JsonNode l : m.path("output").path("labels")) labels.add(l.asText());
    if (!labels.isEmpty() && labels.size() != spec.outputSize()) {
      throw new BadModelException(where + ": output.labels names " + labels.size() + " classes, the network has "
          + spec.outputSize() + " outputs");
    }
    for (Map.Entry<String, JsonNode> e : byName.entrySet()) {
      if (!"extra".equals(e.getValue().path("role").asText())) {
        throw new BadModelException(where + ": tensor '" + e.getKey() + "' does not belong to network " + spec);
      }
      JsonNode shape = e.getValue().path("shape");
      if (shape.size() != 1) throw new BadModelException(where + ": extra tensor '" + e.getKey() + "' must be 1-dimensional");
      float[] a = new float[shape.get(0).asInt()];
      readTensor(fs, root, e.getValue(), e.getKey(), new int[] {a.length}, a, 0, where);
      extra.put(e.getKey(), a);
    }
    if (withOnnx && m.has("onnx")) checkOnnx(fs, root, m.get("onnx"), where);
    @SuppressWarnings("unchecked")
    Map<String, Object> info = m.has("info") ? JSON.convertValue(m.get("info"), Map.class) : Map.of();
    return new SavedModel(spec, params, extra, info, scaling, featureColumns, labels, targetScaling);
  }

  /** The {@code input} (or {@code output}) object's scaling and its two tensors (a model without the object: none). */
  private static dev.sparkprop.data.FeatureScaling readScaling(FileSystem fs, Path root, JsonNode input,
      Map<String, JsonNode> byName, String shiftName, String scaleName, int width, String where) throws IOException {
    String kind = input.path("scaling").asText("none");
    dev.sparkprop.data.FeatureScaling.Kind k;
    try {
      k = dev.sparkprop.data.FeatureScaling.Kind.of(kind);
    } catch (IllegalArgumentException e) {
      throw new BadModelException(where + ": input.scaling: " + e.getMessage());
    }
    boolean fills = "mean".equals(input.path("missing").asText());
    if (k == dev.sparkprop.data.FeatureScaling.Kind.NONE && !fills) return dev.sparkprop.data.FeatureScaling.NONE;
    int[] w = {width};
    float[] shift = new float[w[0]];
    float[] scale = new float[w[0]];
    java.util.Arrays.fill(scale, 1f);
    if (k != dev.sparkprop.data.FeatureScaling.Kind.NONE) {
      readTensor(fs, root, byName.remove(shiftName), shiftName, w, shift, 0, where);
      readTensor(fs, root, byName.remove(scaleName), scaleName, w, scale, 0, where);
    }
    float[] fill = null;
    if (fills) {
      fill = new float[w[0]];
      readTensor(fs, root, byName.remove(FILL), FILL, w, fill, 0, where);
    }
    try {
      return dev.sparkprop.data.FeatureScaling.of(k, shift, scale, fill);
    } catch (IllegalArgumentException e) {
      throw new BadModelException(where + ": " + e.getMessage());
    }
  }

  /**
   * The model.onnx the manifest lists must be there with its recorded size and sha256 (a model
   * saved before ONNX export has no entry, and loads without it).
   */
  private static void checkOnnx(FileSystem fs, Path root, JsonNode entry, String where) throws IOException {
    String file = entry.path("file").asText();
    if (!ONNX.equals(file)) throw new BadModelException(where + ": onnx.file is '" + file + "', expected '" + ONNX + "'");
    Path p = new Path(root, file);
    if (!fs.exists(p)) {
      throw new BadModelException(p + ": missing (listed in " + MANIFEST + "); write it again with submit/export-onnx " + root);
    }
    readChecked(fs, p, entry);
  }

  private static void readTensor(FileSystem fs, Path root, JsonNode entry, String name, int[] shape, float[] dst, int off,
      String where) throws IOException {
    if (entry == null) throw new BadModelException(where + ": lists no tensor '" + name + "'");
    String file = entry.path("file").asText();
    if (file.isEmpty() || file.contains("/") || file.contains("\\") || file.startsWith(".")) {
      throw new BadModelException(where + ": tensor '" + name + "' has an invalid file name '" + file + "'");
    }
    if (!"<f4".equals(entry.path("dtype").asText())) {
      throw new BadModelException(where + ": tensor '" + name + "' has dtype '" + entry.path("dtype").asText()
          + "', expected '<f4' (float32, little-endian), the only one sparkprop writes and reads");
    }
    int[] declared = new int[entry.path("shape").size()];
    Iterator<JsonNode> it = entry.path("shape").elements();
    for (int i = 0; it.hasNext(); i++) declared[i] = it.next().asInt();
    if (!java.util.Arrays.equals(declared, shape)) {
      throw new BadModelException(where + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(declared)
          + " but the network needs " + java.util.Arrays.toString(shape));
    }
    Path p = new Path(root, file);
    if (!fs.exists(p)) throw new BadModelException(p + ": missing (listed in " + MANIFEST + " as tensor '" + name + "')");
    byte[] bytes = readChecked(fs, p, entry);
    Npy.decode(p.toString(), bytes, shape, dst, off);
    int count = 1;
    for (int d : shape) count *= d;
    // A checksum matches whatever was written: a NaN or an infinity put there on purpose (or by a
    // diverged run saved by hand) would evaluate to nonsense, so it is refused like any damage.
    for (int i = 0; i < count; i++) {
      float v = dst[off + i];
      if (!Float.isFinite(v)) {
        throw new BadModelException(p + ": tensor '" + name + "' holds " + v + " at index " + i + " (of " + count
            + "); a model's values must be finite: retrain it, or load another model");
      }
    }
  }

  /** The file's bytes, after its length and sha256 are checked against the manifest entry's {@code bytes} and {@code sha256}. */
  private static byte[] readChecked(FileSystem fs, Path p, JsonNode entry) throws IOException {
    checkReadable(fs, p);
    long len = fs.getFileStatus(p).getLen();
    long declaredBytes = entry.path("bytes").asLong(-1);
    if (len != declaredBytes) {
      throw new BadModelException(p + ": " + len + " bytes, " + MANIFEST + " says " + declaredBytes
          + (len < declaredBytes ? " (truncated)" : ""));
    }
    byte[] bytes = new byte[(int) len];
    try (InputStream in = open(fs, p)) {
      int n = in.readNBytes(bytes, 0, bytes.length);
      if (n != bytes.length) throw new BadModelException(p + ": truncated while reading (" + n + " of " + len + " bytes)");
    }
    String sum = sha256(bytes);
    if (!sum.equals(entry.path("sha256").asText())) {
      throw new BadModelException(p + ": sha256 " + sum + " does not match " + MANIFEST + " (" + entry.path("sha256").asText()
          + "); the file was changed or damaged");
    }
    return bytes;
  }

  /** A pipe, socket or device, or a file this user may not read, in place of a model's file: named. */
  private static void checkReadable(FileSystem fs, Path p) {
    String why = dev.sparkprop.data.InputFile.problem(fs, p);
    if (why != null) throw new BadModelException(p + ": " + why);
  }

  private static InputStream open(FileSystem fs, Path p) throws IOException {
    try {
      return fs.open(p);
    } catch (IOException e) {
      String denied = dev.sparkprop.data.InputFile.deniedMessage(p, e);
      if (denied != null) throw new BadModelException(denied);
      throw e;
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
