package dev.sparkprop.scale;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Least squares with non-negative coefficients, weighted by relative error: minimises
 * {@code sum_i ((x_i . c - y_i) / y_i)^2} over {@code c >= 0}. Every coefficient of the cost
 * model is a time per unit (per byte, per flop, per message), so a negative one would be a fit
 * to noise; such a term is dropped (fixed at 0) and the rest refitted, the most negative first,
 * until all are non-negative (the active-set idea of Lawson and Hanson, without re-adding terms,
 * which a handful of terms does not need).
 */
public final class LeastSquares {
  private LeastSquares() {}

  /**
   * @param x rows of features, one per measurement ({@code [m][k]})
   * @param y measured values, all positive ({@code [m]})
   * @return the coefficients ({@code [k]}), each 0 or more
   */
  public static double[] nonNegativeRelative(double[][] x, double[] y) {
    for (double v : y) {
      if (!(v > 0)) throw new IllegalArgumentException("relative least squares needs positive measurements, got " + v);
    }
    return nonNegative(x, y, y);
  }

  /**
   * Minimises {@code sum_i ((x_i . c - y_i) / s_i)^2} over {@code c >= 0}: relative to a scale of
   * each row's own ({@code s}), for a target that is only part of a measurement (which may be
   * near 0 or below it by noise) but whose error counts against the whole measurement.
   *
   * @param x rows of features ({@code [m][k]})
   * @param y targets ({@code [m]})
   * @param s each row's scale, all positive ({@code [m]})
   * @return the coefficients ({@code [k]}), each 0 or more
   */
  public static double[] nonNegative(double[][] x, double[] y, double[] s) {
    int m = x.length;
    int k = x[0].length;
    for (double v : s) {
      if (!(v > 0)) throw new IllegalArgumentException("weighted least squares needs positive scales, got " + v);
    }
    boolean[] active = new boolean[k];
    Arrays.fill(active, true);
    while (true) {
      List<Integer> cols = new ArrayList<>();
      for (int j = 0; j < k; j++) if (active[j]) cols.add(j);
      double[] c = new double[k];
      if (cols.isEmpty()) return c;
      if (m < cols.size()) {
        throw new IllegalArgumentException("fitting " + cols.size() + " terms needs at least as many measurements, got " + m);
      }
      DMatrixRMaj a = new DMatrixRMaj(m, cols.size());
      DMatrixRMaj b = new DMatrixRMaj(m, 1);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < cols.size(); j++) a.set(i, j, x[i][cols.get(j)] / s[i]);
        b.set(i, 0, y[i] / s[i]);
      }
      LinearSolverDense<DMatrixRMaj> solver = LinearSolverFactory_DDRM.leastSquares(m, cols.size());
      DMatrixRMaj sol = new DMatrixRMaj(cols.size(), 1);
      if (!solver.setA(a)) throw new IllegalArgumentException("the features are linearly dependent: vary the measurements");
      solver.solve(b, sol);
      int worst = -1;
      for (int j = 0; j < cols.size(); j++) {
        if (!Double.isFinite(sol.get(j, 0))) {
          throw new IllegalArgumentException("coefficient " + cols.get(j) + " came out " + sol.get(j, 0)
              + ": the measurements do not determine it; vary them");
        }
        c[cols.get(j)] = sol.get(j, 0);
        if (sol.get(j, 0) < 0 && (worst < 0 || sol.get(j, 0) < c[worst])) worst = cols.get(j);
      }
      if (worst < 0) return c;
      active[worst] = false;
    }
  }
}
