package dev.sparkprop.nn;

import org.ejml.data.FMatrixRMaj;

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
  private final Gemm gemm;
  private final int layers; // the head is spec layers 0 .. layers - 1
  private final Stage[] stages;
  private float[] input = new float[0]; // C x N x H x W of the network input

  ConvHead(NetworkSpec spec, int layers, Gemm gemm) {
    this.spec = spec;
    this.gemm = gemm;
    this.layers = layers;
    stages = new Stage[layers];
    for (int l = 0; l < layers; l++) {
      boolean poolNext = l + 1 < layers && spec.layer(l + 1) instanceof NetworkSpec.Pool;
      Activation before = l > 0 && spec.layer(l - 1) instanceof NetworkSpec.Conv c ? c.activation() : Activation.IDENTITY;
      stages[l] = spec.layer(l) instanceof NetworkSpec.Conv ? new ConvStage(l, poolNext) : new PoolStage(l, before);
    }
    for (int l = 0; l + 1 < layers; l++) {
      if (stages[l] instanceof ConvStage c && stages[l + 1] instanceof PoolStage p) {
        c.pool = p;
        p.h = c.ho; // the pool reads the part of the map the convolution computed
        p.wd = c.wo;
      }
    }
  }

  /** The layers' weights from the flat parameters (read in place for a layer at offset 0). */
  void setParameters(float[] params) {
    for (Stage s : stages) if (s instanceof ConvStage c) c.setWeights(params);
  }

  /**
   * @param x the batch as the data holds it, (rows, C H W) from {@code xRow}, read only
   * @param flatOut the head's output, flattened per image: (rows, C' H' W') from {@code outRow}
   */
  void forward(float[] x, int xRow, int rows, float[] flatOut, int outRow) {
    NetworkSpec.Shape in = spec.inputShape();
    input = grow(input, in.size() * rows);
    // copied (and for C > 1 transposed) so that the batch starts at 0: cheap beside the convolutions
    toChannels(x, xRow * in.size(), rows, in.c(), in.h() * in.w(), input, 0);
    float[] cur = input;
    for (Stage s : stages) cur = s.forward(cur, rows);
    NetworkSpec.Shape out = spec.shape(layers);
    toImages(cur, rows, out.c(), out.h() * out.w(), flatOut, outRow * out.size());
  }

  /**
   * @param dFlat (rows, C' H' W'): the loss's gradient with respect to the flattened output, read only
   * @param grad flat gradient: the head's layers' dW and db are written
   */
  void backward(float[] dFlat, int rows, float[] grad) {
    NetworkSpec.Shape out = spec.shape(layers);
    Stage last = stages[layers - 1];
    toChannels(dFlat, 0, rows, out.c(), out.h() * out.w(), last.outGrad(rows), 0);
    for (int l = layers - 1; l >= 0; l--) {
      float[] below = l > 0 ? stages[l - 1].outGrad(rows) : null; // the input needs no gradient
      stages[l].backward(rows, grad, below);
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

  private static float[] grow(float[] a, int n) {
    return a.length >= n ? a : new float[n];
  }

  /** One layer of the head. */
  private abstract class Stage {
    final int layer;
    final NetworkSpec.Shape in;
    final NetworkSpec.Shape out;
    float[] dOut = new float[0]; // dL/d(output), C x N x H x W

    Stage(int layer) {
      this.layer = layer;
      this.in = spec.shape(layer);
      this.out = spec.shape(layer + 1);
    }

    /** Runs the layer on {@code x} (C x N x H x W); returns its output (its own buffer). */
    abstract float[] forward(float[] x, int rows);

    /** The buffer for the gradient with respect to this layer's output, sized for {@code rows}. */
    float[] outGrad(int rows) {
      dOut = grow(dOut, out.size() * rows);
      return dOut;
    }

    /** From {@link #dOut}: this layer's parameter gradients into {@code grad}, and (if given) dL/d(input) into {@code dIn}. */
    abstract void backward(int rows, float[] grad, float[] dIn);
  }

  /**
   * A convolution. Followed by pooling, its activation moves behind the pool: every activation
   * here is non-decreasing, so f(max z) = max f(z), and the pool's output is four times smaller
   * than the convolution's, which is then never passed over by the activation forward or
   * backward (the largest arrays of the network: of the reference CNN's first layer, 32 x 26 x
   * 26 per image).
   */
  private final class ConvStage extends Stage {
    final NetworkSpec.Conv conv;
    final boolean activationInPool;
    PoolStage pool; // the pool right after this convolution, or null
    final int ckk;
    final int ho; // the output rows and columns computed: all, or those a pool after it covers
    final int wo;
    final int padTop;
    final int padLeft;
    final FMatrixRMaj w; // (F, C k k)
    final FMatrixRMaj dw = new FMatrixRMaj(1, 1);
    final FMatrixRMaj cols = new FMatrixRMaj(1, 1); // (C k k, N Ho Wo)
    final FMatrixRMaj z = new FMatrixRMaj(1, 1); // (F, N Ho Wo): pre-activation, then the output in place
    final FMatrixRMaj dz = new FMatrixRMaj(1, 1);
    final FMatrixRMaj dcols = new FMatrixRMaj(1, 1);
    float[] bias;
    int biasOffset;

    ConvStage(int layer, boolean activationInPool) {
      super(layer);
      this.activationInPool = activationInPool;
      conv = (NetworkSpec.Conv) spec.layer(layer);
      ckk = in.c() * conv.kernel() * conv.kernel();
      int padH = Math.max(0, (out.h() - 1) * conv.stride() + conv.kernel() - in.h());
      int padW = Math.max(0, (out.w() - 1) * conv.stride() + conv.kernel() - in.w());
      padTop = conv.same() ? padH / 2 : 0;
      padLeft = conv.same() ? padW / 2 : 0;
      w = new FMatrixRMaj(conv.filters(), ckk);
      biasOffset = spec.biasOffset(layer);
      if (activationInPool) {
        NetworkSpec.Pool p = (NetworkSpec.Pool) spec.layer(layer + 1);
        NetworkSpec.Shape pooled = spec.shape(layer + 2);
        ho = (pooled.h() - 1) * p.stride() + p.size();
        wo = (pooled.w() - 1) * p.stride() + p.size();
      } else {
        ho = out.h();
        wo = out.w();
      }
    }

    void setWeights(float[] params) {
      int off = spec.weightOffset(layer);
      if (off == 0) {
        w.data = params; // W_0 = params[0, F C k k): read in place
      } else {
        System.arraycopy(params, off, w.data, 0, conv.filters() * ckk);
      }
      bias = params;
    }

    @Override
    float[] forward(float[] input, int rows) {
      int m = rows * ho * wo;
      cols.reshape(ckk, m, false);
      im2col(input, rows, cols.data);
      z.reshape(conv.filters(), m, false);
      gemm.mult(w, cols, z); // (F, C k k) x (C k k, N Ho Wo)
      float[] zd = z.data;
      boolean relu = !activationInPool && conv.activation() == Activation.RELU;
      for (int f = 0; f < conv.filters(); f++) {
        float b = bias[biasOffset + f];
        int row = f * m;
        if (relu) {
          for (int i = row; i < row + m; i++) zd[i] = Math.max(zd[i] + b, 0f); // bias and ReLU in one pass
        } else {
          for (int i = row; i < row + m; i++) zd[i] += b;
        }
      }
      if (!activationInPool && !relu) conv.activation().forward(zd, conv.filters(), m);
      return zd;
    }

    /** The gradient with respect to the output goes straight into dZ (the activation's backward is done in place). */
    @Override
    float[] outGrad(int rows) {
      dz.reshape(conv.filters(), rows * ho * wo, false);
      return dz.data;
    }

    /** The first output column {@code xo} whose input column {@code xo s + j - padLeft} is inside the image. */
    private int firstColumn(int j) {
      int d = padLeft - j; // xo s >= d
      return d <= 0 ? 0 : (d + conv.stride() - 1) / conv.stride();
    }

    /** One past the last output column whose input column is inside the image. */
    private int endColumn(int j) {
      int d = in.w() - 1 + padLeft - j; // xo s <= d
      return d < 0 ? 0 : Math.min(wo, d / conv.stride() + 1);
    }

    /**
     * cols[(c, i, j), (n, y, x)] = x[c, n, y s + i - padTop, x s + j - padLeft], 0 outside. One
     * input plane (c, n) at a time, so that it stays in the cache while its k k strips are cut.
     */
    private void im2col(float[] xs, int rows, float[] c) {
      int k = conv.kernel();
      int s = conv.stride();
      int h = in.h();
      int wd = in.w();
      int m = rows * ho * wo;
      for (int ch = 0; ch < in.c(); ch++) {
        for (int n = 0; n < rows; n++) {
          int src = (ch * rows + n) * h * wd;
          for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
              int base = ((ch * k + i) * k + j) * m + n * ho * wo;
              int lo = firstColumn(j);
              int hi = Math.max(lo, endColumn(j));
              for (int y = 0; y < ho; y++) {
                int dst = base + y * wo;
                int iy = y * s + i - padTop;
                if (iy < 0 || iy >= h) {
                  java.util.Arrays.fill(c, dst, dst + wo, 0f);
                  continue;
                }
                if (lo > 0) java.util.Arrays.fill(c, dst, dst + lo, 0f);
                if (hi < wo) java.util.Arrays.fill(c, dst + hi, dst + wo, 0f);
                int from = src + iy * wd + lo * s + j - padLeft;
                if (s == 1) {
                  System.arraycopy(xs, from, c, dst + lo, hi - lo);
                } else {
                  for (int xo = lo; xo < hi; xo++) c[dst + xo] = xs[from + (xo - lo) * s];
                }
              }
            }
          }
        }
      }
    }

    @Override
    void backward(int rows, float[] grad, float[] dIn) {
      int m = rows * ho * wo;
      int f = conv.filters();
      // dz holds dL/d(output) (outGrad); the pool behind it applied the activation's derivative already
      if (!activationInPool) conv.activation().backward(z.data, dz.data, f, m); // dL/dZ
      gemm.multTransB(dz, cols, dw); // dW (F, C k k) = dZ (F, N Ho Wo) cols^T
      System.arraycopy(dw.data, 0, grad, spec.weightOffset(layer), f * ckk);
      float[] d = dz.data;
      if (pool != null) {
        // dZ is the pool's gradient spread out with zeros: filter o's sum is that of the pool's
        // channel o, a quarter of the values (2x2)
        int pm = rows * pool.out.h() * pool.out.w();
        for (int o = 0; o < f; o++) grad[biasOffset + o] = (float) sum(pool.dOut, o * pm, pm);
      } else {
        for (int o = 0; o < f; o++) grad[biasOffset + o] = (float) sum(d, o * m, m);
      }
      if (dIn == null) return;
      dcols.reshape(ckk, m, false);
      gemm.multTransA(w, dz, dcols); // dcols (C k k, N Ho Wo) = W^T dZ
      col2im(dcols.data, rows, dIn);
    }

    /**
     * dIn = 0, then dIn[c, n, y s + i - padTop, x s + j - padLeft] += dcols[(c, i, j), (n, y, x)];
     * one input plane (c, n) at a time, which stays in the cache while its k k strips are added.
     */
    private void col2im(float[] c, int rows, float[] dIn) {
      int k = conv.kernel();
      int s = conv.stride();
      int h = in.h();
      int wd = in.w();
      int m = rows * ho * wo;
      java.util.Arrays.fill(dIn, 0, in.size() * rows, 0f);
      for (int ch = 0; ch < in.c(); ch++) {
        for (int n = 0; n < rows; n++) {
          int dst = (ch * rows + n) * h * wd;
          for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
              int base = ((ch * k + i) * k + j) * m + n * ho * wo;
              int lo = firstColumn(j);
              int hi = endColumn(j);
              for (int y = 0; y < ho; y++) {
                int iy = y * s + i - padTop;
                if (iy < 0 || iy >= h) continue;
                int src = base + y * wo;
                int to = dst + iy * wd + lo * s + j - padLeft;
                if (s == 1) {
                  for (int xo = lo; xo < hi; xo++) dIn[to + xo - lo] += c[src + xo];
                } else {
                  for (int xo = lo; xo < hi; xo++) dIn[to + (xo - lo) * s] += c[src + xo];
                }
              }
            }
          }
        }
      }
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

  /**
   * Max pooling, and the activation of a convolution right before it (applied to the pooled
   * values: see {@link ConvStage}).
   */
  private final class PoolStage extends Stage {
    final NetworkSpec.Pool pool;
    final Activation activation;
    int h; // the input map's rows and columns held: a convolution before it may leave out some that no window covers
    int wd;
    float[] y = new float[0];
    int[] argmax = new int[0]; // for each output value: the index of its maximum in the input

    PoolStage(int layer, Activation activation) {
      super(layer);
      this.activation = activation;
      pool = (NetworkSpec.Pool) spec.layer(layer);
      h = in.h();
      wd = in.w();
    }

    @Override
    float[] forward(float[] x, int rows) {
      int size = pool.size();
      int s = pool.stride();
      int ho = out.h();
      int wo = out.w();
      int total = out.size() * rows;
      y = grow(y, total);
      if (argmax.length < total) argmax = new int[total];
      int o = 0;
      for (int plane = 0; plane < in.c() * rows; plane++) { // (c, n) planes, in order
        int base = plane * h * wd;
        if (size == 2) {
          // The common 2x2 window without a branch on the data (its outcome is a coin toss, and
          // mispredicted branches made this loop cost more than the convolution's product).
          for (int yo = 0; yo < ho; yo++) {
            int row = base + yo * s * wd;
            for (int xo = 0; xo < wo; xo++) {
              int p = row + xo * s;
              int ka = key(x[p]);
              int kb = key(x[p + 1]);
              int kc = key(x[p + wd]);
              int kd = key(x[p + wd + 1]);
              int g1 = greater(kb, ka); // 1 if b > a: strictly, so that the first maximum wins
              int kab = ka + ((kb - ka) & -g1);
              int g2 = greater(kd, kc);
              int kcd = kc + ((kd - kc) & -g2);
              int g3 = greater(kcd, kab);
              int iab = p + g1;
              int icd = p + wd + g2;
              int km = kab + ((kcd - kab) & -g3);
              y[o] = Float.intBitsToFloat(km ^ ((km >> 31) & 0x7fffffff));
              argmax[o++] = iab + ((icd - iab) & -g3);
            }
          }
          continue;
        }
        for (int yo = 0; yo < ho; yo++) {
          for (int xo = 0; xo < wo; xo++) {
            int best = base + (yo * s) * wd + xo * s;
            float max = x[best];
            for (int i = 0; i < size; i++) {
              int row = base + (yo * s + i) * wd + xo * s;
              for (int j = 0; j < size; j++) {
                if (x[row + j] > max) { // strictly greater: the first maximum wins
                  max = x[row + j];
                  best = row + j;
                }
              }
            }
            y[o] = max;
            argmax[o++] = best;
          }
        }
      }
      activation.forward(y, 1, total);
      return y;
    }

    @Override
    void backward(int rows, float[] grad, float[] dIn) {
      if (dIn == null) return;
      int total = out.size() * rows;
      activation.backward(y, dOut, 1, total); // dL/d(max z)
      if (pool.size() == 2 && pool.stride() == 2) {
        // windows that do not overlap: each writes its four values, so only an odd last row or
        // column needs zeros beforehand
        if (h % 2 != 0 || wd % 2 != 0) java.util.Arrays.fill(dIn, 0, in.c() * h * wd * rows, 0f);
        int ho = out.h();
        int wo = out.w();
        int o = 0;
        for (int plane = 0; plane < in.c() * rows; plane++) {
          int base = plane * h * wd;
          for (int yo = 0; yo < ho; yo++) {
            int row = base + 2 * yo * wd;
            for (int xo = 0; xo < wo; xo++, o++) {
              int p = row + 2 * xo;
              dIn[p] = 0f;
              dIn[p + 1] = 0f;
              dIn[p + wd] = 0f;
              dIn[p + wd + 1] = 0f;
              dIn[argmax[o]] = dOut[o];
            }
          }
        }
        return;
      }
      java.util.Arrays.fill(dIn, 0, in.c() * h * wd * rows, 0f);
      for (int o = 0; o < total; o++) dIn[argmax[o]] += dOut[o];
    }
  }
}
