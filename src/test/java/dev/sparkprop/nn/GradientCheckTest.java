package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/** Analytic gradients of every activation and of the fused loss against central finite differences. */
class GradientCheckTest {
  private static final int ROWS = 6;

  /** Summed loss of the rows, in double through the float network. */
  private static double loss(Network net, float[] params, float[] x, int[] y) {
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
    return net.forward(ROWS, y, 0);
  }

  private static void check(NetworkSpec spec, long seed) {
    check(spec, seed, 0.0);
  }

  /** @param zeros fraction of the inputs set to 0 (above 1 - SPARSE_INPUT_DENSITY: the sparse kernels) */
  private static void check(NetworkSpec spec, long seed, double zeros) {
    check(spec, seed, zeros, EjmlGemm.INSTANCE);
  }

  private static void check(NetworkSpec spec, long seed, double zeros, Gemm gemm) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] params = new Initializer(Initializer.Kind.GLOROT, 0, 0).initialize(spec, seed);
    for (int i = 0; i < params.length; i++) params[i] += (float) (0.1 * rnd.nextGaussian()); // biases too
    float[] x = new float[ROWS * spec.inputSize()];
    for (int i = 0; i < x.length; i++) x[i] = rnd.nextDouble() < zeros ? 0f : (float) rnd.nextGaussian();
    int[] y = new int[ROWS];
    for (int r = 0; r < ROWS; r++) y[r] = rnd.nextInt(spec.outputSize());

    Network net = new Network(spec, gemm);
    float[] grad = new float[spec.numParams()];
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
    net.forwardBackward(ROWS, y, 0, grad);

    matchesFiniteDifferences(spec, params, grad, p -> loss(net, p, x, y));
  }

  /** Every parameter's analytic gradient against central differences of {@code loss} (params restored after). */
  private static void matchesFiniteDifferences(NetworkSpec spec, float[] params, float[] grad,
      java.util.function.ToDoubleFunction<float[]> loss) {
    for (int i = 0; i < params.length; i++) {
      // A step of 1e-2 can cross a ReLU kink, where the difference quotient is not the derivative;
      // then the smaller step (1e-3, noisier in float) must agree.
      double err = Double.MAX_VALUE;
      double numeric = 0;
      for (double eps : new double[] {1e-2, 1e-3}) {
        float saved = params[i];
        params[i] = (float) (saved + eps);
        double up = loss.applyAsDouble(params);
        params[i] = (float) (saved - eps);
        double down = loss.applyAsDouble(params);
        params[i] = saved;
        numeric = (up - down) / (2 * eps);
        err = Math.min(err, Math.abs(numeric - grad[i]) / Math.max(1.0, Math.abs(numeric) + Math.abs(grad[i])));
      }
      assertTrue(err < 5e-3, spec + ": parameter " + i + " analytic " + grad[i] + " numeric " + numeric);
    }
  }

  @org.junit.jupiter.api.Test
  void aWrongGradientIsCaught() {
    // The check itself must be able to fail: scale one layer's activation derivative wrongly.
    NetworkSpec spec = NetworkSpec.of(new int[] {4, 5, 3}, Activation.SIGMOID);
    float[] params = new Initializer(Initializer.Kind.GLOROT, 0, 0).initialize(spec, 3);
    Network net = new Network(spec);
    float[] x = {0.1f, -0.4f, 0.7f, 0.2f};
    int[] y = {2};
    float[] grad = new float[spec.numParams()];
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(1).data, 0, 4);
    net.forwardBackward(1, y, 0, grad);
    float saved = params[0];
    params[0] = saved + 1e-2f;
    double up = loss1(net, params, x, y);
    params[0] = saved - 1e-2f;
    double down = loss1(net, params, x, y);
    double numeric = (up - down) / 2e-2;
    org.junit.jupiter.api.Assertions.assertEquals(numeric, grad[0], 1e-3);
    org.junit.jupiter.api.Assertions.assertNotEquals(numeric, 2 * grad[0], 1e-4);
  }

  private static double loss1(Network net, float[] params, float[] x, int[] y) {
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(1).data, 0, x.length);
    return net.forward(1, y, 0);
  }

  @ParameterizedTest
  @EnumSource(Activation.class)
  void everyHiddenActivationMatchesFiniteDifferences(Activation hidden) {
    check(NetworkSpec.of(new int[] {5, 7, 4}, hidden), 11);
    check(NetworkSpec.of(new int[] {4, 6, 5, 3}, hidden), 12);
  }

  @Test
  void sparseInputKernelsMatchFiniteDifferences() {
    check(NetworkSpec.of(new int[] {12, 7, 4}, Activation.RELU), 21, 0.8);
    check(NetworkSpec.of(new int[] {12, 6, 5, 3}, Activation.TANH), 22, 0.9);
  }

  @Test
  void sparseAndDenseInputPathsGiveTheSameGradient() {
    NetworkSpec spec = NetworkSpec.of(new int[] {30, 8, 4}, Activation.RELU);
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 5);
    SplittableRandom rnd = new SplittableRandom(9);
    // Row 0 dense, rows 1-5 mostly zero: as a batch it is sparse; row 0 alone is dense.
    float[] x = new float[ROWS * 30];
    for (int i = 0; i < x.length; i++) x[i] = (i < 30 || rnd.nextDouble() < 0.1) ? (float) rnd.nextGaussian() : 0f;
    int[] y = {0, 1, 2, 3, 0, 1};
    Network net = new Network(spec);
    float[] batch = new float[spec.numParams()];
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
    net.forwardBackward(ROWS, y, 0, batch);
    float[] sum = new float[spec.numParams()];
    float[] one = new float[spec.numParams()];
    for (int r = 0; r < ROWS; r++) {
      System.arraycopy(x, r * 30, net.input(1).data, 0, 30);
      net.forwardBackward(1, y, r, one);
      for (int i = 0; i < sum.length; i++) sum[i] += one[i];
    }
    for (int i = 0; i < sum.length; i++) assertEquals(sum[i], batch[i], 1e-5 * (1 + Math.abs(sum[i])), "parameter " + i);
  }

  /** The BLAS kernels in the whole pass: dense and mostly-zero inputs, three layers. */
  @ParameterizedTest
  @EnumSource(value = Kernel.class, names = {"OPENBLAS", "JAVA", "NATIVE"})
  void blasKernelsMatchFiniteDifferences(Kernel kernel) {
    GemmTest.assumeAvailable(kernel);
    NetworkSpec spec = new NetworkSpec(new int[] {9, 7, 5, 4},
        new Activation[] {Activation.RELU, Activation.TANH, Activation.SOFTMAX});
    check(spec, 21, 0.0, kernel.gemm());
    check(spec, 22, 0.8, kernel.gemm());
  }

  /** A regression network (identity output, squared error against real targets), dense and convolutional. */
  @Test
  void squaredErrorMatchesFiniteDifferences() {
    for (NetworkSpec spec : new NetworkSpec[] {NetworkSpec.of(new int[] {5, 7, 3}, Activation.TANH, Activation.IDENTITY),
        NetworkSpec.parse("conv(2,3) relu, pool(2), dense(2)", new NetworkSpec.Shape(1, 6, 6), Activation.RELU,
            Activation.IDENTITY)}) {
      assertTrue(spec.isRegression());
      SplittableRandom rnd = new SplittableRandom(9);
      float[] params = new Initializer(Initializer.Kind.GLOROT, 0, 0).initialize(spec, 9);
      for (int i = 0; i < params.length; i++) params[i] += (float) (0.1 * rnd.nextGaussian());
      float[] x = new float[ROWS * spec.inputSize()];
      for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
      float[] y = new float[ROWS * spec.outputSize()];
      for (int i = 0; i < y.length; i++) y[i] = (float) (3 * rnd.nextGaussian());
      Network net = new Network(spec, EjmlGemm.INSTANCE);
      float[] grad = new float[spec.numParams()];
      net.setParameters(params);
      System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
      double sum = net.forwardBackward(ROWS, y, 0, grad);
      double direct = 0;
      net.setParameters(params);
      System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
      net.forward(ROWS, y, 0);
      float[] z = net.output().data;
      for (int i = 0; i < y.length; i++) direct += (z[i] - y[i]) * (double) (z[i] - y[i]);
      assertEquals(direct, sum, 1e-9 * Math.max(1, direct), "the summed squared error");
      matchesFiniteDifferences(spec, params, grad, p -> regressionLoss(net, p, x, y));
      assertThrows(IllegalArgumentException.class, () -> net.forward(ROWS, new int[ROWS], 0), "a regression net takes no classes");
    }
  }

  private static double regressionLoss(Network net, float[] params, float[] x, float[] y) {
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(ROWS).data, 0, x.length);
    return net.forward(ROWS, y, 0);
  }

  @Test
  void mixedActivationsMatchFiniteDifferences() {
    check(new NetworkSpec(new int[] {3, 5, 4, 6, 3},
        new Activation[] {Activation.TANH, Activation.RELU, Activation.SIGMOID, Activation.SOFTMAX}), 13);
  }

  @Test
  void fusedLossMatchesDirectFormulaAndStaysFiniteForHugeLogits() {
    float[] z = {1f, 2f, 3f, 1000f, 0f, -1000f};
    int[] y = {2, 2};
    double loss = SoftmaxCrossEntropy.forward(z, y, 0, 2, 3);
    double first = -Math.log(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)));
    double second = 1000.0 + 1000.0; // -log softmax = logsumexp - z_y = 1000 - (-1000)
    assertEquals(first + second, loss, 1e-9);
    assertTrue(Float.isFinite(z[5]) && z[3] == 1f && z[5] == 0f, "probabilities of the huge row");
    SoftmaxCrossEntropy.backward(z, y, 0, 2, 3);
    assertEquals(-1f, z[5], 0f, "p - onehot at the true class with p = 0");
  }

  @Test
  void lossGradientMatchesFiniteDifferencesOnLogits() {
    float[] z = {0.3f, -1.2f, 2.0f, 0.7f};
    int[] y = {1};
    float[] p = z.clone();
    SoftmaxCrossEntropy.forward(p, y, 0, 1, 4);
    SoftmaxCrossEntropy.backward(p, y, 0, 1, 4);
    for (int j = 0; j < 4; j++) {
      float[] a = z.clone();
      float[] b = z.clone();
      a[j] += 1e-3f;
      b[j] -= 1e-3f;
      double numeric = (SoftmaxCrossEntropy.forward(a, y, 0, 1, 4) - SoftmaxCrossEntropy.forward(b, y, 0, 1, 4)) / 2e-3;
      assertEquals(numeric, p[j], 2e-3, "logit " + j);
    }
  }

  /** The branch-free ReLU: the gradient passes whole for every positive output, subnormal ones too, and not at all for 0. */
  @Test
  void reluPassesTheGradientExactlyWhereTheOutputIsPositive() {
    float[] z = {-3f, -0f, 0f, Float.MIN_VALUE, Float.MIN_NORMAL / 3, Float.MIN_NORMAL, 1e-30f, 0.5f, 7e37f, Float.MAX_VALUE};
    Activation.RELU.forward(z, 1, z.length);
    float[] want = {0f, 0f, 0f, Float.MIN_VALUE, Float.MIN_NORMAL / 3, Float.MIN_NORMAL, 1e-30f, 0.5f, 7e37f, Float.MAX_VALUE};
    for (int i = 0; i < z.length; i++) org.junit.jupiter.api.Assertions.assertEquals(want[i], z[i], "forward " + i);
    float[] g = new float[z.length];
    java.util.Arrays.fill(g, -2.5f);
    Activation.RELU.backward(z, g, 1, z.length);
    for (int i = 0; i < z.length; i++) {
      org.junit.jupiter.api.Assertions.assertEquals(z[i] > 0f ? -2.5f : 0f, Math.abs(g[i]) == 0f ? 0f : g[i], "backward " + i);
    }
  }
}
