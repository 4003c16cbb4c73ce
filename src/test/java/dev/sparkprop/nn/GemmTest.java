package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.ejml.data.FMatrixRMaj;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every kernel against a naive product, and the BLAS kernels against EJML on a network. */
class GemmTest {
  /**
   * The bundled OpenBLAS comes with the build: it must load (a test of it fails, never skips). A
   * system BLAS (kernel=native) is optional: its tests are skipped on a machine without one.
   */
  static void assumeAvailable(Kernel kernel) {
    if (kernel == Kernel.OPENBLAS) {
      assertTrue(kernel.available(), "the bundled OpenBLAS must load on this platform");
      return;
    }
    if (kernel == Kernel.NATIVE) Assumptions.assumeTrue(kernel.available(), "no system BLAS on this machine");
  }

  @ParameterizedTest
  @EnumSource(Kernel.class)
  void everyKernelEqualsTheNaiveProductOnOddShapes(Kernel kernel) {
    assumeAvailable(kernel);
    Gemm g = kernel.gemm();
    Random rnd = new Random(3);
    int[][] shapes = {{1, 1, 1}, {1, 784, 512}, {7, 1, 9}, {2, 3, 1}, {13, 17, 19}, {129, 33, 257},
        {64, 784, 10}, {5, 512, 10}, {100, 10, 512}};
    for (int[] s : shapes) {
      assertNull(GemmCheck.compare(g, s[0], s[1], s[2], rnd), g.description() + " on " + s[0] + "x" + s[1] + "x" + s[2]);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Kernel.class, names = {"OPENBLAS", "JAVA", "NATIVE"})
  void emptyProductsAreZeroOrEmpty(Kernel kernel) {
    assumeAvailable(kernel);
    Gemm g = kernel.gemm();
    FMatrixRMaj c = new FMatrixRMaj(3, 4);
    java.util.Arrays.fill(c.data, 5f);
    g.mult(new FMatrixRMaj(3, 0), new FMatrixRMaj(0, 4), c);
    assertEquals(3, c.numRows);
    for (float v : c.data) assertEquals(0f, v);
    g.mult(new FMatrixRMaj(0, 6), new FMatrixRMaj(6, 4), c);
    assertEquals(0, c.numRows);
  }

  @ParameterizedTest
  @EnumSource(value = Kernel.class, names = {"OPENBLAS", "JAVA", "NATIVE"})
  void mismatchedShapesAreRefusedWithTheShapes(Kernel kernel) {
    assumeAvailable(kernel);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> kernel.gemm().mult(new FMatrixRMaj(2, 3), new FMatrixRMaj(4, 5), new FMatrixRMaj(1, 1)));
    assertEquals("mult: shapes do not match: (2, 3) and (4, 5)", e.getMessage());
  }

  @Test
  void theSelfCheckRefusesAWrongKernel() {
    // Adds the product to what c held (beta = 1 instead of 0): a plausible binding bug.
    Gemm wrong = new EjmlProducts("wrong") {
      @Override public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
        c.reshape(a.numRows, b.numCols, false);
        org.ejml.dense.row.CommonOps_FDRM.multAdd(a, b, c);
      }
    };
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Kernel.selfChecked(wrong));
    assertTrue(e.getMessage().startsWith("wrong failed its self-check: mult (1x1 by 1x1) element 0: "), e.getMessage());
  }

  @Test
  void unknownKernelNamesTheChoices() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernel.parse("mkl"));
    assertEquals("unknown kernel 'mkl': use auto, openblas, native, java or ejml", e.getMessage());
    assertEquals(Kernel.NATIVE, Kernel.parse(" Native "));
  }

  /** auto times what loads and takes the fastest: the bundled OpenBLAS, here, unless a system BLAS beats it by 20%. */
  @Test
  void autoTakesTheFastestKernelThatLoads() {
    KernelProbe.Choice c = Kernel.auto(128, 784, 512);
    System.out.println("auto: " + c.describe());
    double best = 0;
    double chosen = 0;
    for (KernelProbe.Timing t : c.timings()) {
      best = Math.max(best, t.gflops());
      if (t.kernel().equals(c.gemm().description())) chosen = t.gflops();
    }
    assertTrue(chosen > 0 && chosen * KernelProbe.MARGIN >= best, c.describe());
    assertEquals(c.gemm(), Kernel.AUTO.gemm(), "one choice per JVM");
    assertTrue(c.describe().matches(".* [0-9]+ GFLOP/s \\(probe 128x784x512; .*\\)"), c.describe());
  }

  /** A correct kernel 3 times slower than the best is never taken, wherever it stands in the list. */
  @Test
  void autoDoesNotTakeADeliberatelySlowKernel() {
    Gemm fast = Kernel.OPENBLAS.gemm();
    Gemm slow = slowed(fast, 3);
    assertEquals(fast, KernelProbe.fastest(java.util.List.of(slow, fast), 64, 784, 512).gemm(), "slow first");
    assertEquals(fast, KernelProbe.fastest(java.util.List.of(fast, slow), 64, 784, 512).gemm(), "slow second");
    assertEquals(fast, KernelProbe.fastest(java.util.List.of(EjmlGemm.INSTANCE, slow, fast), 64, 784, 512).gemm(),
        "EJML's reference kernel and a slowed OpenBLAS before it");
  }

  /** The same products, each run {@code times} times: correct and that much slower. */
  private static Gemm slowed(Gemm g, int times) {
    return new Gemm() {
      @Override public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
        for (int i = 0; i < times; i++) g.mult(a, b, c);
      }
      @Override public void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
        for (int i = 0; i < times; i++) g.multTransA(a, b, c);
      }
      @Override public void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
        for (int i = 0; i < times; i++) g.multTransB(a, b, c);
      }
      @Override public boolean prefersSparseInput() {
        return false;
      }
      @Override public String description() {
        return "slowed " + g.description();
      }
    };
  }

  /** A real MNIST-sized pass: BLAS kernels' gradients equal EJML's to float rounding. */
  @ParameterizedTest
  @EnumSource(value = Kernel.class, names = {"OPENBLAS", "JAVA", "NATIVE"})
  void blasGradientsEqualEjmlOnAnMnistSizedBatch(Kernel kernel) {
    assumeAvailable(kernel);
    NetworkSpec spec = new NetworkSpec(new int[] {784, 512, 10}, new Activation[] {Activation.RELU, Activation.SOFTMAX});
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 5);
    Random rnd = new Random(9);
    int rows = 67;
    float[] x = new float[rows * 784];
    for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat() < 0.19f ? rnd.nextFloat() : 0f;
    int[] y = new int[rows];
    for (int r = 0; r < rows; r++) y[r] = rnd.nextInt(10);
    float[] want = gradient(new Network(spec), params, x, y, rows);
    float[] got = gradient(new Network(spec, kernel.gemm()), params, x, y, rows);
    // Float sums of up to 784 terms in another order: equal to rounding, relative to the tensor's scale.
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < want.length; i++) {
      diff = Math.max(diff, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    assertTrue(scale > 0 && diff <= 1e-5 * scale, kernel + ": max difference " + diff + ", max |gradient| " + scale);
    System.out.println(kernel + ": max difference " + diff + ", max |gradient| " + scale);
  }

  /**
   * The inference pass by transposed weights ({@link Gemm#prefersTransposedWeights}) gives the
   * probabilities of the pass by the weights, for an MLP and the tail of a CNN, and follows every
   * setParameters: the same array changed in place and set again, and another array.
   */
  @Test
  void forwardByTransposedWeightsEqualsForwardByWeightsAndFollowsNewParameters() {
    int[] mults = new int[1];
    Gemm transposing = new EjmlProducts("transposing") {
      @Override public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
        mults[0]++;
        super.mult(a, b, c);
      }
      @Override public boolean prefersTransposedWeights() {
        return true;
      }
    };
    for (String layers : new String[] {"784-64-32-10", "conv3x3x4 pool2 16 10 (8x8x1)"}) {
      NetworkSpec spec = layers.startsWith("conv")
          ? NetworkSpec.parse("conv(4,3), pool(2), dense(16), dense(10)", new NetworkSpec.Shape(1, 8, 8), Activation.RELU)
          : NetworkSpec.of(new int[] {784, 64, 32, 10}, Activation.RELU);
      Random rnd = new Random(21);
      int rows = 37;
      float[] x = new float[rows * spec.inputSize()];
      for (int i = 0; i < x.length; i++) x[i] = rnd.nextFloat();
      float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 4);
      Network byT = new Network(spec, transposing);
      for (int round = 0; round < 3; round++) {
        if (round == 1) {
          for (int i = 0; i < params.length; i++) params[i] *= -0.5f; // the same array, changed in place
        } else if (round == 2) {
          params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 5);
        }
        float[] want = probabilities(new Network(spec), params, x, rows);
        mults[0] = 0;
        float[] got = probabilities(byT, params, x, rows);
        if (!layers.startsWith("conv")) assertEquals(0, mults[0], "an MLP's forward multiplies by the transposed weights only");
        for (int i = 0; i < want.length; i++) {
          assertEquals(want[i], got[i], 1e-6f, layers + ", parameters " + round + ", value " + i);
        }
      }
    }
  }

  /**
   * A network given the same fixed array again keeps its transposed weights; given another array,
   * or the same one through setParameters (which allows changes in place), it transposes again.
   */
  @Test
  void fixedParametersAreTransposedOncePerArray() {
    NetworkSpec spec = NetworkSpec.of(new int[] {784, 64, 10}, Activation.RELU);
    Network net = new Network(spec, Kernel.OPENBLAS.gemm());
    Assumptions.assumeTrue(net.gemm().prefersTransposedWeights(), net.gemm().description());
    float[] x = new float[5 * 784];
    java.util.Arrays.fill(x, 0.5f);
    float[] a = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 1);
    float[] b = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 2);
    int[] labels = new int[5];
    Runnable pass = () -> {
      System.arraycopy(x, 0, net.input(5).data, 0, x.length);
      net.forward(5, labels, 0);
    };
    net.setFixedParameters(a);
    pass.run();
    net.setFixedParameters(a);
    pass.run();
    assertEquals(1, net.transposesMade(), "the same fixed array twice");
    float[] fromA = java.util.Arrays.copyOf(net.output().data, 50);
    net.setFixedParameters(b);
    pass.run();
    assertEquals(2, net.transposesMade(), "another array");
    net.setParameters(b);
    pass.run();
    assertEquals(3, net.transposesMade(), "setParameters: the array may have changed");
    net.setFixedParameters(a);
    pass.run();
    assertEquals(4, net.transposesMade(), "back to the first array");
    for (int i = 0; i < 50; i++) assertEquals(fromA[i], net.output().data[i], "value " + i);
  }

  private static float[] probabilities(Network net, float[] params, float[] x, int rows) {
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(rows).data, 0, x.length);
    net.forward(rows, new int[rows], 0);
    return java.util.Arrays.copyOf(net.output().data, rows * net.spec().outputSize());
  }

  /** EJML's products and no sparse input: test kernels override the one thing they change. */
  private static class EjmlProducts implements Gemm {
    private final String name;

    EjmlProducts(String name) {
      this.name = name;
    }

    @Override public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
      EjmlGemm.INSTANCE.mult(a, b, c);
    }
    @Override public void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
      EjmlGemm.INSTANCE.multTransA(a, b, c);
    }
    @Override public void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
      EjmlGemm.INSTANCE.multTransB(a, b, c);
    }
    @Override public boolean prefersSparseInput() {
      return false;
    }
    @Override public String description() {
      return name;
    }
  }

  private static float[] gradient(Network net, float[] params, float[] x, int[] y, int rows) {
    float[] g = new float[net.spec().numParams()];
    net.setParameters(params);
    System.arraycopy(x, 0, net.input(rows).data, 0, x.length);
    net.forwardBackward(rows, y, 0, g);
    return g;
  }
}
