package dev.sparkprop.train.step;

import dev.sparkprop.data.BatchLayout;

/**
 * The driver's reduce of a round, the same for every transport (the analogue of MLlib's
 * aggregator, with the division done once): the partitions' sums added in the
 * {@link ReductionTree}'s order, each step's rows checked against the batch, the vector divided
 * by the round's rows and checked for finiteness. Its buffers are made once.
 */
public final class Reducer {
  private final ReductionTree tree;
  private final ReductionTree.Parts parts;
  private final double[] loss; // one step's loss by partition
  private final boolean[] held; // the parts the driver holds: a tree's tasks forward whole subtrees
  private final float[][] scratch;

  /** For {@code partitions} partitions whose vectors hold at most {@code maxFloats} floats; {@code bf16}: sync.wire=bf16. */
  public Reducer(int partitions, int maxFloats, boolean bf16) {
    tree = new ReductionTree(partitions, bf16);
    parts = ReductionTree.Parts.own(partitions);
    loss = new double[partitions];
    held = new boolean[partitions];
    scratch = new float[Math.max(0, tree.depth() - 1)][maxFloats];
  }

  /**
   * Adds the round's per-step losses and rows of {@code sums} (indexed by partition) into
   * {@code stepLoss} and {@code stepRows}, and fails when a step's rows are not its batch's
   * (a shard is missing rows). Returns the slowest partition's compute time.
   */
  public long addSteps(PartitionSum[] sums, Round r, BatchLayout layout, double[] stepLoss, int[] stepRows) {
    java.util.Arrays.fill(held, false);
    for (int p = 0; p < sums.length; p++) parts.whole()[p] = sums[p].whole;
    hold(0);
    long slowest = 0;
    for (int p = 0; p < sums.length; p++) if (held[p]) slowest = Math.max(slowest, sums[p].computeNanos);
    for (int j = 0; j < r.steps(); j++) {
      int rows = 0;
      for (int p = 0; p < sums.length; p++) {
        loss[p] = sums[p].stepLoss[j];
        if (held[p]) rows += sums[p].stepRows[j];
      }
      stepLoss[j] = tree.sum(0, loss, parts.whole());
      stepRows[j] = rows;
      int k = r.first() + j;
      if (rows != layout.batchRows(k)) {
        throw new IllegalStateException("step " + k + " of epoch " + (r.epoch() + 1) + " saw " + rows
            + " rows, the batch has " + layout.batchRows(k) + "; a shard is missing rows");
      }
    }
    return slowest;
  }

  /** Marks the parts the tree reads from {@code a} down: a whole subtree's sum stands for everything below it. */
  private void hold(int a) {
    held[a] = true;
    if (parts.whole()[a]) return;
    ReductionTree t = tree;
    if (t.first(a) >= 0) hold(t.first(a));
    if (t.second(a) >= 0) hold(t.second(a));
  }

  /**
   * The sums' vectors added in the tree's order and divided by their rows, into
   * {@code mean[0, length)}; whether every value is finite. Fails when no partition had rows.
   */
  public boolean mean(PartitionSum[] sums, float[] mean, int length) {
    for (int p = 0; p < sums.length; p++) {
      parts.vector()[p] = sums[p].vector;
      parts.rows()[p] = sums[p].rows;
      parts.whole()[p] = sums[p].whole;
    }
    int rows = tree.rows(0, parts);
    int status = rows == 0 ? ReductionTree.EMPTY : tree.sum(0, parts, mean, 0, length, scratch, 1f / rows);
    if (status == ReductionTree.EMPTY) throw new IllegalStateException("no partition had rows");
    return status == ReductionTree.FINITE;
  }
}
