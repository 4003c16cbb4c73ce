package dev.sparkprop.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * col2im's short runs (a row of the second convolution's map: 10 values) added 8 lanes at a
 * time and the rest one by one, where the JIT's own loop goes value by value (its vector loop
 * needs longer runs). Element-wise, so the bits are those of the scalar loop. Loaded only where
 * {@link Lanes#ON}. (im2col's copies of the same runs stay with {@code System.arraycopy}: a
 * copy like this one made them three times slower.)
 */
final class RunLanes {
  private RunLanes() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;

  /** {@code dst[to, to + len) += src[from, from + len)}. */
  static void add(float[] src, int from, float[] dst, int to, int len) {
    int i = 0;
    for (; i + 8 <= len; i += 8) {
      FloatVector.fromArray(F, dst, to + i).add(FloatVector.fromArray(F, src, from + i)).intoArray(dst, to + i);
    }
    for (; i < len; i++) dst[to + i] += src[from + i];
  }
}
