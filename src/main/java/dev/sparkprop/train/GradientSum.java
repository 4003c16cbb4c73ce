package dev.sparkprop.train;

import java.io.Serializable;

/**
 * What one partition sends back for one step: the gradient of the <em>summed</em> loss of its
 * rows of the step's batch, that loss sum, and the row count. A partition with no rows in the
 * step sends no gradient at all (not a 1.6 MB array of zeros).
 */
public final class GradientSum implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Flat gradient sum, or null when {@code rows == 0}. */
  public final float[] grad;
  public final double lossSum;
  public final int rows;
  /** Measured in the task: the step's computation (batch copy, forward, backward), nanoseconds. */
  public final long computeNanos;
  /** Measured in the task: reading the broadcast parameters (a fetch the first time on an executor). */
  public long broadcastReadNanos;

  public GradientSum(float[] grad, double lossSum, int rows, long computeNanos) {
    this.grad = grad;
    this.lossSum = lossSum;
    this.rows = rows;
    this.computeNanos = computeNanos;
  }

  public static GradientSum empty() {
    return new GradientSum(null, 0, 0, 0);
  }
}
