package dev.sparkprop.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The synthetic table's rows are what its documentation says, and the same for the same seed and row. */
class SyntheticTableTest {
  @Test
  void theNormalDistributionFunction() {
    assertEquals(0.5, SyntheticTable.phi(0), 1e-7);
    assertEquals(0.841345, SyntheticTable.phi(1), 1e-6);
    assertEquals(0.022750, SyntheticTable.phi(-2), 1e-6);
  }

  @Test
  void rowsAreDeterministicAndHaveTheDocumentedMomentsAndClassMeans() {
    Row a = SyntheticTable.row(12345, 1, 100, 10, false, 0.2, 1);
    Row b = SyntheticTable.row(12345, 1, 100, 10, false, 0.2, 1);
    assertEquals(a.getInt(1), b.getInt(1));
    org.junit.jupiter.api.Assertions.assertArrayEquals((Float[]) a.get(2), (Float[]) b.get(2));
    int n = 40_000;
    double[] sum = new double[3];
    double[] sq = new double[3];
    double classGap = 0;
    for (int r = 0; r < n; r++) {
      Row row = SyntheticTable.row(r, 7, 100, 10, false, 0.5, 1);
      int y = row.getInt(1);
      Float[] x = (Float[]) row.get(2);
      int[] cols = {0, 50, 99};
      for (int c = 0; c < 3; c++) {
        double s = Math.pow(10, -3 + 7.0 * cols[c] / 99);
        double z = x[cols[c]] / s - 3;
        if (c == 0) classGap += y == 1 ? z : -z;
        if (c > 0) {
          sum[c] += z;
          sq[c] += z * z;
        }
      }
    }
    assertEquals(0.5, classGap / n, 0.03, "an informative column's class means are +-separation");
    for (int c = 1; c < 3; c++) {
      assertEquals(0, sum[c] / n, 0.03, "an uninformative column is standard normal around 3 s_j");
      assertEquals(1, sq[c] / n, 0.03);
    }
  }
}
