package dev.sparkprop.train;

import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Workspace;
import java.util.Collections;
import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/**
 * The executor side of one training step: the gradient sum of this partition's rows of global
 * batch {@code step} of epoch {@code epoch}. It depends only on the broadcast parameters, the
 * cached shard and the step, so a retried or recomputed task returns the same bits.
 */
public final class StepFunction implements FlatMapFunction<Iterator<Shard>, GradientSum> {
  private static final long serialVersionUID = 1L;

  private final Broadcast<float[]> params;
  private final NetworkSpec spec;
  private final BatchLayout layout;
  private final boolean shuffle;
  private final long seed;
  private final int epoch;
  private final int step;
  private final Kernel kernel;

  StepFunction(Broadcast<float[]> params, NetworkSpec spec, Kernel kernel, BatchLayout layout, boolean shuffle,
      long seed, int epoch, int step) {
    this.kernel = kernel;
    this.params = params;
    this.spec = spec;
    this.layout = layout;
    this.shuffle = shuffle;
    this.seed = seed;
    this.epoch = epoch;
    this.step = step;
  }

  /**
   * Fault injection for tests: a JVM system property listing {@code epoch:step:partition}
   * triples (from 0, comma-separated) whose first attempt fails, so that Spark retries it.
   */
  public static final String FAIL_TASKS_PROPERTY = "sparkprop.test.fail.tasks";

  @Override
  public Iterator<GradientSum> call(Iterator<Shard> shards) {
    if (!shards.hasNext()) return Collections.emptyIterator();
    Shard shard = shards.next();
    injectFailure(shard.partition());
    long t0 = System.nanoTime();
    float[] p = params.value();
    long broadcastNanos = System.nanoTime() - t0;
    GradientSum g = compute(shard, p, spec, kernel, layout, shuffle, seed, epoch, step);
    g.broadcastReadNanos = broadcastNanos;
    return Collections.singletonList(g).iterator();
  }

  private void injectFailure(int partition) {
    String faults = System.getProperty(FAIL_TASKS_PROPERTY);
    TaskContext ctx = TaskContext.get();
    if (faults == null || ctx == null || ctx.attemptNumber() > 0) return;
    String me = epoch + ":" + step + ":" + partition;
    for (String f : faults.split(",")) {
      if (f.trim().equals(me)) {
        throw new IllegalStateException("injected failure of the first attempt of epoch:step:partition " + me
            + " (" + FAIL_TASKS_PROPERTY + ")");
      }
    }
  }

  /** The step's gradient sum for one shard; also used directly by tests and single-process runs. */
  static GradientSum compute(Shard shard, float[] params, NetworkSpec spec, Kernel kernel, BatchLayout layout,
      boolean shuffle, long seed, int epoch, int step) {
    return compute(shard, params, spec, kernel, layout, shuffle, seed, epoch, step, null);
  }

  /**
   * As above, writing the gradient sum into {@code gradOut} when it is given (a caller that keeps
   * the result in the task reuses one buffer); without it a new array, the task's result.
   */
  static GradientSum compute(Shard shard, float[] params, NetworkSpec spec, Kernel kernel, BatchLayout layout,
      boolean shuffle, long seed, int epoch, int step, float[] gradOut) {
    long t0 = System.nanoTime();
    Workspace ws = Workspace.get(spec, kernel);
    Network net = ws.network;
    int p = shard.partition();
    int rows;
    int[] labels;
    int labelOffset;
    if (!shuffle) {
      // Every full batch gives partition p the same chunk size, and only the last batch can be
      // short, so chunk k starts at k * (the chunk size of batch 0).
      int start = step * layout.chunkRows(0, p);
      rows = layout.chunkRows(step, p);
      if (rows == 0) return GradientSum.empty();
      shard.copyRows(start, rows, net.input(rows).data);
      labels = shard.labels();
      labelOffset = start;
    } else {
      Shard.ShuffledBatches sb = shard.shuffled(layout, seed, epoch);
      int from = sb.starts[step];
      rows = sb.starts[step + 1] - from;
      if (rows == 0) return GradientSum.empty();
      labels = ws.labels(rows);
      shard.gatherRows(sb.order, from, rows, net.input(rows).data, labels);
      labelOffset = 0;
    }
    net.setParameters(params);
    float[] grad = gradOut != null ? gradOut : new float[spec.numParams()]; // the result sent to the driver
    double loss = net.forwardBackward(rows, labels, labelOffset, grad);
    return new GradientSum(grad, loss, rows, System.nanoTime() - t0);
  }
}
