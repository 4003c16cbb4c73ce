package dev.sparkprop.nn;

/**
 * The convolution and pooling layers at the front of a {@link NetworkSpec}, forward and
 * backward, on reusable buffers (grown to the largest batch, then reused: nothing is allocated
 * per step). Part of a {@link Network}; not thread-safe.
 *
 * <p>Between its layers a batch is kept channel-major across the batch, C x N x H x W: then a
 * convolution of all N images is one matrix product, {@code Z (F, N Ho Wo) = W (F, C k k) *
 * cols (C k k, N Ho Wo)}, whose result is already C x N x H x W for the next layer (im2col). The
 * input (N x C x H x W, as the data holds it) is transposed once on the way in, and the output
 * once on the way out to N x (C H W), the flattened order of PyTorch and ONNX, which the dense
 * layers take. The three products of a convolution (forward, weight gradient, input gradient)
 * go through the network's {@link Gemm}.
 *
 * <p>Max pooling keeps the position of each window's maximum for the backward pass; of equal
 * values the first in row-major order within the window wins.
 *
 * <p>A convolution followed by pooling computes only the rows and columns of its output that a
 * pooling window covers: of the reference CNN's second convolution (11 x 11, pooled to 5 x 5 by
 * 2 x 2 windows) the top-left 10 x 10, 17% less work in its three products. The rest could only
 * ever be dropped by the pool, so the results are the same.
 */
final class ConvHead {
  private final NetworkSpec spec;
  private final int layers; // the head is spec layers 0 .. layers - 1
  private final HeadStage[] stages;
  private float[] input = new float[0]; // C x N x H x W of the network input
  StepTimes times; // the benchmark's breakdown (StepParts); null when training

  ConvHead(NetworkSpec spec, int layers, Gemm gemm) {
    this.spec = spec;
    this.layers = layers;
    stages = new HeadStage[layers];
    for (int l = 0; l < layers; l++) {
      if (spec.layer(l) instanceof NetworkSpec.Conv) {
        boolean poolNext = l + 1 < layers && spec.layer(l + 1) instanceof NetworkSpec.Pool;
        ConvStage c = new ConvStage(spec, l, gemm, poolNext);
        stages[l] = c;
        if (poolNext) stages[++l] = c.pool; // made by the convolution, its activation behind the pool
      } else {
        stages[l] = new PoolStage(spec, l);
      }
    }
  }

  /** The layers' weights from the flat parameters (read in place for a layer at offset 0). */
  void setParameters(float[] params) {
    for (HeadStage s : stages) if (s instanceof ConvStage c) c.setWeights(params);
  }

  /**
   * @param x the batch as the data holds it, (rows, C H W) from {@code xRow}, read only
   * @param flatOut the head's output, flattened per image: (rows, C' H' W') from {@code outRow}
   */
  void forward(float[] x, int xRow, int rows, float[] flatOut, int outRow) {
    NetworkSpec.Shape in = spec.inputShape();
    input = HeadStage.grow(input, in.size() * rows);
    long t0 = times != null ? times.start(-1) : 0;
    // copied (and for C > 1 transposed) so that the batch starts at 0: cheap beside the convolutions
    toChannels(x, xRow * in.size(), rows, in.c(), in.h() * in.w(), input, 0);
    if (times != null) times.layoutDone(t0);
    float[] cur = input;
    for (int l = 0; l < layers; l++) {
      t0 = times != null ? times.start(l) : 0;
      cur = stages[l].forward(cur, rows);
      if (times != null) times.forwardDone(l, t0);
    }
    NetworkSpec.Shape out = spec.shape(layers);
    t0 = times != null ? times.start(-1) : 0;
    toImages(cur, rows, out.c(), out.h() * out.w(), flatOut, outRow * out.size());
    if (times != null) times.layoutDone(t0);
  }

  /**
   * @param dFlat (rows, C' H' W'): the loss's gradient with respect to the flattened output, read only
   * @param grad flat gradient: the head's layers' dW and db are written
   */
  void backward(float[] dFlat, int rows, float[] grad) {
    NetworkSpec.Shape out = spec.shape(layers);
    HeadStage last = stages[layers - 1];
    long t0 = times != null ? times.start(-1) : 0;
    toChannels(dFlat, 0, rows, out.c(), out.h() * out.w(), last.outGrad(rows), 0);
    if (times != null) times.layoutDone(t0);
    for (int l = layers - 1; l >= 0; l--) {
      float[] below = l > 0 ? stages[l - 1].outGrad(rows) : null; // the input needs no gradient
      t0 = times != null ? times.start(l) : 0;
      stages[l].backward(rows, grad, below);
      if (times != null) times.backwardDone(l, t0);
    }
  }

  /** images (N x C x P, per image, from {@code from}) into channels (C x N x P, channel-major across the batch, from {@code to}). */
  private static void toChannels(float[] images, int from, int n, int c, int p, float[] channels, int to) {
    for (int k = 0; k < c; k++) {
      for (int i = 0; i < n; i++) System.arraycopy(images, from + (i * c + k) * p, channels, to + (k * n + i) * p, p);
    }
  }

  /** channels (C x N x P) into images (N x C x P, from {@code to}). */
  private static void toImages(float[] channels, int n, int c, int p, float[] images, int to) {
    for (int k = 0; k < c; k++) {
      for (int i = 0; i < n; i++) System.arraycopy(channels, (k * n + i) * p, images, to + (i * c + k) * p, p);
    }
  }

  /**
   * The sum of {@code a[from, from + n)} in double, in four independent running sums (one
   * dependent chain of adds costs four times as long; the order is fixed, so the bits are too).
   */
  static double sum(float[] a, int from, int n) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    int end = from + n;
    for (; i + 3 < end; i += 4) {
      s0 += a[i];
      s1 += a[i + 1];
      s2 += a[i + 2];
      s3 += a[i + 3];
    }
    for (; i < end; i++) s0 += a[i];
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * A float as an int of the same order (-0 as +0, so that they tie as floats do): the
   * comparisons of max pooling without branches.
   */
  static int key(float v) {
    int i = Float.floatToRawIntBits(v + 0f); // -0 + 0 = +0
    return i ^ ((i >> 31) & 0x7fffffff);
  }

  /** 1 if a > b, else 0, without a branch. */
  static int greater(int a, int b) {
    return (int) (((long) b - a) >>> 63);
  }
}
