package dev.sparkprop.train;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.train.sync.TaskSlots;
import java.util.Locale;

/**
 * What a training run needs in memory, estimated from the network before Spark starts, so that a
 * network too large for the heaps it was given is refused with the figures and the setting to
 * change, instead of an {@code OutOfMemoryError} from deep inside the first step.
 *
 * <p>The driver holds the parameters, the optimizer's state arrays, the mean gradient, a copy
 * for the tasks, and each partition's gradient sum as it arrives (the star's worst case). A task
 * holds the parameters, their transposed copy and its gradient sum (3 vectors), and activations,
 * deltas and (for a convolution) its unfolded input for its rows of the step. Spark keeps 300 MB
 * of every heap for itself. The figures are lower bounds: the run needs more (cached data,
 * Spark's buffers), never less.
 */
public record MemoryBudget(long driverBytes, long taskBytes) {
  /** What Spark reserves in every JVM before any of it is usable (its {@code RESERVED_SYSTEM_MEMORY_BYTES}). */
  public static final long SPARK_RESERVED = 300L << 20;
  /** The smallest heap Spark starts in: 1.5 times the reserve ({@code UnifiedMemoryManager}). */
  public static final long SPARK_MINIMUM = SPARK_RESERVED * 3 / 2;

  /**
   * @param optimizerArrays the optimizer's state arrays, each the parameters' length (Adam: 2)
   * @param partitions the partitions whose sums the driver may hold at once
   */
  public static MemoryBudget of(NetworkSpec spec, int optimizerArrays, int batchSize, int partitions) {
    long params = spec.numParams();
    long driver = 4 * params * (3L + optimizerArrays + Math.max(1, partitions));
    int rows = Math.max(256, (batchSize + Math.max(1, partitions) - 1) / Math.max(1, partitions)); // evaluation: 256-row passes at least
    long perRow = spec.inputSize();
    for (int l = 0; l < spec.numLayers(); l++) {
      NetworkSpec.Shape out = spec.shape(l + 1);
      perRow += 2L * out.size(); // activations and deltas
      if (spec.layer(l) instanceof NetworkSpec.Conv) perRow += 2L * out.h() * out.w() * spec.in(l); // unfolded input and its gradient
    }
    long task = 4 * (3 * params + rows * perRow);
    return new MemoryBudget(driver, task);
  }

  /**
   * Refuses the run when the driver (with {@code tasksInDriver} tasks, local mode) or an executor
   * (with {@code tasksPerExecutor}) would not fit its heap.
   *
   * @param executorHeap 0 when no executor JVM runs (local mode)
   */
  public void check(long driverHeap, int tasksInDriver, long executorHeap, int tasksPerExecutor) {
    long inDriver = driverBytes + tasksInDriver * taskBytes;
    if (SPARK_RESERVED + inDriver > driverHeap) {
      throw new ConfigException("layers: this network needs at least " + size(inDriver) + " in the driver ("
          + (tasksInDriver > 0 ? tasksInDriver + " tasks run in it, " + size(taskBytes) + " each, and " : "")
          + size(driverBytes) + " for the parameters, the optimizer and the partitions' sums), but its heap is "
          + size(driverHeap) + " of which Spark keeps " + size(SPARK_RESERVED) + "; set spark.driver.memory (in conf/spark-defaults.conf, or spark-submit's --driver-memory) to "
          + size(SPARK_RESERVED + inDriver + (inDriver >> 1)) + " or more, or train a smaller network");
    }
    if (executorHeap > 0 && SPARK_RESERVED + tasksPerExecutor * taskBytes > executorHeap) {
      throw new ConfigException("layers: this network needs at least " + size(tasksPerExecutor * taskBytes)
          + " in each executor (" + tasksPerExecutor + " tasks of " + size(taskBytes) + "), but spark.executor.memory is "
          + size(executorHeap) + " of which Spark keeps " + size(SPARK_RESERVED) + "; set spark.executor.memory (--conf spark.executor.memory=..., or SPARKPROP_EXECUTOR_MEMORY for submit/train-cluster) to "
          + size(SPARK_RESERVED + tasksPerExecutor * taskBytes * 3 / 2) + " or more, or train a smaller network");
    }
  }

  /**
   * Checks a run of {@code cfg} on {@code master} (local: its tasks in the driver's heap; else in
   * executors of {@code executorHeap} bytes and {@code executorCores} task slots each).
   */
  public static void checkRun(TrainConfig cfg, String master, long driverHeap, long executorHeap, int executorCores) {
    int slots = TaskSlots.local(master);
    int partitions = cfg.partitions() > 0 ? cfg.partitions() : Math.max(2, slots);
    MemoryBudget b = of(cfg.spec(), cfg.optimizer().stateArrays().size(), cfg.batchSize(), partitions);
    boolean local = slots > 0;
    b.check(driverHeap, local ? Math.min(slots, partitions) : 0, local ? 0 : executorHeap, Math.max(1, executorCores));
  }

  /** Refuses a driver heap Spark will not start in, naming the setting (Spark's own error is a trace, twice). */
  public static void checkDriverHeap(long driverHeap) {
    if (driverHeap < SPARK_MINIMUM) {
      throw new ConfigException("spark.driver.memory: the driver's heap is " + size(driverHeap) + ", and Spark needs at least "
          + size(SPARK_MINIMUM) + "; set spark.driver.memory (in conf/spark-defaults.conf, or spark-submit's --driver-memory) to 1g or more");
    }
  }

  static String size(long bytes) {
    if (bytes >= 10L << 30) return String.format(Locale.ROOT, "%.0f GB", bytes / (double) (1L << 30));
    if (bytes >= 1L << 30) return String.format(Locale.ROOT, "%.1f GB", bytes / (double) (1L << 30));
    return String.format(Locale.ROOT, "%d MB", (bytes + (1 << 20) - 1) >> 20);
  }
}
