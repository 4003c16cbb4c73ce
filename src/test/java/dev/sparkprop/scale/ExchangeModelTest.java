package dev.sparkprop.scale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exchange model recovers known constants from points made with them, and projects without this machine's shared-core terms. */
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
    assertEquals(1, ExchangeModel.children(1));
    assertEquals(1, ExchangeModel.children(2)); // driver <- 0 <- 1
    assertEquals(2, ExchangeModel.children(3)); // driver <- 0 <- {1, 2}
    assertEquals(2, ExchangeModel.children(512));
  }

  @Test
  void aFitRecoversTheConstantsItWasMadeWith() {
    ExchangeModel truth = new ExchangeModel(new double[] {0.7, 1.3, 2.1, 0.15}, new double[] {1.5, 2.0, 0.4, 0.6, 0.9});
    List<ExchangeModel.Point> shaped = new ArrayList<>();
    List<ExchangeModel.Point> unshaped = new ArrayList<>();
    for (String topology : new String[] {"star", "tree"}) {
      for (double mb : new double[] {0.9, 1.63, 0.45}) {
        for (int n : new int[] {1, 2, 4, 8, 16}) {
          ExchangeModel.Point u = new ExchangeModel.Point(topology, n, mb, Double.POSITIVE_INFINITY, 0.065536, 0, 0);
          // this machine's cost of N hosts grows faster than any term of the unshaped fit: a link fit must not care
          double measured = truth.unshaped(u) * (1 + 0.02 * n * n);
          unshaped.add(new ExchangeModel.Point(topology, n, mb, u.mbPerMs(), 0.065536, measured, measured));
          for (double rate : new double[] {1.25, 0.125}) {
            ExchangeModel.Point p = new ExchangeModel.Point(topology, n, mb, rate, 0.065536, 0, measured);
            shaped.add(new ExchangeModel.Point(topology, n, mb, rate, 0.065536, truth.predict(p), measured));
          }
        }
      }
    }
    ExchangeModel fitted = ExchangeModel.fit(shaped, unshaped);
    assertEquals(0.7, fitted.a0, 1e-9);
    assertEquals(1.3, fitted.a, 1e-9);
    assertEquals(2.1, fitted.b, 1e-9);
    assertEquals(0.15, fitted.sigma, 1e-9);
    for (ExchangeModel.Point p : shaped) assertEquals(p.syncMs(), fitted.predict(p), 1e-9 * p.syncMs(), "point " + p);
    assertTrue(fitted.h > 0.6, "the superlinear machine cost lands in the per-host terms: h " + fitted.h);
    // a projection: the unshaped fit's fixed and per-hop terms (no per-host ones) plus the links'
    double tree = fitted.project("tree", 512, 0.9, 1.25, 0.065536);
    double expected = fitted.t0 + 2 * ExchangeModel.depth(512) * (fitted.l + (0.065536 + 0.15 * 0.9) / 1.25) + 2.1 * 2 * 0.9 / 1.25;
    assertEquals(expected, tree, 1e-9);
    assertEquals(fitted.s0 + 0.7 * 0.9 / 1.25 + 1.3 * 512 * 0.9 / 1.25, fitted.project("star", 512, 0.9, 1.25, 0.065536), 1e-9);
  }

  @Test
  void anUnshapedPointIsNotALinkMeasurement() {
    ExchangeModel.Point u = new ExchangeModel.Point("tree", 2, 0.9, Double.POSITIVE_INFINITY, 0.065536, 5, 5);
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> ExchangeModel.fit(List.of(u), List.of(u)));
    assertTrue(e.getMessage().contains("unshaped"), e.getMessage());
  }
}
