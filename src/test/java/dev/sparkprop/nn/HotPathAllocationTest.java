package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A training pass of the reference CNN, and of the MLP on mostly-zero inputs ({@link SparseRows}),
 * allocates nothing once compiled: its buffers are made for the largest batch and reused, and the
 * Vector API's vectors ({@link Lanes}) stay in registers (a vector the JIT could not keep there
 * would be an object per use).
 */
class HotPathAllocationTest {
  @Test
  void aCompiledCnnPassAllocatesNothing() {
    assertTrue(Lanes.ON, Lanes.description());
    assertAllocatesNothing(NetworkSpec.parse("conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax",
        new NetworkSpec.Shape(1, 28, 28), Activation.RELU), 32, false);
  }

  @Test
  void aCompiledMlpPassOnMostlyZeroInputsAllocatesNothing() {
    assertTrue(Lanes.ON, Lanes.description());
    assertAllocatesNothing(NetworkSpec.of(new int[] {784, 512, 10}, Activation.RELU), 64, true);
  }

  private static void assertAllocatesNothing(NetworkSpec spec, int rows, boolean lanesInput) {
    Network net = new Network(spec, Kernel.OPENBLAS.gemm());
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 1);
    net.setParameters(params);
    SplittableRandom r = new SplittableRandom(2);
    float[] x = net.input(rows).data;
    for (int i = 0; i < rows * spec.inputSize(); i++) x[i] = r.nextInt(4) == 0 ? (float) r.nextDouble() : 0f;
    int[] labels = new int[rows];
    for (int i = 0; i < rows; i++) labels[i] = r.nextInt(10);
    float[] grad = new float[spec.numParams()];
    com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    long perPass = Long.MAX_VALUE;
    // compiled after a few hundred passes; of several later rounds the best counts (a round may catch a recompilation)
    for (int round = 0; round < 12 && perPass > 0; round++) {
      for (int i = 0; i < 60; i++) net.forwardBackward(rows, labels, 0, grad);
      long before = bean.getThreadAllocatedBytes(tid);
      for (int i = 0; i < 20; i++) net.forwardBackward(rows, labels, 0, grad);
      perPass = Math.min(perPass, (bean.getThreadAllocatedBytes(tid) - before) / 20);
    }
    assertTrue(net.inputInLanes() == lanesInput, "the input layer through SparseRows: " + lanesInput);
    assertTrue(perPass < 64, "a compiled pass allocated " + perPass + " bytes");
  }
}
