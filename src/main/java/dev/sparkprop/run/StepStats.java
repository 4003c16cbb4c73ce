package dev.sparkprop.run;

/**
 * Where one step's time went, in nanoseconds, measured on the driver around each phase of its
 * loop, and in the tasks (the slowest task's computation). In local SGD a round's times are
 * shared evenly by its steps.
 *
 * @param wall the whole step on the driver
 * @param send handing the parameters over (job: creating the broadcast; barrier: writing them to every task)
 * @param receive until every partition's sum was in (job: the Spark job; barrier: waiting for and reading the sums)
 * @param add adding the partitions' sums in partition order, checking rows and finiteness
 * @param update dividing by the rows and the optimizer step (local SGD: taking the average)
 * @param slowestCompute the slowest task's computation (batch copy, forward, backward)
 * @param rows rows in the step's batch
 * @param loss mean cross-entropy of the step's batch (before the update)
 * @param lr learning rate of the step's update
 */
public record StepStats(int epoch, int step, long wall, long send, long receive, long add, long update,
    long slowestCompute, int rows, double loss, double lr) {
  /** Wall time not spent computing in the slowest task: the transport and the driver's work. */
  public long overhead() {
    return wall - slowestCompute;
  }
}
