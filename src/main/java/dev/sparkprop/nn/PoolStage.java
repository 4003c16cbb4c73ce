package dev.sparkprop.nn;

/**
 * Max pooling, and the activation of a convolution right before it (applied to the pooled
 * values: see {@link ConvStage}).
 */
final class PoolStage extends HeadStage {
  final NetworkSpec.Pool pool;
  final Activation activation;
  final int h; // the input map's rows and columns held: a convolution before it may leave out some that no window covers
  final int wd;
  final boolean blocked; // the input map pool-blocked by the convolution before it (a 2x2 pool of stride 2; see ConvStage)
  float[] y = new float[0];
  int[] argmax = new int[0]; // for each output value: the index of its maximum in the input (blocked: its block)

  /** A pool of its whole input map. */
  PoolStage(NetworkSpec spec, int layer) {
    this(spec, layer, Activation.IDENTITY, spec.shape(layer).h(), spec.shape(layer).w(), false);
  }

  /**
   * Behind a convolution: its {@code activation}, and the {@code h} x {@code wd} part of the map
   * it computed, {@code blocked} or in the plain order.
   */
  PoolStage(NetworkSpec spec, int layer, Activation activation, int h, int wd, boolean blocked) {
    super(spec, layer);
    this.activation = activation;
    pool = (NetworkSpec.Pool) spec.layer(layer);
    this.h = h;
    this.wd = wd;
    this.blocked = blocked;
    if (blocked && (pool.size() != 2 || pool.stride() != 2 || h != 2 * out.h() || wd != 2 * out.w())) {
      throw new IllegalArgumentException("a pool-blocked map needs a 2x2 pool of stride 2 over 2 x its output, not "
          + pool + " over " + h + "x" + wd);
    }
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
    if (blocked) {
      BlockedPool.forward(x, in.c(), rows * out.h() * out.w(), y, argmax); // argmax holds the block, 0..3
      activation.forward(y, 1, total);
      return y;
    }
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
            int ka = ConvHead.key(x[p]);
            int kb = ConvHead.key(x[p + 1]);
            int kc = ConvHead.key(x[p + wd]);
            int kd = ConvHead.key(x[p + wd + 1]);
            int g1 = ConvHead.greater(kb, ka); // 1 if b > a: strictly, so that the first maximum wins
            int kab = ka + ((kb - ka) & -g1);
            int g2 = ConvHead.greater(kd, kc);
            int kcd = kc + ((kd - kc) & -g2);
            int g3 = ConvHead.greater(kcd, kab);
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
    if (blocked) {
      BlockedPool.backward(dOut, argmax, in.c(), rows * out.h() * out.w(), dIn);
      return;
    }
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
