package dev.sparkprop.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exchange model recovers known constants from points made with them, and projects without this machine's terms. */
class ExchangeModelTest {
  @Test
  void theTreesDepthIsItsReductionTreesHops() {
    assertEquals(1, ExchangeModel.depth(1));
    assertEquals(2, ExchangeModel.depth(2));
    assertEquals(2, ExchangeModel.depth(3));
    assertEquals(3, ExchangeModel.depth(7)); // driver <- 0 <- 1 <- 2
    assertEquals(4, ExchangeModel.depth(8));
    assertEquals(5, ExchangeModel.depth(16));
    assertEquals(9, ExchangeModel.depth(256));
  }

  @Test
  void aFitRecoversTheConstantsItWasMadeWith() {
    ExchangeModel truth = new ExchangeModel(new double[] {1.5, 1.3, 2.0, 0.4, 2.2, 0.6, 0.9});
    List<ExchangeModel.Point> points = new ArrayList<>();
    for (String topology : new String[] {"star", "tree"}) {
      for (double rate : new double[] {1.25, 0.125}) {
        for (double mb : new double[] {0.9, 1.63, 0.45}) {
          for (int n : new int[] {1, 2, 4, 8, 16}) {
            ExchangeModel.Point p = new ExchangeModel.Point(topology, n, mb, rate, 0.065536, 0);
            points.add(new ExchangeModel.Point(topology, n, mb, rate, 0.065536, truth.predict(p)));
          }
        }
      }
    }
    ExchangeModel fitted = ExchangeModel.fit(points);
    for (ExchangeModel.Point p : points) {
      assertEquals(p.syncMs(), fitted.predict(p), 1e-6 * p.syncMs(), "point " + p);
    }
    assertEquals(0.6, fitted.h, 1e-6);
    assertEquals(0.9, fitted.k, 1e-6);
    // a projection leaves out this machine's per-host terms
    double tree = fitted.project("tree", 512, 0.9, 1.25, 0.065536);
    double expected = 2.0 + 2 * ExchangeModel.depth(512) * (0.4 + 0.065536 / 1.25) + 2.2 * 0.9 / 1.25;
    assertEquals(expected, tree, 1e-6);
    assertTrue(fitted.project("star", 512, 0.9, 1.25, 0.065536) > 100 * tree / 10, "the star grows with P");
  }
}
