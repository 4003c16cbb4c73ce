package dev.sparkprop.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SparseRows}' product in the JDK's Vector API: output row i is the sum over the
 * compressed entries e of line i of {@code value[e] * b[index[e], :]}, one fused multiply-add
 * chain from +0 per value in entry order. Eight vectors of a row are kept in registers across
 * the entries, so each entry costs eight loads of {@code b} and eight fused multiply-adds; the
 * columns past the last eight-vector block go a vector and then a value at a time
 * ({@link Math#fma}: the same rounding as a lane). Loaded only where {@link Lanes#ON}.
 */
final class SparseLanes {
  private SparseLanes() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /**
   * {@code c[i, :] = sum over e in [start[i], start[i + 1]) of value[e] * b[index[e], :]}:
   * b (any, n) and c (lines, n), row-major from index 0; c overwritten.
   */
  static void multiply(int[] start, int[] index, float[] value, int lines, float[] b, int n, float[] c) {
    int l = F.length();
    int block = 8 * l;
    for (int i = 0; i < lines; i++) {
      int from = start[i];
      int to = start[i + 1];
      int co = i * n;
      int k = 0;
      for (; k + block <= n; k += block) {
        FloatVector s0 = FloatVector.zero(F);
        FloatVector s1 = s0;
        FloatVector s2 = s0;
        FloatVector s3 = s0;
        FloatVector s4 = s0;
        FloatVector s5 = s0;
        FloatVector s6 = s0;
        FloatVector s7 = s0;
        for (int e = from; e < to; e++) {
          FloatVector v = FloatVector.broadcast(F, value[e]);
          int bo = index[e] * n + k;
          s0 = FloatVector.fromArray(F, b, bo).fma(v, s0);
          s1 = FloatVector.fromArray(F, b, bo + l).fma(v, s1);
          s2 = FloatVector.fromArray(F, b, bo + 2 * l).fma(v, s2);
          s3 = FloatVector.fromArray(F, b, bo + 3 * l).fma(v, s3);
          s4 = FloatVector.fromArray(F, b, bo + 4 * l).fma(v, s4);
          s5 = FloatVector.fromArray(F, b, bo + 5 * l).fma(v, s5);
          s6 = FloatVector.fromArray(F, b, bo + 6 * l).fma(v, s6);
          s7 = FloatVector.fromArray(F, b, bo + 7 * l).fma(v, s7);
        }
        s0.intoArray(c, co + k);
        s1.intoArray(c, co + k + l);
        s2.intoArray(c, co + k + 2 * l);
        s3.intoArray(c, co + k + 3 * l);
        s4.intoArray(c, co + k + 4 * l);
        s5.intoArray(c, co + k + 5 * l);
        s6.intoArray(c, co + k + 6 * l);
        s7.intoArray(c, co + k + 7 * l);
      }
      for (; k + l <= n; k += l) {
        FloatVector s = FloatVector.zero(F);
        for (int e = from; e < to; e++) {
          s = FloatVector.fromArray(F, b, index[e] * n + k).fma(FloatVector.broadcast(F, value[e]), s);
        }
        s.intoArray(c, co + k);
      }
      for (; k < n; k++) {
        float s = 0f;
        for (int e = from; e < to; e++) s = Math.fma(b[index[e] * n + k], value[e], s);
        c[co + k] = s;
      }
    }
  }
}
