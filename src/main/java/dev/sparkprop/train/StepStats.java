package dev.sparkprop.train;

/**
 * Where one step's time went, in nanoseconds: measured on the driver around each phase, and in
 * the tasks (the slowest task's computation and broadcast read).
 *
 * @param wall the whole step on the driver
 * @param broadcast creating the parameters' broadcast
 * @param job the Spark job: scheduling, tasks, results back (collect)
 * @param sum adding the partitions' gradient sums on the driver
 * @param update dividing, checking for NaN, the optimizer step
 * @param slowestCompute the slowest task's computation (batch copy, forward, backward)
 * @param slowestBroadcastRead the slowest task's read of the broadcast parameters
 * @param rows rows in the step's batch
 * @param loss mean cross-entropy of the step's batch (before the update)
 * @param lr learning rate of the step's update
 */
public record StepStats(int epoch, int step, long wall, long broadcast, long job, long sum, long update,
    long slowestCompute, long slowestBroadcastRead, int rows, double loss, double lr) {
  /** Wall time not spent computing in the slowest task: Spark's per-step overhead plus the driver's work. */
  public long overhead() {
    return wall - slowestCompute;
  }
}
