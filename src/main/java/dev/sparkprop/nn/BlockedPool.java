package dev.sparkprop.nn;

/**
 * The 2x2 max pool of a convolution whose output columns are pool-blocked ({@link ConvStage}):
 * each channel's row holds four blocks of {@code pm} values, the window's top-left, top-right,
 * bottom-left and bottom-right places, so that pooling is a lane-wise maximum of four arrays.
 * The JDK's Vector API does that sixteen values at a time where the JVM has the
 * {@code jdk.incubator.vector} module ({@link BlockedPoolLanes}, {@link Lanes}); without it the
 * scalar form here gives the same bits, several times slower. Ties go to the first block (the
 * window's first place in row-major order), -0 ties with +0, and the maximum is returned with -0
 * as +0, like {@link PoolStage}'s other forms.
 */
final class BlockedPool {
  private BlockedPool() {}

  /**
   * @param z (channels, 4 pm): each channel's four blocks, read only
   * @param y (channels, pm): the maxima
   * @param code (channels, pm): which block held each maximum, 0..3
   */
  static void forward(float[] z, int channels, int pm, float[] y, int[] code) {
    if (Lanes.ON) {
      BlockedPoolLanes.forward(z, channels, pm, y, code);
    } else {
      forwardScalar(z, channels, pm, y, code, 0);
    }
  }

  /**
   * @param dy (channels, pm): dL/d(maxima), read only
   * @param code (channels, pm): from {@link #forward}
   * @param dz (channels, 4 pm): dL/dz, each value's gradient or 0
   */
  static void backward(float[] dy, int[] code, int channels, int pm, float[] dz) {
    if (Lanes.ON) {
      BlockedPoolLanes.backward(dy, code, channels, pm, dz);
    } else {
      backwardScalar(dy, code, channels, pm, dz, 0);
    }
  }

  /** The scalar form, for the values {@code from} .. {@code pm} of each channel (the lanes' tail starts past 0). */
  static void forwardScalar(float[] z, int channels, int pm, float[] y, int[] code, int from) {
    for (int c = 0; c < channels; c++) {
      int b0 = c * 4 * pm;
      int b1 = b0 + pm;
      int b2 = b1 + pm;
      int b3 = b2 + pm;
      int o = c * pm;
      for (int i = from; i < pm; i++) {
        int ka = key(z[b0 + i]);
        int kb = key(z[b1 + i]);
        int kc = key(z[b2 + i]);
        int kd = key(z[b3 + i]);
        int km = Math.max(Math.max(ka, kb), Math.max(kc, kd));
        // the first block whose key is the maximum, without a branch on the data: ne = 1 where a key differs
        int ne0 = ((ka ^ km) | -(ka ^ km)) >>> 31;
        int ne1 = ((kb ^ km) | -(kb ^ km)) >>> 31;
        int ne2 = ((kc ^ km) | -(kc ^ km)) >>> 31;
        code[o + i] = ne0 * (1 + ne1 * (1 + ne2));
        y[o + i] = value(km);
      }
    }
  }

  static void backwardScalar(float[] dy, int[] code, int channels, int pm, float[] dz, int from) {
    for (int c = 0; c < channels; c++) {
      int b0 = c * 4 * pm;
      int o = c * pm;
      for (int i = from; i < pm; i++) {
        dz[b0 + i] = 0f;
        dz[b0 + pm + i] = 0f;
        dz[b0 + 2 * pm + i] = 0f;
        dz[b0 + 3 * pm + i] = 0f;
        dz[b0 + code[o + i] * pm + i] = dy[o + i];
      }
    }
  }

  /** A float as an int of the same order, -0 and +0 both 0 (integer operations only, which the lanes repeat). */
  static int key(float v) {
    int i = Float.floatToRawIntBits(v);
    int k = i ^ ((i >> 31) & 0x7fffffff);
    return k + (k >>> 31);
  }

  /** The float of a {@link #key}; 0 is +0. */
  static float value(int k) {
    int j = k - (k >>> 31);
    return Float.intBitsToFloat(j ^ ((j >> 31) & 0x7fffffff));
  }
}
