package dev.sparkprop.nn;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SparseRows}' product in the JDK's Vector API: output row i is the sum over the
 * compressed entries e of line i of {@code value[e] * b[index[e], :]}, one fused multiply-add
 * chain from +0 per value in entry order.
 *
 * <p>Entries go four at a time: each vector of the output row is loaded, takes the four
 * entries' multiply-adds and is stored, so a vector lives only inside one loop body. Kept in
 * registers across the entries instead (a loop-carried vector), the same loop ran 3 to 8 times
 * slower in about one JVM of four on JDK 17: its compiler could not always prove the vector's
 * class at the loop's head and fell back to a Java object per operation. The columns past the
 * last whole vector go a value at a time ({@link Math#fma}: the same rounding as a lane, and the
 * same order). Loaded only where {@link Lanes#ON}.
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
    int whole = n - n % l; // columns [0, whole) in vectors
    for (int i = 0; i < lines; i++) {
      int from = start[i];
      int to = start[i + 1];
      int co = i * n;
      Arrays.fill(c, co, co + whole, 0f);
      int e = from;
      for (; e + 4 <= to; e += 4) {
        FloatVector v0 = FloatVector.broadcast(F, value[e]);
        FloatVector v1 = FloatVector.broadcast(F, value[e + 1]);
        FloatVector v2 = FloatVector.broadcast(F, value[e + 2]);
        FloatVector v3 = FloatVector.broadcast(F, value[e + 3]);
        int b0 = index[e] * n;
        int b1 = index[e + 1] * n;
        int b2 = index[e + 2] * n;
        int b3 = index[e + 3] * n;
        for (int k = 0; k < whole; k += l) {
          FloatVector s = FloatVector.fromArray(F, c, co + k);
          s = FloatVector.fromArray(F, b, b0 + k).fma(v0, s);
          s = FloatVector.fromArray(F, b, b1 + k).fma(v1, s);
          s = FloatVector.fromArray(F, b, b2 + k).fma(v2, s);
          s = FloatVector.fromArray(F, b, b3 + k).fma(v3, s);
          s.intoArray(c, co + k);
        }
      }
      for (; e < to; e++) {
        FloatVector v = FloatVector.broadcast(F, value[e]);
        int bo = index[e] * n;
        for (int k = 0; k < whole; k += l) {
          FloatVector.fromArray(F, b, bo + k).fma(v, FloatVector.fromArray(F, c, co + k)).intoArray(c, co + k);
        }
      }
      for (int k = whole; k < n; k++) {
        float s = 0f;
        for (int f = from; f < to; f++) s = Math.fma(b[index[f] * n + k], value[f], s);
        c[co + k] = s;
      }
    }
  }
}
