package dev.sparkprop.train.step;

import dev.sparkprop.optim.Optimizer;

/**
 * Local SGD ({@code sync.every=K}, K > 1): between two averagings each partition takes up to K
 * optimizer steps on its own rows of the global batches alone, from the same start; then the
 * driver averages the replicas' parameters and optimizer state, weighted by the rows each
 * partition used in the round, and every partition continues from that average. A round never
 * crosses an epoch's end. With K = 1 the driver averages gradients every step instead (exact
 * synchronous SGD).
 *
 * <p>The averaged vector is {@code [params | state arrays in Optimizer.stateArrays() order]}:
 * this class packs and unpacks it. The driver sends it unweighted (weight 1, the same floats)
 * and each partition returns it multiplied by its rows; the driver adds those in partition order
 * and scales once by 1 / rows, the same arithmetic for both transports.
 */
public final class LocalSgd {
  private LocalSgd() {}

  /** Length of the packed vector: the parameters and each optimizer state array. */
  static int packedLength(int numParams, Optimizer optimizer) {
    return numParams * (1 + optimizer.stateArrays().size());
  }

  /** {@code out = w * [params | state arrays]}; an array the optimizer has not allocated packs as zeros. */
  public static void pack(float[] params, Optimizer optimizer, float w, float[] out) {
    int n = params.length;
    for (int i = 0; i < n; i++) out[i] = w * params[i];
    int off = n;
    for (float[] a : optimizer.liveState(n)) {
      for (int i = 0; i < n; i++) out[off + i] = w * a[i];
      off += n;
    }
  }

  /**
   * Continues from a packed state: copies its parameters into {@code params} and its state
   * arrays into the optimizer's own, which then counts {@code optimizerSteps} steps. No
   * allocation after the first call.
   */
  public static void unpack(float[] packed, float[] params, Optimizer optimizer, long optimizerSteps) {
    int n = params.length;
    System.arraycopy(packed, 0, params, 0, n);
    int off = n;
    for (float[] a : optimizer.liveState(n)) {
      System.arraycopy(packed, off, a, 0, n);
      off += n;
    }
    optimizer.setSteps(optimizerSteps);
  }
}
