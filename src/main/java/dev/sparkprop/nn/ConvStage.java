package dev.sparkprop.nn;

import org.ejml.data.FMatrixRMaj;

/**
 * A convolution. Followed by pooling, its activation moves behind the pool: every activation
 * here is non-decreasing, so f(max z) = max f(z), and the pool's output is four times smaller
 * than the convolution's, which is then never passed over by the activation forward or
 * backward (the largest arrays of the network: of the reference CNN's first layer, 32 x 26 x
 * 26 per image).
 *
 * <p>The first layer, followed by a 2x2 pool of stride 2, orders its output columns
 * pool-blocked: (q, n, y', x') with q = 2 dy + dx for the output place (2 y' + dy, 2 x' + dx),
 * so that the pool is a lane-wise maximum of four arrays ({@link BlockedPool}). Its im2col
 * then gathers with a stride, cheap for the network input (of MNIST one channel); a later
 * convolution keeps the plain order, because its im2col and col2im (the first layer needs no
 * input gradient) would pay more for the strides than its pool saves.
 */
final class ConvStage extends HeadStage {
  final NetworkSpec.Conv conv;
  final boolean activationInPool;
  final PoolStage pool; // the pool right after this convolution, or null
  private final NetworkSpec spec;
  private final Gemm gemm;
  final int ckk;
  final int ho; // the output rows and columns computed: all, or those a pool after it covers
  final int wo;
  final int padTop;
  final int padLeft;
  final boolean blocked; // the output columns pool-blocked (see above)
  final FMatrixRMaj w; // (F, C k k)
  final FMatrixRMaj dw = new FMatrixRMaj(1, 1);
  final FMatrixRMaj cols = new FMatrixRMaj(1, 1); // (C k k, N Ho Wo)
  final FMatrixRMaj z = new FMatrixRMaj(1, 1); // (F, N Ho Wo): pre-activation, then the output in place
  final FMatrixRMaj dz = new FMatrixRMaj(1, 1);
  final FMatrixRMaj dcols = new FMatrixRMaj(1, 1);
  float[] bias;
  int biasOffset;

  /** {@code activationInPool}: a pool follows (spec layer {@code layer + 1}), made here, reading the part of the map computed. */
  ConvStage(NetworkSpec spec, int layer, Gemm gemm, boolean activationInPool) {
    super(spec, layer);
    this.spec = spec;
    this.gemm = gemm;
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
    blocked = activationInPool && poolBlocked(spec, layer);
    pool = activationInPool ? new PoolStage(spec, layer + 1, conv.activation(), ho, wo, blocked) : null;
  }

  /** Whether the convolution at {@code layer} orders its output pool-blocked: the first layer, followed by a 2x2 pool of stride 2. */
  static boolean poolBlocked(NetworkSpec spec, int layer) {
    return layer == 0 && spec.layer(0) instanceof NetworkSpec.Conv && spec.numLayers() > 1
        && spec.layer(1) instanceof NetworkSpec.Pool p && p.size() == 2 && p.stride() == 2;
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
    if (blocked) {
      im2colBlocked(input, rows, cols.data);
    } else {
      im2col(input, rows, cols.data);
    }
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

  /** The first output column {@code x} whose input column {@code x step + ix0} is inside the image (at most {@code width}). */
  private static int firstColumn(int ix0, int step, int width) {
    int d = -ix0; // x step >= d
    return d <= 0 ? 0 : Math.min(width, (d + step - 1) / step);
  }

  /** One past the last output column whose input column {@code x step + ix0} is inside the image (0 if none). */
  private int endColumn(int ix0, int step, int width) {
    int d = in.w() - 1 - ix0; // x step <= d
    return d < 0 ? 0 : Math.min(width, d / step + 1);
  }

  /**
   * cols[(c, i, j), (n, y, x)] = x[c, n, y s + i - padTop, x s + j - padLeft], 0 outside. One
   * input plane (c, n) at a time, so that it stays in the cache while its k k strips are cut.
   */
  private void im2col(float[] xs, int rows, float[] c) {
    int k = conv.kernel();
    int s = conv.stride();
    int m = rows * ho * wo;
    for (int ch = 0; ch < in.c(); ch++) {
      for (int n = 0; n < rows; n++) {
        int src = (ch * rows + n) * in.h() * in.w();
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            strip(xs, src, i - padTop, s, j - padLeft, s, ho, wo, c, ((ch * k + i) * k + j) * m + n * ho * wo);
          }
        }
      }
    }
  }

  /**
   * im2col with the columns pool-blocked: cols[(c, i, j), (q, n, y', x')] = x[c, n, (2 y' + dy)
   * s + i - padTop, (2 x' + dx) s + j - padLeft] with q = 2 dy + dx, 0 outside. The output is
   * 2 ho' x 2 wo' (a 2x2 pool of stride 2 covers it).
   */
  private void im2colBlocked(float[] xs, int rows, float[] c) {
    int k = conv.kernel();
    int s = conv.stride();
    int ph = ho / 2;
    int pw = wo / 2;
    int m = rows * ho * wo;
    int pm = m / 4; // one block
    for (int ch = 0; ch < in.c(); ch++) {
      for (int n = 0; n < rows; n++) {
        int src = (ch * rows + n) * in.h() * in.w();
        for (int i = 0; i < k; i++) {
          for (int j = 0; j < k; j++) {
            int row = ((ch * k + i) * k + j) * m + n * ph * pw;
            for (int q = 0; q < 4; q++) {
              strip(xs, src, (q >> 1) * s + i - padTop, 2 * s, (q & 1) * s + j - padLeft, 2 * s, ph, pw, c, row + q * pm);
            }
          }
        }
      }
    }
  }

  /**
   * One strip of im2col: {@code height} rows of {@code width} values from {@code c[dst]}, value
   * (r, x) the input plane's (r step + iy0, x step + ix0) (the plane at {@code xs[src]}), 0
   * outside it.
   */
  private void strip(float[] xs, int src, int iy0, int step, int ix0, int colStep, int height, int width, float[] c, int dst) {
    int h = in.h();
    int wd = in.w();
    int lo = firstColumn(ix0, colStep, width);
    int hi = Math.max(lo, endColumn(ix0, colStep, width));
    for (int r = 0; r < height; r++) {
      int d = dst + r * width;
      int iy = r * step + iy0;
      if (iy < 0 || iy >= h) {
        java.util.Arrays.fill(c, d, d + width, 0f);
        continue;
      }
      if (lo > 0) java.util.Arrays.fill(c, d, d + lo, 0f);
      if (hi < width) java.util.Arrays.fill(c, d + hi, d + width, 0f);
      int from = src + iy * wd + lo * colStep + ix0;
      if (colStep == 1) {
        System.arraycopy(xs, from, c, d + lo, hi - lo);
      } else {
        for (int x = lo; x < hi; x++) c[d + x] = xs[from + (x - lo) * colStep];
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
      for (int o = 0; o < f; o++) grad[biasOffset + o] = (float) ConvHead.sum(pool.dOut, o * pm, pm);
    } else {
      for (int o = 0; o < f; o++) grad[biasOffset + o] = (float) ConvHead.sum(d, o * m, m);
    }
    if (dIn == null) return;
    if (blocked) throw new IllegalStateException("a pool-blocked convolution is the first layer, whose input needs no gradient");
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
            int lo = firstColumn(j - padLeft, s, wo);
            int hi = endColumn(j - padLeft, s, wo);
            for (int y = 0; y < ho; y++) {
              int iy = y * s + i - padTop;
              if (iy < 0 || iy >= h) continue;
              int src = base + y * wo;
              int to = dst + iy * wd + lo * s + j - padLeft;
              if (s == 1) {
                if (Lanes.ON) {
                  RunLanes.add(c, src + lo, dIn, to, hi - lo);
                } else {
                  for (int xo = lo; xo < hi; xo++) dIn[to + xo - lo] += c[src + xo];
                }
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
