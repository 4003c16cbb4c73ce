package dev.sparkprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.TrainConfig;
import org.junit.jupiter.api.Test;

/** Each optimizer against its textbook formula, written out independently in double. */
class OptimizerTest {
  private static final float[] G1 = {0.5f, -1.0f, 2.0f};
  private static final float[] G2 = {-0.25f, 0.5f, 1.0f};

  @Test
  void sgdSubtractsLearningRateTimesGradient() {
    float[] p = {1f, 2f, 3f};
    new Sgd().step(p, G1, 0.1);
    assertArray(new double[] {0.95, 2.1, 2.8}, p);
  }

  @Test
  void momentumAccumulatesVelocity() {
    float[] p = {0f, 0f, 0f};
    Momentum opt = new Momentum(0.9, false);
    opt.step(p, G1, 0.1);
    opt.step(p, G2, 0.1);
    double[] expected = new double[3];
    for (int i = 0; i < 3; i++) {
      double v1 = G1[i];
      double v2 = 0.9 * v1 + G2[i];
      expected[i] = -0.1 * v1 - 0.1 * v2;
    }
    assertArray(expected, p);
  }

  @Test
  void nesterovLooksAhead() {
    float[] p = {0f, 0f, 0f};
    Momentum opt = new Momentum(0.9, true);
    opt.step(p, G1, 0.1);
    opt.step(p, G2, 0.1);
    double[] expected = new double[3];
    for (int i = 0; i < 3; i++) {
      double v1 = G1[i];
      double v2 = 0.9 * v1 + G2[i];
      expected[i] = -0.1 * (G1[i] + 0.9 * v1) - 0.1 * (G2[i] + 0.9 * v2);
    }
    assertArray(expected, p);
  }

  @Test
  void rmsPropScalesByRootMeanSquare() {
    float[] p = {0f, 0f, 0f};
    RmsProp opt = new RmsProp(0.9, 1e-8);
    opt.step(p, G1, 0.01);
    opt.step(p, G2, 0.01);
    double[] expected = new double[3];
    for (int i = 0; i < 3; i++) {
      double s1 = 0.1 * G1[i] * G1[i];
      double s2 = 0.9 * s1 + 0.1 * G2[i] * G2[i];
      expected[i] = -0.01 * G1[i] / (Math.sqrt(s1) + 1e-8) - 0.01 * G2[i] / (Math.sqrt(s2) + 1e-8);
    }
    assertArray(expected, p);
  }

  @Test
  void adamWithBiasCorrection() {
    float[] p = {0f, 0f, 0f};
    Adam opt = new Adam(0.9, 0.999, 1e-8);
    opt.step(p, G1, 0.001);
    opt.step(p, G2, 0.001);
    double[] expected = new double[3];
    for (int i = 0; i < 3; i++) {
      double m = 0;
      double v = 0;
      double x = 0;
      float[][] gs = {G1, G2};
      for (int t = 1; t <= 2; t++) {
        double g = gs[t - 1][i];
        m = 0.9 * m + 0.1 * g;
        v = 0.999 * v + 0.001 * g * g;
        double mhat = m / (1 - Math.pow(0.9, t));
        double vhat = v / (1 - Math.pow(0.999, t));
        x -= 0.001 * mhat / (Math.sqrt(vhat) + 1e-8);
      }
      expected[i] = x;
    }
    assertArray(expected, p);
    // The first Adam step moves every parameter by about lr, whatever the gradient's scale.
    float[] q = {0f};
    new Adam(0.9, 0.999, 1e-8).step(q, new float[] {1234f}, 0.001);
    assertEquals(-0.001, q[0], 1e-6);
  }

  @Test
  void schedules() {
    assertEquals(0.1, LearningRate.constant(0.1).at(500, 100, 1000), 0);
    LearningRate step = new LearningRate(LearningRate.Kind.STEP, 0.1, 0.5, 2, 0, 0);
    assertEquals(0.1, step.at(199, 100, 1000), 1e-12);
    assertEquals(0.05, step.at(200, 100, 1000), 1e-12);
    assertEquals(0.025, step.at(450, 100, 1000), 1e-12);
    LearningRate cos = new LearningRate(LearningRate.Kind.COSINE, 0.1, 1, 1, 0.01, 0);
    assertEquals(0.1, cos.at(0, 100, 1000), 1e-12);
    assertEquals(0.055, cos.at(500, 100, 1000), 1e-12);
    assertEquals(0.01, cos.at(1000, 100, 1000), 1e-12);
    LearningRate warm = new LearningRate(LearningRate.Kind.CONSTANT, 0.1, 1, 1, 0, 10);
    assertEquals(0.01, warm.at(0, 100, 1000), 1e-12);
    assertEquals(0.1, warm.at(9, 100, 1000), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> LearningRate.constant(-0.1));
  }

  @Test
  void warmUpInEpochsAndTheLinearScalingRule() {
    // 40 steps an epoch, half an epoch of warm-up: 20 steps
    LearningRate warm = new LearningRate(LearningRate.Kind.CONSTANT, 0.4, 1, 1, 0, 0, 0.5);
    assertEquals(0.4 / 20, warm.at(0, 40, 400), 1e-12);
    assertEquals(0.4 * 10 / 20, warm.at(9, 40, 400), 1e-12);
    assertEquals(0.4, warm.at(19, 40, 400), 1e-12);
    assertEquals(0.4, warm.at(20, 40, 400), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> new LearningRate(LearningRate.Kind.CONSTANT, 0.4, 1, 1, 0, 5, 0.5));
    // lr 0.1 tuned for batch 256, used at batch 1024: 0.4, cosine down to 4 x lr.min
    dev.sparkprop.config.TrainConfig cfg = dev.sparkprop.config.TrainConfig.of(new java.util.Properties()).with(
        "lr", "0.1", "lr.min", "0.01", "batch.size", "1024", "lr.scale.batch", "256", "lr.warmup.epochs", "1");
    LearningRate lr = cfg.learningRate();
    assertEquals(0.4 / 10, lr.at(0, 10, 100), 1e-12);
    assertEquals(0.04 + 0.36 * 0.5 * (1 + Math.cos(Math.PI * 9 / 100)), lr.at(9, 10, 100), 1e-12);
    assertEquals(0.04, lr.at(100, 10, 100), 1e-12);
    assertEquals(0.1, dev.sparkprop.config.TrainConfig.of(new java.util.Properties())
        .with("lr", "0.1", "batch.size", "1024").learningRate().at(0, 10, 1000), 1e-12, "no scaling unless asked");
  }

  private static void assertArray(double[] expected, float[] actual) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-6 * Math.max(1, Math.abs(expected[i])), "index " + i);
    }
  }

  /** State values that decay into the subnormal range are set to 0 every 16th step; normal ones are untouched. */
  @Test
  void subnormalStateIsFlushedEvery16thStep() {
    for (Optimizer o : new Optimizer[] {new Momentum(0.9, true), new RmsProp(0.9, 1e-8), new Adam(0.9, 0.999, 1e-8)}) {
      float[] params = {1f, 1f};
      o.step(params, new float[] {1e-18f, 1f}, 0.1); // step 1
      float[] zero = {0f, 0f};
      float[][] state = o.liveState(2);
      boolean sawSubnormal = false;
      for (long s = 2; s <= 3000; s++) {
        o.step(params, zero, 0.1);
        for (float[] a : state) {
          boolean sub = a[0] != 0f && Math.abs(a[0]) < Float.MIN_NORMAL;
          sawSubnormal |= sub;
          if (s % 16 == 0) org.junit.jupiter.api.Assertions.assertFalse(sub, o.describe() + " step " + s + ": " + a[0]);
        }
      }
      assertTrue(sawSubnormal, o.describe() + ": the state passed through the subnormal range");
      for (float[] a : state) assertEquals(0f, a[0], o.describe() + ": decayed to 0");
    }
    // a normal value is never touched: the same bits as the plain recurrence
    Momentum m = new Momentum(0.9, false);
    float[] p = {0f};
    m.step(p, new float[] {1f}, 0.0);
    float v = 1f;
    for (int s = 2; s <= 64; s++) {
      m.step(p, new float[] {0f}, 0.0);
      v = 0.9f * v;
      assertEquals(v, m.liveState(1)[0][0], "step " + s);
    }
  }

  /** Every optimizer's checkpoint form: restoring continues with the same bits; another optimizer's state is refused. */
  @Test
  void stateRestoresBitForBitAndRefusesAnotherOptimizersArrays() {
    java.util.function.Supplier<?>[] makers = {Sgd::new, () -> new Momentum(0.9, true), () -> new RmsProp(0.9, 1e-8),
        () -> new Adam(0.9, 0.999, 1e-8)};
    for (java.util.function.Supplier<?> make : makers) {
      Optimizer a = (Optimizer) make.get();
      float[] pa = {0.5f, -1f, 2f};
      float[][] grads = {{0.1f, -0.2f, 0.3f}, {-0.3f, 0.1f, 0.05f}, {0.2f, 0.2f, -0.1f}, {0.01f, -0.4f, 0.3f}};
      a.step(pa, grads[0], 0.1);
      a.step(pa, grads[1], 0.1);
      Optimizer b = (Optimizer) make.get();
      b.restore(a.state(), 3);
      float[] pb = pa.clone();
      assertEquals(2, b.steps(), a.describe());
      for (int s = 2; s < 4; s++) {
        a.step(pa, grads[s], 0.05);
        b.step(pb, grads[s], 0.05);
      }
      org.junit.jupiter.api.Assertions.assertArrayEquals(pa, pb, a.describe() + ": the restored run continues with the same bits");
      assertEquals(a.stateArrays(), new java.util.ArrayList<>(a.state().arrays().keySet()), a.describe());
      assertThrows(IllegalArgumentException.class, () -> b.restore(new OptimizerState(2, java.util.Map.of("velocity", new float[2])), 3),
          a.describe() + ": wrong length or another optimizer's array");
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Sgd().restore(new OptimizerState(3, java.util.Map.of("m", new float[3])), 3));
    assertEquals("sgd has no state array 'm'; its arrays are []", e.getMessage());
  }
}
