package dev.sparkprop.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.scale.StepModel.Net;
import dev.sparkprop.scale.StepModel.Network;
import dev.sparkprop.scale.StepModel.Point;
import dev.sparkprop.scale.StepModel.Sync;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StepModelTest {
  private static final Net CNN = Net.of(dev.sparkprop.nn.NetworkSpec.parse(
      "conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax",
      new dev.sparkprop.nn.NetworkSpec.Shape(1, 28, 28), dev.sparkprop.nn.Activation.RELU), "cnn");
  private static final List<Net> NETS = List.of(Net.of(784, 256, 10), Net.of(784, 512, 10), Net.of(784, 1024, 1024, 10),
      Net.of(784, 2048, 2048, 10), CNN);
  // c0, cParam, cFlop, jc0, jcParam, deltaStar, deltaJob, cConv | gammaStar, gammaJob | a0, aParam, aMsg, aByte | j0, jExec, jParam, jByte
  private static final StepModel TRUTH = new StepModel(new double[] {0.3, 0.5, 12.0, 0.9, 0.6, 0.4, 3.0, 25.0}, new double[] {0.2, 0.5},
      new double[] {0.05, 1.1, 0.4, 0.15}, new double[] {20, 30, 2.0, 0.9});

  /** The demo's grid of points, with times from a known model and multiplicative noise. */
  private static List<Point> points(StepModel m, double noise, long seed) {
    Random r = new Random(seed);
    List<Point> ps = new ArrayList<>();
    for (int w = 1; w <= 2; w++) {
      for (Sync s : new Sync[] {Sync.JOB, Sync.STAR}) {
        for (Net net : NETS) {
          for (int batch : net.name().equals("784-512-10") ? new int[] {256, 128 * w} : new int[] {128 * w}) {
            Point shape = new Point(s, w, batch, net, 1, 1);
            double c = m.predictCompute(shape) * (1 + noise * r.nextGaussian());
            double wall = c + (m.predictWall(shape) - m.predictCompute(shape)) * (1 + noise * r.nextGaussian());
            ps.add(new Point(s, w, batch, net, c, wall));
          }
        }
      }
    }
    return ps;
  }

  @Test
  void netSizes() {
    Net n = Net.of(784, 512, 10);
    assertEquals(0.407050, n.paramsM(), 1e-9);
    // forward and dW of both layers, dX of the second: 2 (2 * 784 * 512 + 3 * 512 * 10) flops
    assertEquals(2 * (2.0 * 784 * 512 + 3.0 * 512 * 10) / 1e9, n.gflopPerRow(), 1e-15);
    assertEquals("784-4096-4096-10", Net.of(784, 4096, 4096, 10).name());
    // the reference CNN: 225,034 parameters; convolutions 194,688 and 2,230,272 multiply-adds a
    // row (forward), dense 204,800 + 1,280; the first convolution has no dX
    assertEquals(0.225034, CNN.paramsM(), 1e-9);
    assertEquals((4.0 * 194_688 + 6.0 * 2_230_272) / 1e9, CNN.convGflopPerRow(), 1e-15);
    assertEquals(6.0 * (204_800 + 1_280) / 1e9, CNN.gflopPerRow(), 1e-15);
    assertEquals(0, Net.of(784, 512, 10).convGflopPerRow());
    // one counter: the bench's GFLOP/s reads the same total
    dev.sparkprop.nn.NetworkSpec spec = dev.sparkprop.nn.NetworkSpec.parse(
        "conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax",
        new dev.sparkprop.nn.NetworkSpec.Shape(1, 28, 28), dev.sparkprop.nn.Activation.RELU);
    assertEquals(spec.trainingFlopsPerRow() / 1e9, CNN.gflopPerRow() + CNN.convGflopPerRow(), 1e-15);
  }

  @Test
  void fitRecoversTheConstantsOfNoiselessPoints() {
    StepModel fit = StepModel.fit(points(TRUTH, 0, 1));
    assertEquals(TRUTH.gammaStar, fit.gammaStar, 1e-5);
    assertEquals(TRUTH.gammaJob, fit.gammaJob, 1e-5);
    double[] want = {TRUTH.c0, TRUTH.cParam, TRUTH.cFlop, TRUTH.jc0, TRUTH.jcParam, TRUTH.deltaStar, TRUTH.deltaJob, TRUTH.cConv, TRUTH.a0, TRUTH.aParam, TRUTH.aMsg, TRUTH.aByte, TRUTH.j0,
        TRUTH.jExec, TRUTH.jParam, TRUTH.jByte};
    double[] got = {fit.c0, fit.cParam, fit.cFlop, fit.jc0, fit.jcParam, fit.deltaStar, fit.deltaJob, fit.cConv, fit.a0, fit.aParam, fit.aMsg, fit.aByte, fit.j0, fit.jExec, fit.jParam,
        fit.jByte};
    assertArrayEquals(want, got, 1e-4);
  }

  @Test
  void fitOnNoisyPointsPredictsAHeldOutNetwork() {
    List<Point> all = points(TRUTH, 0.03, 7);
    List<Point> fitSet = new ArrayList<>();
    for (Point p : all) if (!p.net().name().equals("784-2048-2048-10")) fitSet.add(p);
    StepModel fit = StepModel.fit(fitSet);
    for (Point p : all) {
      if (!p.net().name().equals("784-2048-2048-10")) continue;
      Point exact = new Point(p.sync(), p.executors(), p.batch(), p.net(), 1, 1);
      double truth = TRUTH.predictWall(exact);
      assertEquals(truth, fit.predictWall(exact), 0.1 * truth, "held-out " + p);
    }
  }

  @Test
  void projectionTerms() {
    Net big = Net.of(784, 4096, 4096, 10);
    Network oneGbit = new Network("1 Gbit/s", 1, 0.1);
    // one executor: no exchange, the update only
    assertEquals(TRUTH.compute(Sync.STAR, 1, 128, big, false) + TRUTH.aParam * big.paramsM(),
        TRUTH.project(Sync.STAR, 1, 128, big, oneGbit, 1, 1), 1e-9);
    // the star hub moves 2 (P - 1) copies at 8 ms a MB on 1 Gbit/s; a ring about 2 per executor
    double mb = 4 * big.paramsM();
    double star = TRUTH.sync(Sync.STAR, 64, big, big.paramsM(), oneGbit);
    assertEquals(TRUTH.a0 + TRUTH.aParam * big.paramsM() + 63 * (TRUTH.aMsg + 0.1) + 63 * 2 * mb * (TRUTH.aByte + 8), star, 1e-6);
    double ring = TRUTH.sync(Sync.RING, 64, big, big.paramsM(), oneGbit);
    assertTrue(ring < star / 20, "ring " + ring + " vs star " + star);
    // local SGD: the exchange (of parameters and one optimizer array) once per 16 steps
    double k1 = TRUTH.project(Sync.STAR, 64, 128, big, oneGbit, 1, 1);
    double k16 = TRUTH.project(Sync.STAR, 64, 128, big, oneGbit, 16, 1);
    double exchange16 = TRUTH.sync(Sync.STAR, 64, big, 2 * big.paramsM(), oneGbit);
    double update = TRUTH.aParam * big.paramsM();
    assertEquals(TRUTH.compute(Sync.STAR, 64, 128, big, false) + update + (exchange16 - update) / 16, k16, 1e-6);
    assertTrue(k16 < k1 / 4, k16 + " vs " + k1);
  }

  @Test
  void leastSquaresDropsATermThatWouldBeNegative() {
    // y = 5 - x: unconstrained, the slope is -1; constrained, it is dropped and the constant
    // minimises the relative error: sum(1/y) / sum(1/y^2)
    double[][] x = {{1, 1}, {1, 2}, {1, 3}};
    double[] y = {4, 3, 2};
    double[] c = LeastSquares.nonNegativeRelative(x, y);
    assertEquals(0, c[1], 0);
    double s1 = 1 / 4.0 + 1 / 3.0 + 1 / 2.0;
    double s2 = 1 / 16.0 + 1 / 9.0 + 1 / 4.0;
    assertEquals(s1 / s2, c[0], 1e-12);
    // and a relative fit of exact data is exact
    double[] e = LeastSquares.nonNegativeRelative(new double[][] {{1, 1}, {1, 2}, {1, 3}}, new double[] {5, 8, 11});
    assertArrayEquals(new double[] {2, 3}, e, 1e-12);
  }
}
