package dev.sparkprop.nn;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Seeded weight initialisers; biases always start at zero.
 *
 * <ul>
 *   <li>{@code uniform}: U[low, high), the notebook's {@code tf.random.uniform(minval=0, maxval=0.1)};
 *   <li>{@code he}: N(0, 2 / fan_in), for ReLU networks; {@code he_uniform}: U(-sqrt(6/fan_in), +);
 *   <li>{@code glorot}: U(-sqrt(6/(fan_in+fan_out)), +); {@code glorot_normal}: N(0, 2/(fan_in+fan_out)).
 * </ul>
 */
public final class Initializer implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** The supported kinds, as written in config. */
  public enum Kind { UNIFORM, HE, HE_UNIFORM, GLOROT, GLOROT_NORMAL }

  private final Kind kind;
  private final double low;
  private final double high;

  public Initializer(Kind kind, double low, double high) {
    if (kind == Kind.UNIFORM && !(low < high)) {
      throw new IllegalArgumentException("init.low must be below init.high, got " + low + " and " + high);
    }
    this.kind = kind;
    this.low = low;
    this.high = high;
  }

  /** Returns a new flat parameter array for {@code spec}, drawn from {@code seed}. */
  public float[] initialize(NetworkSpec spec, long seed) {
    float[] params = new float[spec.numParams()];
    SplittableRandom root = new SplittableRandom(seed);
    for (int l = 0; l < spec.numLayers(); l++) {
      if (!spec.hasWeights(l)) continue; // pooling
      // One independent stream per layer, so a layer's values do not depend on the sizes before it.
      SplittableRandom rnd = root.split();
      int in = spec.in(l); // a convolution's fan-in: channels x kernel x kernel
      int out = spec.out(l);
      int fanOut = spec.layer(l) instanceof NetworkSpec.Conv c ? out * c.kernel() * c.kernel() : out;
      int off = spec.weightOffset(l);
      int n = in * out;
      for (int i = 0; i < n; i++) params[off + i] = (float) draw(rnd, in, fanOut);
      // biases stay 0
    }
    return params;
  }

  private double draw(SplittableRandom rnd, int fanIn, int fanOut) {
    switch (kind) {
      case UNIFORM:
        return low + (high - low) * rnd.nextDouble();
      case HE:
        return rnd.nextGaussian() * Math.sqrt(2.0 / fanIn);
      case HE_UNIFORM: {
        double limit = Math.sqrt(6.0 / fanIn);
        return -limit + 2 * limit * rnd.nextDouble();
      }
      case GLOROT: {
        double limit = Math.sqrt(6.0 / (fanIn + fanOut));
        return -limit + 2 * limit * rnd.nextDouble();
      }
      case GLOROT_NORMAL:
        return rnd.nextGaussian() * Math.sqrt(2.0 / (fanIn + fanOut));
      default:
        throw new AssertionError(kind);
    }
  }

  @Override
  public String toString() {
    return kind == Kind.UNIFORM
        ? "uniform(" + low + ", " + high + ")"
        : kind.name().toLowerCase(Locale.ROOT);
  }
}
