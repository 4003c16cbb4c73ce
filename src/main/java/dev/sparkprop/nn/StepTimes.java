package dev.sparkprop.nn;

import org.ejml.data.FMatrixRMaj;

/**
 * Where the time of a network's training pass goes, for the benchmark's breakdown
 * ({@link StepParts}): each convolution or pool layer's forward and backward, the products inside
 * them by kind, the layout changes at the head's two ends, and the dense layers' products. A
 * {@link Network} made by {@link #network} records into it; a training network has none, and its
 * head skips the clock reads.
 */
public final class StepTimes {
  /** The products by method: {@link Gemm#mult}, {@link Gemm#multTransA}, {@link Gemm#multTransB}. */
  static final int MULT = 0;
  static final int TRANS_A = 1;
  static final int TRANS_B = 2;

  final NetworkSpec spec;
  final int headLayers;
  final long[] forward; // nanoseconds, per head layer
  final long[] backward;
  final long[][] products; // [head layer + 1][method]; row 0: outside the head (the dense layers)
  long layout; // the head's input and output transposes, forward and backward
  int current = -1; // the head layer running, or -1

  StepTimes(NetworkSpec spec) {
    this.spec = spec;
    int f = 0;
    while (!(spec.layer(f) instanceof NetworkSpec.Dense)) f++;
    headLayers = f;
    forward = new long[f];
    backward = new long[f];
    products = new long[f + 1][3];
  }

  /** A network on {@code gemm} whose passes record here. */
  Network network(Gemm gemm) {
    Network n = new Network(spec, new Timed(gemm));
    n.timeParts(this);
    return n;
  }

  /** Head layer {@code layer} (or -1: outside a layer) starts; its start time. */
  long start(int layer) {
    current = layer;
    return System.nanoTime();
  }

  void forwardDone(int layer, long t0) {
    forward[layer] += System.nanoTime() - t0;
    current = -1;
  }

  void backwardDone(int layer, long t0) {
    backward[layer] += System.nanoTime() - t0;
    current = -1;
  }

  void layoutDone(long t0) {
    layout += System.nanoTime() - t0;
  }

  void reset() {
    java.util.Arrays.fill(forward, 0);
    java.util.Arrays.fill(backward, 0);
    for (long[] p : products) java.util.Arrays.fill(p, 0);
    layout = 0;
    current = -1;
  }

  /** A Gemm that adds each product's time to the running layer's slot. */
  private final class Timed implements Gemm {
    private final Gemm g;

    Timed(Gemm g) {
      this.g = g;
    }

    @Override
    public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
      long t0 = System.nanoTime();
      g.mult(a, b, c);
      products[current + 1][MULT] += System.nanoTime() - t0;
    }

    @Override
    public void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
      long t0 = System.nanoTime();
      g.multTransA(a, b, c);
      products[current + 1][TRANS_A] += System.nanoTime() - t0;
    }

    @Override
    public void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
      long t0 = System.nanoTime();
      g.multTransB(a, b, c);
      products[current + 1][TRANS_B] += System.nanoTime() - t0;
    }

    @Override
    public boolean prefersSparseInput() {
      return g.prefersSparseInput();
    }

    @Override
    public boolean prefersTransposedWeights() {
      return g.prefersTransposedWeights();
    }

    @Override
    public String description() {
      return g.description();
    }
  }
}
