package dev.sparkprop.nn;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The architecture of a network and the layout of its parameters in one flat float array.
 *
 * <p>A network takes an input of {@link Shape} C x H x W (an MLP's input is N x 1 x 1) through a
 * list of layers: 2-D convolutions and max pooling (the head, on images), then dense layers (the
 * tail; the first one flattens what reaches it in C, H, W order, like PyTorch's and ONNX's
 * {@code flatten}). The last layer is dense with softmax, fused with the cross-entropy loss.
 *
 * <p>Parameters are laid out layer by layer as {@code W, b}: a dense layer's {@code W} row-major
 * with shape (in, out) (the notebook's {@code model.weights} order); a convolution's {@code W}
 * row-major with shape (filters, channels, kernel, kernel), PyTorch's {@code Conv2d.weight}.
 */
public final class NetworkSpec implements Serializable {
  private static final long serialVersionUID = 2L;

  /** A tensor's shape: channels x height x width (a dense layer's output is out x 1 x 1). */
  public record Shape(int c, int h, int w) implements Serializable {
    public int size() {
      return c * h * w;
    }

    @Override
    public String toString() {
      return c + "x" + h + "x" + w;
    }

    /** "C,H,W" as in {@code input.shape=1,28,28}. */
    public static Shape parse(String text) {
      String[] p = text.trim().split("\\s*,\\s*");
      if (p.length != 3) throw new IllegalArgumentException("expected C,H,W such as 1,28,28, got '" + text + "'");
      int[] v = new int[3];
      for (int i = 0; i < 3; i++) {
        try {
          v[i] = Integer.parseInt(p[i]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("expected C,H,W such as 1,28,28, got '" + text + "'");
        }
        if (v[i] <= 0) throw new IllegalArgumentException("every size must be positive, got '" + text + "'");
      }
      return new Shape(v[0], v[1], v[2]);
    }
  }

  /** A layer of the network. */
  public sealed interface Layer extends Serializable permits Dense, Conv, Pool {
    /** As written in {@code layers=}, e.g. {@code conv(32,3) relu}. */
    String describe();
  }

  /** A dense layer of {@code out} units. */
  public record Dense(int out, Activation activation) implements Layer {
    @Override
    public String describe() {
      return "dense(" + out + ") " + activation.configName();
    }
  }

  /**
   * A 2-D convolution: {@code filters} kernels of {@code kernel} x {@code kernel}, moved by
   * {@code stride}; {@code same} pads with zeros so that the output is ceil(input / stride)
   * (the padding split as TensorFlow does, the extra row and column at the bottom and right),
   * else ({@code valid}) no padding.
   */
  public record Conv(int filters, int kernel, int stride, boolean same, Activation activation) implements Layer {
    @Override
    public String describe() {
      return "conv(" + filters + "," + kernel + (stride != 1 ? ",stride=" + stride : "") + (same ? ",same" : "") + ") "
          + activation.configName();
    }
  }

  /** Max pooling over {@code size} x {@code size} windows moved by {@code stride}. */
  public record Pool(int size, int stride) implements Layer {
    @Override
    public String describe() {
      return "pool(" + size + (stride != size ? "," + stride : "") + ")";
    }
  }

  private final Shape input;
  private final Layer[] layers;
  private final Shape[] shapes; // shapes[l]: what reaches layer l; shapes[layers.length]: the output
  private final int[] weightOffsets; // -1 for a pooling layer
  private final int[] biasOffsets;
  private final int numParams;

  /**
   * A network of {@code layers} on inputs of {@code input}.
   *
   * @throws IllegalArgumentException naming the layer, the shape that reached it and what it
   *     needs, when the list does not fit the input
   */
  public NetworkSpec(Shape input, List<Layer> layers) {
    if (layers.isEmpty()) throw new IllegalArgumentException("layers: the list is empty");
    this.input = input;
    this.layers = layers.toArray(new Layer[0]);
    int n = this.layers.length;
    shapes = new Shape[n + 1];
    weightOffsets = new int[n];
    biasOffsets = new int[n];
    shapes[0] = input;
    long off = 0;
    boolean flat = input.h() == 1 && input.w() == 1;
    for (int l = 0; l < n; l++) {
      Layer layer = this.layers[l];
      Shape s = shapes[l];
      String at = layer.describe() + " (layer " + (l + 1) + ")";
      String reached = s + (l == 0 ? " (the input)" : " (after " + this.layers[l - 1].describe() + ")");
      if (layer instanceof Dense d) {
        if (d.out() <= 0) throw new IllegalArgumentException("layers: " + at + " needs a positive number of units");
        shapes[l + 1] = new Shape(d.out(), 1, 1);
        weightOffsets[l] = (int) off;
        off += (long) s.size() * d.out();
        biasOffsets[l] = (int) off;
        off += d.out();
        flat = true;
      } else if (layer instanceof Conv c) {
        if (flat && l > 0) throw new IllegalArgumentException("layers: " + at + " comes after a dense layer; convolutions take images");
        if (c.filters() <= 0 || c.kernel() <= 0 || c.stride() <= 0) {
          throw new IllegalArgumentException("layers: " + at + " needs positive filters, kernel and stride");
        }
        if (c.activation() == Activation.SOFTMAX) {
          throw new IllegalArgumentException("layers: " + at + ": softmax belongs to the output layer only");
        }
        if (!c.same() && (s.h() < c.kernel() || s.w() < c.kernel())) {
          throw new IllegalArgumentException("layers: " + at + " needs an input of at least " + c.kernel() + "x"
              + c.kernel() + ", but " + reached + " reaches it");
        }
        int ho = c.same() ? ceilDiv(s.h(), c.stride()) : (s.h() - c.kernel()) / c.stride() + 1;
        int wo = c.same() ? ceilDiv(s.w(), c.stride()) : (s.w() - c.kernel()) / c.stride() + 1;
        shapes[l + 1] = new Shape(c.filters(), ho, wo);
        weightOffsets[l] = (int) off;
        off += (long) c.filters() * s.c() * c.kernel() * c.kernel();
        biasOffsets[l] = (int) off;
        off += c.filters();
      } else {
        Pool p = (Pool) layer;
        if (flat && l > 0) throw new IllegalArgumentException("layers: " + at + " comes after a dense layer; pooling takes images");
        if (p.size() <= 0 || p.stride() <= 0) throw new IllegalArgumentException("layers: " + at + " needs a positive size and stride");
        if (s.h() < p.size() || s.w() < p.size()) {
          throw new IllegalArgumentException("layers: " + at + " needs an input of at least " + p.size() + "x" + p.size()
              + ", but " + reached + " reaches it");
        }
        shapes[l + 1] = new Shape(s.c(), (s.h() - p.size()) / p.stride() + 1, (s.w() - p.size()) / p.stride() + 1);
        weightOffsets[l] = -1;
        biasOffsets[l] = -1;
      }
      if (off > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("layers: " + describeLayers() + " need more than 2^31 parameters; one flat float "
            + "array cannot hold them");
      }
    }
    Layer last = this.layers[n - 1];
    if (!(last instanceof Dense d) || (d.activation() != Activation.SOFTMAX && d.activation() != Activation.IDENTITY)) {
      throw new IllegalArgumentException("layers: the output layer must be dense with softmax (classes; fused with the "
          + "cross-entropy loss) or identity (regression, loss=mse), got " + last.describe());
    }
    numParams = (int) off;
  }

  /** An MLP, as {@code layers=784,512,10} has always meant: one dense layer per size after the first. */
  public NetworkSpec(int[] sizes, Activation[] activations) {
    this(mlpInput(sizes), mlpLayers(sizes, activations));
  }

  private static Shape mlpInput(int[] sizes) {
    if (sizes.length < 2) {
      throw new IllegalArgumentException("layers: need at least an input and an output size, got " + Arrays.toString(sizes));
    }
    for (int s : sizes) {
      if (s <= 0) throw new IllegalArgumentException("layers: sizes must be positive, got " + Arrays.toString(sizes));
    }
    return new Shape(sizes[0], 1, 1);
  }

  private static List<Layer> mlpLayers(int[] sizes, Activation[] activations) {
    if (activations.length != sizes.length - 1) {
      throw new IllegalArgumentException("need one activation per layer: " + (sizes.length - 1)
          + " layers, " + activations.length + " activations");
    }
    List<Layer> out = new ArrayList<>();
    for (int l = 1; l < sizes.length; l++) out.add(new Dense(sizes[l], activations[l - 1]));
    return out;
  }

  /** Hidden layers share one activation; the output layer is softmax. */
  public static NetworkSpec of(int[] sizes, Activation hidden) {
    return of(sizes, hidden, Activation.SOFTMAX);
  }

  /** Hidden layers share one activation; the output layer has {@code output} (softmax, or identity for regression). */
  public static NetworkSpec of(int[] sizes, Activation hidden, Activation output) {
    Activation[] acts = new Activation[Math.max(0, sizes.length - 1)];
    Arrays.fill(acts, hidden);
    if (acts.length > 0) acts[acts.length - 1] = output;
    return new NetworkSpec(sizes, acts);
  }

  /** Whether the output layer is identity: a regression network, trained on squared error. */
  public boolean isRegression() {
    return ((Dense) layers[layers.length - 1]).activation() == Activation.IDENTITY;
  }

  private static final Pattern MLP = Pattern.compile("\\s*\\d+(\\s*,\\s*\\d+)+\\s*");

  /** Whether {@code layers} is a list of sizes ({@code 784,512,10}), not of layers. */
  public static boolean isSizeList(String layers) {
    return MLP.matcher(layers).matches();
  }

  /**
   * Reads a layer list such as {@code conv(32,3) relu, pool(2), conv(64,3) relu, pool(2),
   * dense(128) relu, dense(10) softmax} for inputs of {@code input}. A convolution is
   * {@code conv(FILTERS,KERNEL[,stride=S][,same|valid])}, pooling {@code pool(SIZE[,STRIDE])}
   * (stride defaults to the size), a dense layer {@code dense(UNITS)}; a convolution or dense
   * layer without an activation takes {@code hidden}, the last layer softmax.
   */
  public static NetworkSpec parse(String text, Shape input, Activation hidden, Activation output) {
    return new NetworkSpec(input, parseLayers(text, hidden, output));
  }

  public static NetworkSpec parse(String text, Shape input, Activation hidden) {
    return new NetworkSpec(input, parseLayers(text, hidden));
  }

  /** The layers of {@link #parse}, checked for syntax only (their fit to an input is checked by the constructor). */
  public static List<Layer> parseLayers(String text, Activation hidden) {
    return parseLayers(text, hidden, Activation.SOFTMAX);
  }

  /** As {@link #parseLayers(String, Activation)}, the last layer without an activation taking {@code output}. */
  public static List<Layer> parseLayers(String text, Activation hidden, Activation output) {
    return LayerList.parse(text, hidden, output);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  public int numLayers() {
    return layers.length;
  }

  public Layer layer(int l) {
    return layers[l];
  }

  /** The shape that reaches layer l ({@code l = numLayers()}: the output). */
  public Shape shape(int l) {
    return shapes[l];
  }

  public Shape inputShape() {
    return input;
  }

  /** Whether every layer is dense: an MLP, whose input may be any vector. */
  public boolean isDense() {
    for (Layer l : layers) if (!(l instanceof Dense)) return false;
    return true;
  }

  public int inputSize() {
    return input.size();
  }

  public int outputSize() {
    return shapes[layers.length].size();
  }

  /** A dense layer's inputs (the flattened shape that reaches it); a convolution's inputs per output value (C k k). */
  public int in(int l) {
    Layer layer = layers[l];
    if (layer instanceof Conv c) return shapes[l].c() * c.kernel() * c.kernel();
    if (layer instanceof Dense) return shapes[l].size();
    throw new IllegalArgumentException("layer " + (l + 1) + " (" + layer.describe() + ") has no weights");
  }

  /** A dense layer's units; a convolution's filters. */
  public int out(int l) {
    Layer layer = layers[l];
    if (layer instanceof Conv c) return c.filters();
    if (layer instanceof Dense d) return d.out();
    throw new IllegalArgumentException("layer " + (l + 1) + " (" + layer.describe() + ") has no weights");
  }

  /** Whether layer l has weights and biases (dense and convolution; not pooling). */
  public boolean hasWeights(int l) {
    return weightOffsets[l] >= 0;
  }

  /** The shape of layer l's {@code W}: (in, out) for dense, (filters, channels, kernel, kernel) for a convolution. */
  public int[] weightShape(int l) {
    Layer layer = layers[l];
    if (layer instanceof Conv c) return new int[] {c.filters(), shapes[l].c(), c.kernel(), c.kernel()};
    return new int[] {in(l), out(l)};
  }

  /** The activation of a dense or convolution layer; null for pooling. */
  public Activation activation(int l) {
    Layer layer = layers[l];
    if (layer instanceof Dense d) return d.activation();
    if (layer instanceof Conv c) return c.activation();
    return null;
  }

  public int weightOffset(int l) {
    return weightOffsets[l];
  }

  public int biasOffset(int l) {
    return biasOffsets[l];
  }

  public int numParams() {
    return numParams;
  }

  /**
   * Multiply-adds of layer l's forward product for one image: in x out for a dense layer,
   * (C k k) x filters x (Ho Wo) for a convolution, 0 for pooling.
   */
  public double macsPerRow(int l) {
    if (!hasWeights(l)) return 0;
    double macs = (double) in(l) * out(l);
    return layers[l] instanceof Conv ? macs * shapes[l + 1].h() * shapes[l + 1].w() : macs;
  }

  /**
   * Floating-point operations of one training step per image: forward and weight gradient of
   * every layer, input gradient of all but the first weighted layer (2 per multiply-add).
   */
  public double trainingFlopsPerRow() {
    double flops = 0;
    for (int l = 0; l < layers.length; l++) flops += trainingFlopsPerRow(l);
    return flops;
  }

  /**
   * Layer {@code l}'s share of {@link #trainingFlopsPerRow()}: 0 without weights, else 4 (forward,
   * weight gradient) or, after the first weighted layer, 6 (and input gradient) per multiply-add.
   * The one FLOP counter: the bench's GFLOP/s and the scaling model's compute terms use it.
   */
  public double trainingFlopsPerRow(int l) {
    if (!hasWeights(l)) return 0;
    boolean first = true;
    for (int k = 0; k < l && first; k++) first = !hasWeights(k);
    return (first ? 4 : 6) * macsPerRow(l);
  }

  /**
   * The largest matrix product of a step on {@code rows} images, as {rows, inner, cols} of
   * {@code A (rows x inner) B (inner x cols)}: a dense layer's {@code X W}, a convolution's
   * {@code W cols} (filters x C k k by C k k x rows Ho Wo). What {@code kernel=auto} times.
   */
  public int[] largestProduct(int rows) {
    int[] best = null;
    double bestMacs = -1;
    for (int l = 0; l < layers.length; l++) {
      if (!hasWeights(l)) continue;
      double macs = rows * macsPerRow(l);
      if (macs <= bestMacs) continue;
      bestMacs = macs;
      best = layers[l] instanceof Conv
          ? new int[] {out(l), in(l), rows * shapes[l + 1].h() * shapes[l + 1].w()}
          : new int[] {rows, in(l), out(l)};
    }
    return best;
  }

  /** An MLP's sizes, input first ({@code 784, 512, 10}). */
  public int[] sizes() {
    if (!isDense()) throw new IllegalStateException(this + " is not an MLP: it has no size list");
    int[] s = new int[layers.length + 1];
    for (int l = 0; l <= layers.length; l++) s[l] = shapes[l].size();
    return s;
  }

  /** The layer list as {@code layers=} writes it. */
  public String describeLayers() {
    StringBuilder sb = new StringBuilder();
    for (Layer l : layers) sb.append(sb.length() == 0 ? "" : ", ").append(l.describe());
    return sb.toString();
  }

  /** E.g. {@code 784-512(relu)-10(softmax)}, or {@code 1x28x28: conv(32,3) relu, pool(2), ...}. */
  @Override
  public String toString() {
    if (!isDense()) return input + ": " + describeLayers();
    StringBuilder sb = new StringBuilder().append(input.size());
    for (int l = 0; l < layers.length; l++) {
      sb.append('-').append(out(l)).append('(').append(activation(l).configName()).append(')');
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof NetworkSpec s)) return false;
    // an MLP's input is a vector: 784x1x1 equals itself whatever image it came from
    return Arrays.equals(layers, s.layers) && (isDense() ? input.size() == s.input.size() : input.equals(s.input));
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(layers) + (isDense() ? input.size() : input.hashCode());
  }
}
