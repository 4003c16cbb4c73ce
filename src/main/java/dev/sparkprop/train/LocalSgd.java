package dev.sparkprop.train;

import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import java.io.Serializable;
import java.util.List;

/**
 * Local SGD ({@code sync.every=K}, K > 1): between two averagings each partition takes up to K
 * optimizer steps on its own rows of the global batches alone, from the same start; then the
 * replicas' parameters and optimizer state are averaged, weighted by the rows each partition
 * used in the round, and every partition continues from that average. A round never crosses an
 * epoch's end. With K = 1 the trainer does not come here: it averages gradients every step (exact
 * synchronous SGD).
 *
 * <p>Each local step uses the mean gradient of the partition's rows of that batch (batch / P
 * rows) and the global schedule's rate for the step. The averaged vector is
 * {@code [params | state arrays in Optimizer.stateArrays() order]}, summed in partition order
 * and scaled once by 1 / rows, the same arithmetic in both sync modes, so {@code job} and
 * {@code allreduce} give the same bits.
 */
final class LocalSgd {
  private LocalSgd() {}

  /** One partition's round: its row-weighted packed state and every step's loss sum and rows. */
  static final class RoundSum implements Serializable {
    private static final long serialVersionUID = 1L;
    /** rows x [params | state arrays], or null when the partition had no rows in the round. */
    final float[] weighted;
    final int rows;
    /** Per step of the round: the partition's loss sum and row count. */
    final double[] stepLoss;
    final int[] stepRows;
    final long computeNanos;

    RoundSum(float[] weighted, int rows, double[] stepLoss, int[] stepRows, long computeNanos) {
      this.weighted = weighted;
      this.rows = rows;
      this.stepLoss = stepLoss;
      this.stepRows = stepRows;
      this.computeNanos = computeNanos;
    }
  }

  /** The first step after the round that starts at {@code step}: rounds start at multiples of K. */
  static int roundEnd(int step, int every, int stepsPerEpoch) {
    return Math.min(stepsPerEpoch, (step / every + 1) * every);
  }

  /** Length of the packed vector: the parameters and each optimizer state array. */
  static int packedLength(int numParams, Optimizer optimizer) {
    return numParams * (1 + optimizer.stateArrays().size());
  }

  /**
   * Runs steps {@code [first, end)} of {@code epoch} on this shard, updating {@code params} and
   * {@code optimizer} in place, and returns the round's sum.
   *
   * @param grad scratch of numParams floats
   * @param weightedOut receives the packed, row-weighted vector (packedLength floats); it is the
   *     result's {@code weighted} array, so a caller that keeps it (allreduce) reuses one buffer
   */
  static RoundSum round(Shard shard, float[] params, Optimizer optimizer, NetworkSpec spec, Kernel kernel,
      BatchLayout layout, boolean shuffle, long seed, int epoch, int first, int end, LearningRate schedule,
      long totalSteps, float[] grad, float[] weightedOut) {
    long t0 = System.nanoTime();
    int steps = layout.numBatches();
    double[] stepLoss = new double[end - first];
    int[] stepRows = new int[end - first];
    int rows = 0;
    for (int k = first; k < end; k++) {
      GradientSum g = StepFunction.compute(shard, params, spec, kernel, layout, shuffle, seed, epoch, k, grad);
      stepLoss[k - first] = g.lossSum;
      stepRows[k - first] = g.rows;
      if (g.rows == 0) continue; // no rows of this batch here: no local step
      rows += g.rows;
      float inv = 1f / g.rows;
      for (int i = 0; i < grad.length; i++) grad[i] *= inv;
      optimizer.step(params, grad, schedule.at((long) epoch * steps + k, steps, totalSteps));
    }
    if (rows == 0) return new RoundSum(null, 0, stepLoss, stepRows, System.nanoTime() - t0);
    pack(params, optimizer, rows, weightedOut);
    return new RoundSum(weightedOut, rows, stepLoss, stepRows, System.nanoTime() - t0);
  }

  /** {@code out = w * [params | state arrays]}; an array the optimizer has not allocated packs as zeros. */
  static void pack(float[] params, Optimizer optimizer, float w, float[] out) {
    int n = params.length;
    for (int i = 0; i < n; i++) out[i] = w * params[i];
    int off = n;
    for (float[] a : optimizer.liveState(n)) {
      for (int i = 0; i < n; i++) out[off + i] = w * a[i];
      off += n;
    }
  }

  /**
   * Adds the partitions' weighted vectors in partition order and divides by the rows: the
   * round's average, in {@code avg}. Returns the rows (0: nobody had rows; avg untouched).
   */
  static int average(List<RoundSum> sums, float[] avg) {
    int rows = DistributedTrainer.addInOrder(sums, s -> s.rows, s -> s.weighted, avg);
    if (rows == 0) return 0;
    float inv = 1f / rows;
    for (int i = 0; i < avg.length; i++) avg[i] *= inv;
    return rows;
  }

  /**
   * Each step's loss sum and rows over the partitions, into {@code stepLoss} and
   * {@code stepRows}; checks the rows against the batch layout. Returns the slowest round's
   * compute, nanoseconds.
   */
  static long totals(List<RoundSum> sums, BatchLayout layout, int epoch, int first, double[] stepLoss, int[] stepRows) {
    long slowest = 0;
    for (RoundSum r : sums) {
      for (int j = 0; j < stepLoss.length; j++) {
        stepLoss[j] += r.stepLoss[j];
        stepRows[j] += r.stepRows[j];
      }
      slowest = Math.max(slowest, r.computeNanos);
    }
    for (int j = 0; j < stepRows.length; j++) {
      if (stepRows[j] != layout.batchRows(first + j)) {
        throw new IllegalStateException("step " + (first + j) + " of epoch " + (epoch + 1) + " saw " + stepRows[j]
            + " rows, the batch has " + layout.batchRows(first + j) + "; a shard is missing rows");
      }
    }
    return slowest;
  }

  /**
   * Continues every replica from the average: copies its parameters into {@code params} and its
   * state arrays into the optimizer's own, which takes {@code optimizerSteps} steps (those taken
   * before the round plus the round's). No allocation after the first round.
   */
  static void unpack(float[] avg, float[] params, Optimizer optimizer, long optimizerSteps) {
    int n = params.length;
    System.arraycopy(avg, 0, params, 0, n);
    int off = n;
    for (float[] a : optimizer.liveState(n)) {
      System.arraycopy(avg, off, a, 0, n);
      off += n;
    }
    optimizer.setSteps(optimizerSteps);
  }

  /** Whether every value of the averaged vector is finite. */
  static boolean finite(float[] avg) {
    for (float v : avg) if (!Float.isFinite(v)) return false;
    return true;
  }
}
