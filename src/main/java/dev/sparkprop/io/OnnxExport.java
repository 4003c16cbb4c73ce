package dev.sparkprop.io;

import com.google.protobuf.CodedOutputStream;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.NetworkSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A network and its parameters as an ONNX model (opset 13, IR version 7), for any ONNX runtime.
 *
 * <p>Input {@code features}: float (N, inputSize), the rows as the data hold them (C, H, W
 * flattened for images, pixels as b / 255), scaled by the model's feature scaling first; output {@code probabilities}: float (N, classes). Dense layers are
 * {@code Gemm} with the (in, out) weights of the model format, convolutions {@code Conv} with the
 * (out, in, kh, kw) weights and explicit pads ({@code same} puts the odd pixel at the bottom and
 * right, as {@code ConvHead} does), pooling {@code MaxPool}; a {@code Reshape} to (N, C, H, W)
 * starts a convolutional network and a {@code Flatten} precedes its first dense layer.
 *
 * <p>The messages of {@code onnx.proto} are written field by field with protobuf-java's encoder
 * (on Spark's classpath already), so no generated classes and no second protobuf version are
 * needed; ONNX Runtime reads the result in the tests.
 */
public final class OnnxExport {
  private OnnxExport() {}

  public static final int OPSET = 13;
  public static final long IR_VERSION = 7;
  public static final String INPUT = "features";
  public static final String OUTPUT = "probabilities";

  // onnx.proto: TensorProto.DataType and AttributeProto.AttributeType values used here
  private static final int FLOAT = 1;
  private static final int INT64 = 7;
  private static final int ATTR_INT = 2;
  private static final int ATTR_INTS = 7;

  /** The model, its input read as it is, as the bytes of an ONNX {@code ModelProto}. */
  public static byte[] write(NetworkSpec spec, float[] params, String producerVersion) {
    return write(spec, params, dev.sparkprop.data.FeatureScaling.NONE, dev.sparkprop.data.FeatureScaling.NONE, producerVersion);
  }

  /** The model with a feature scaling and no target scaling. */
  public static byte[] write(NetworkSpec spec, float[] params, dev.sparkprop.data.FeatureScaling scaling,
      String producerVersion) {
    return write(spec, params, scaling, dev.sparkprop.data.FeatureScaling.NONE, producerVersion);
  }

  /** The graph's output: {@code probabilities} of a classifier, {@code predictions} of a regression. */
  public static String outputName(NetworkSpec spec) {
    return spec.isRegression() ? PREDICTIONS : OUTPUT;
  }

  /** A regression's output, in the targets' units. */
  public static final String PREDICTIONS = "predictions";

  /**
   * The model as the bytes of an ONNX {@code ModelProto}; a feature scaling other than none is
   * its first two nodes, {@code Sub} of the shifts and {@code Div} by the scales (the operations
   * {@link dev.sparkprop.data.FeatureScaling#apply} does in float), so the graph takes the raw
   * features.
   */
  public static byte[] write(NetworkSpec spec, float[] params, dev.sparkprop.data.FeatureScaling scaling,
      dev.sparkprop.data.FeatureScaling targetScaling, String producerVersion) {
    if (params.length != spec.numParams()) {
      throw new IllegalArgumentException("parameter array has " + params.length + " values, network " + spec
          + " needs " + spec.numParams());
    }
    List<byte[]> nodes = new ArrayList<>();
    List<byte[]> initializers = new ArrayList<>();
    String x = INPUT;
    if (scaling.fillsMissing()) { // a missing (NaN) value becomes its column's training mean
      int[] w = {scaling.width()};
      initializers.add(floatTensor(ModelStore.FILL, scaling.fill(), 0, w));
      String missing = node(nodes, "IsNaN", "input_isnan", List.of(x), List.of(), null);
      x = node(nodes, "Where", "input_filled", List.of(missing, ModelStore.FILL, x), List.of(), null);
    }
    if (scaling.kind() != dev.sparkprop.data.FeatureScaling.Kind.NONE) {
      int[] w = {scaling.width()};
      initializers.add(floatTensor(ModelStore.SHIFT, scaling.shift(), 0, w));
      initializers.add(floatTensor(ModelStore.SCALE, scaling.scale(), 0, w));
      x = node(nodes, "Sub", "input_sub", List.of(x, ModelStore.SHIFT), List.of(), null);
      x = node(nodes, "Div", "input_div", List.of(x, ModelStore.SCALE), List.of(), null);
    }
    boolean image = !spec.isDense();
    if (image) {
      NetworkSpec.Shape in = spec.inputShape();
      initializers.add(int64Tensor("input_shape", new long[] {-1, in.c(), in.h(), in.w()}));
      x = node(nodes, "Reshape", "reshape", List.of(x, "input_shape"), List.of(), "image");
    }
    int lastLayer = spec.numLayers() - 1;
    for (int l = 0; l <= lastLayer; l++) {
      NetworkSpec.Layer layer = spec.layer(l);
      String name = ModelStore.tensorName(spec, l, "");
      String out = l == lastLayer && targetScaling.isNone() ? outputName(spec) : null;
      if (layer instanceof NetworkSpec.Conv c) {
        NetworkSpec.Shape s = spec.shape(l);
        NetworkSpec.Shape o = spec.shape(l + 1);
        // the padding ConvHead uses for 'same': the odd pixel at the bottom and right
        int padH = c.same() ? Math.max(0, (o.h() - 1) * c.stride() + c.kernel() - s.h()) : 0;
        int padW = c.same() ? Math.max(0, (o.w() - 1) * c.stride() + c.kernel() - s.w()) : 0;
        initializers.add(floatTensor(name + "W", params, spec.weightOffset(l), spec.weightShape(l)));
        initializers.add(floatTensor(name + "b", params, spec.biasOffset(l), new int[] {spec.out(l)}));
        x = node(nodes, "Conv", name + "conv", List.of(x, name + "W", name + "b"), List.of(
            ints("kernel_shape", c.kernel(), c.kernel()), ints("strides", c.stride(), c.stride()),
            ints("pads", padH / 2, padW / 2, padH - padH / 2, padW - padW / 2)), null);
        x = activation(nodes, c.activation(), name, x, out);
      } else if (layer instanceof NetworkSpec.Pool p) {
        x = node(nodes, "MaxPool", "pool_" + l + "_max", List.of(x), List.of(
            ints("kernel_shape", p.size(), p.size()), ints("strides", p.stride(), p.stride())), out);
      } else {
        if (image) {
          x = node(nodes, "Flatten", "flatten_" + l, List.of(x), List.of(intAttr("axis", 1)), null);
          image = false;
        }
        initializers.add(floatTensor(name + "W", params, spec.weightOffset(l), spec.weightShape(l)));
        initializers.add(floatTensor(name + "b", params, spec.biasOffset(l), new int[] {spec.out(l)}));
        x = node(nodes, "Gemm", name + "gemm", List.of(x, name + "W", name + "b"), List.of(), null);
        x = activation(nodes, spec.activation(l), name, x, out);
      }
    }

    if (!targetScaling.isNone()) { // a regression's outputs back in the targets' units: z * scale + shift
      int[] w = {targetScaling.width()};
      initializers.add(floatTensor(ModelStore.OUT_SHIFT, targetScaling.shift(), 0, w));
      initializers.add(floatTensor(ModelStore.OUT_SCALE, targetScaling.scale(), 0, w));
      x = node(nodes, "Mul", "output_mul", List.of(x, ModelStore.OUT_SCALE), List.of(), null);
      x = node(nodes, "Add", "output_add", List.of(x, ModelStore.OUT_SHIFT), List.of(), outputName(spec));
    }
    Message graph = new Message();
    for (byte[] n : nodes) graph.bytes(1, n);
    graph.string(2, "sparkprop " + spec);
    for (byte[] t : initializers) graph.bytes(5, t);
    graph.bytes(11, valueInfo(INPUT, spec.inputSize()));
    graph.bytes(12, valueInfo(outputName(spec), spec.outputSize()));

    Message model = new Message();
    model.int64(1, IR_VERSION);
    model.string(2, "sparkprop");
    model.string(3, producerVersion);
    model.bytes(7, graph.toBytes());
    model.bytes(8, new Message().string(1, "").int64(2, OPSET).toBytes());
    return model.toBytes();
  }

  private static String activation(List<byte[]> nodes, Activation a, String name, String x, String out) {
    return switch (a) {
      case RELU -> node(nodes, "Relu", name + "relu", List.of(x), List.of(), out);
      case SIGMOID -> node(nodes, "Sigmoid", name + "sigmoid", List.of(x), List.of(), out);
      case TANH -> node(nodes, "Tanh", name + "tanh", List.of(x), List.of(), out);
      case SOFTMAX -> node(nodes, "Softmax", name + "softmax", List.of(x), List.of(intAttr("axis", 1)), out);
      case IDENTITY -> node(nodes, "Identity", name + "identity", List.of(x), List.of(), out);
    };
  }

  /** Adds a node; its output is {@code out}, or named after the node when null. Returns the output's name. */
  private static String node(List<byte[]> nodes, String op, String name, List<String> inputs, List<byte[]> attributes,
      String out) {
    String output = out != null ? out : name;
    Message n = new Message();
    for (String i : inputs) n.string(1, i);
    n.string(2, output);
    n.string(3, name);
    n.string(4, op);
    for (byte[] a : attributes) n.bytes(5, a);
    nodes.add(n.toBytes());
    return output;
  }

  private static byte[] intAttr(String name, long v) {
    return new Message().string(1, name).int64(3, v).int32(20, ATTR_INT).toBytes();
  }

  private static byte[] ints(String name, long... vs) {
    Message a = new Message().string(1, name);
    for (long v : vs) a.int64(8, v);
    return a.int32(20, ATTR_INTS).toBytes();
  }

  private static byte[] floatTensor(String name, float[] src, int offset, int[] shape) {
    int n = 1;
    for (int d : shape) n *= d;
    ByteBuffer raw = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(src, offset, n);
    Message t = new Message();
    for (int d : shape) t.int64(1, d);
    return t.int32(2, FLOAT).string(8, name).bytes(9, raw.array()).toBytes();
  }

  private static byte[] int64Tensor(String name, long[] values) {
    ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    raw.asLongBuffer().put(values);
    return new Message().int64(1, values.length).int32(2, INT64).string(8, name).bytes(9, raw.array()).toBytes();
  }

  /** A float tensor of shape (N, width), N named "N". */
  private static byte[] valueInfo(String name, int width) {
    byte[] shape = new Message()
        .bytes(1, new Message().string(2, "N").toBytes())
        .bytes(1, new Message().int64(1, width).toBytes()).toBytes();
    byte[] tensor = new Message().int32(1, FLOAT).bytes(2, shape).toBytes();
    byte[] type = new Message().bytes(1, tensor).toBytes();
    return new Message().string(1, name).bytes(2, type).toBytes();
  }

  /** One protobuf message, its fields written in order. */
  private static final class Message {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final CodedOutputStream out = CodedOutputStream.newInstance(buffer);

    private interface Write {
      void to(CodedOutputStream out) throws IOException;
    }

    /** The encoder writes to memory; an IOException from it is a bug, not a condition to handle. */
    private Message put(Write w) {
      try {
        w.to(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return this;
    }

    Message int64(int field, long v) {
      return put(o -> o.writeInt64(field, v));
    }

    Message int32(int field, int v) {
      return put(o -> o.writeInt32(field, v));
    }

    Message string(int field, String v) {
      return put(o -> o.writeString(field, v));
    }

    Message bytes(int field, byte[] v) {
      return put(o -> o.writeByteArray(field, v));
    }

    byte[] toBytes() {
      put(CodedOutputStream::flush);
      return buffer.toByteArray();
    }
  }
}
