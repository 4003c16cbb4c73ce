package dev.sparkprop.nn;

import java.util.Random;
import org.ejml.data.FMatrixRMaj;

/** Compares a {@link Gemm}'s three products with a naive double-precision product. */
public final class GemmCheck {
  private GemmCheck() {}

  /**
   * Random (m, k) by (k, n) operands; the output matrices start larger than needed and filled
   * with garbage, so a kernel that ignores the reshape or reads stale values fails.
   *
   * @return null if every product is within float rounding of the naive one, else what differed
   */
  public static String compare(Gemm g, int m, int k, int n, Random rnd) {
    FMatrixRMaj a = random(m, k, rnd);
    FMatrixRMaj b = random(k, n, rnd);
    FMatrixRMaj at = transpose(a);
    FMatrixRMaj bt = transpose(b);
    double[] want = naive(a, b);
    FMatrixRMaj c = garbage(m + 2, n + 3, rnd);
    g.mult(a, b, c);
    String e = diff("mult", want, c, m, n, k);
    if (e != null) return e;
    c = garbage(m + 1, n + 1, rnd);
    g.multTransA(at, b, c);
    e = diff("multTransA", want, c, m, n, k);
    if (e != null) return e;
    c = garbage(m, n + 5, rnd);
    g.multTransB(a, bt, c);
    return diff("multTransB", want, c, m, n, k);
  }

  private static String diff(String op, double[] want, FMatrixRMaj c, int m, int n, int k) {
    if (c.numRows != m || c.numCols != n) {
      return op + " gave shape (" + c.numRows + ", " + c.numCols + "), expected (" + m + ", " + n + ")";
    }
    // Operands are in [-1, 1): each term's rounding is at most ~1e-7, k terms add up.
    double tol = 1e-6 * (k + 1);
    for (int i = 0; i < m * n; i++) {
      if (!(Math.abs(c.data[i] - want[i]) <= tol)) {
        return op + " (" + m + "x" + k + " by " + k + "x" + n + ") element " + i + ": " + c.data[i]
            + ", naive product " + want[i];
      }
    }
    return null;
  }

  private static double[] naive(FMatrixRMaj a, FMatrixRMaj b) {
    int m = a.numRows;
    int k = a.numCols;
    int n = b.numCols;
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int p = 0; p < k; p++) s += (double) a.get(i, p) * b.get(p, j);
        out[i * n + j] = s;
      }
    }
    return out;
  }

  /** An (r, c) matrix whose array is longer than r * c (as after Network shrinks a batch). */
  private static FMatrixRMaj random(int r, int c, Random rnd) {
    FMatrixRMaj x = new FMatrixRMaj(r + 2, c);
    for (int i = 0; i < x.data.length; i++) x.data[i] = rnd.nextFloat() * 2 - 1;
    x.reshape(r, c, false);
    return x;
  }

  private static FMatrixRMaj garbage(int r, int c, Random rnd) {
    FMatrixRMaj x = new FMatrixRMaj(r, c);
    for (int i = 0; i < x.data.length; i++) x.data[i] = rnd.nextFloat();
    for (int i = 0; i < x.data.length; i++) x.data[i] *= 1e6f;
    return x;
  }

  private static FMatrixRMaj transpose(FMatrixRMaj a) {
    FMatrixRMaj t = new FMatrixRMaj(a.numCols, a.numRows);
    for (int i = 0; i < a.numRows; i++) {
      for (int j = 0; j < a.numCols; j++) t.set(j, i, a.get(i, j));
    }
    return t;
  }
}
