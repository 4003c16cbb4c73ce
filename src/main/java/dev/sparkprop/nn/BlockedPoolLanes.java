package dev.sparkprop.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BlockedPool} with the JDK's Vector API: the same keys, comparisons and bits, a vector
 * of values at a time (lane-wise only: Java 17's Vector API is fast for loads, compares and
 * blends, slow for shuffles). Loaded only when the JVM has the {@code jdk.incubator.vector}
 * module.
 */
final class BlockedPoolLanes {
  private BlockedPoolLanes() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

  static int length() {
    return Math.min(F.length(), I.length());
  }

  /** {@link BlockedPool#key}, lane-wise. */
  private static IntVector key(FloatVector v) {
    IntVector i = v.reinterpretAsInts();
    IntVector k = i.lanewise(VectorOperators.XOR, i.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, 0x7fffffff));
    return k.add(k.lanewise(VectorOperators.LSHR, 31));
  }

  static void forward(float[] z, int channels, int pm, float[] y, int[] code) {
    int n = F.length();
    int end = pm - pm % n;
    for (int c = 0; c < channels; c++) {
      int b0 = c * 4 * pm;
      int o = c * pm;
      for (int i = 0; i < end; i += n) {
        FloatVector m = FloatVector.fromArray(F, z, b0 + i);
        IntVector km = key(m);
        IntVector q = IntVector.zero(I); // made here, not before the loops: a vector live across them is an object
        for (int b = 1; b < 4; b++) { // strictly greater replaces: the first maximum stays
          FloatVector v = FloatVector.fromArray(F, z, b0 + b * pm + i);
          IntVector kv = key(v);
          VectorMask<Integer> g = kv.compare(VectorOperators.GT, km);
          km = km.blend(kv, g);
          m = m.blend(v, g.cast(F));
          q = q.blend(b, g);
        }
        m.add(0f).intoArray(y, o + i); // -0 as +0
        q.intoArray(code, o + i);
      }
    }
    if (end < pm) BlockedPool.forwardScalar(z, channels, pm, y, code, end);
  }

  static void backward(float[] dy, int[] code, int channels, int pm, float[] dz) {
    int n = F.length();
    int end = pm - pm % n;
    for (int c = 0; c < channels; c++) {
      int b0 = c * 4 * pm;
      int o = c * pm;
      for (int i = 0; i < end; i += n) {
        FloatVector g = FloatVector.fromArray(F, dy, o + i);
        IntVector q = IntVector.fromArray(I, code, o + i);
        FloatVector zero = FloatVector.zero(F);
        for (int b = 0; b < 4; b++) zero.blend(g, q.compare(VectorOperators.EQ, b).cast(F)).intoArray(dz, b0 + b * pm + i);
      }
    }
    if (end < pm) BlockedPool.backwardScalar(dy, code, channels, pm, dz, end);
  }
}
