package dev.sparkprop.train.step;

import java.io.Serializable;

/**
 * What one partition sends the driver for one {@link Round}: in exact SGD the gradient of the
 * <em>summed</em> loss of its rows of the step's batch; in local SGD its end state
 * {@code [params | optimizer state arrays]} multiplied by the rows it trained on. Also the loss
 * sum and rows of every step of the round, and how long the partition computed. A partition
 * without rows in the round sends no vector at all.
 *
 * <p>Mutable so that the barrier transport fills the same P objects every step; the job
 * transport receives new ones from Spark.
 */
public final class PartitionSum implements Serializable {
  private static final long serialVersionUID = 1L;

  public int partition;
  /** Rows used in the whole round (the weight of the vector in local SGD). */
  public int rows;
  /** Per step of the round: the loss sum and rows of this partition's share of the batch. */
  public final double[] stepLoss;
  public final int[] stepRows;
  /** The vector; its values are meaningful only when {@code rows > 0}. */
  public float[] vector;
  /** Measured in the task: the round's computation (batch copy, forward, backward, local updates); in a tree, the slowest of its subtree. */
  public long computeNanos;
  /** sync.topology=tree: the vector, rows and losses are those of the partition's whole subtree ({@link ReductionTree}). */
  public boolean whole;

  public PartitionSum(int partition, int maxSteps, float[] vector) {
    this.partition = partition;
    this.stepLoss = new double[maxSteps];
    this.stepRows = new int[maxSteps];
    this.vector = vector;
  }
}
