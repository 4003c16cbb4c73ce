package dev.sparkprop.train.step;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Workspace;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import java.io.Serializable;

/**
 * The executor side of a {@link Round}, the same for both transports: from what the driver sent
 * and the cached shard, this partition's {@link PartitionSum}. It depends only on those inputs,
 * so a retried task, a recomputed shard or a restarted barrier stage gives the same bits.
 *
 * <ul>
 *   <li>Exact SGD (one step): the gradient sum of this partition's rows of the step's batch at
 *       the parameters received. The task keeps no state.
 *   <li>Local SGD ({@code sync.every=K}): takes the received {@code [params | optimizer state]}
 *       as its replica, steps alone on its rows of the round's batches (mean gradient of its
 *       rows, the global schedule's rate), and returns the end state weighted by its rows.
 * </ul>
 */
public final class ShardWorker {
  /**
   * What a task needs to know, sent once in its closure. {@code standInNanos} > 0 replaces the
   * computation by a sleep of that long (see {@code DistributedTrainer.computeStandIn}); 0 for
   * training.
   */
  public record Plan(NetworkSpec spec, Kernel kernel, BatchLayout layout, boolean shuffle, long seed, int syncEvery,
      TrainConfig config, long standInNanos, boolean bf16, dev.sparkprop.data.FeatureScaling scaling,
      dev.sparkprop.data.FeatureScaling targetScaling) implements Serializable {
    /** The plan of {@code cfg}; local SGD also carries the configuration (optimizer and schedule), null otherwise. */
    public static Plan of(TrainConfig cfg, BatchLayout layout, long standInNanos, dev.sparkprop.data.FeatureScaling scaling,
        dev.sparkprop.data.FeatureScaling targetScaling) {
      if (standInNanos > 0 && cfg.syncEvery() > 1) {
        throw new ConfigException("bench.compute=sleep: measures exact SGD only (sync.every=1), got sync.every=" + cfg.syncEvery());
      }
      return new Plan(cfg.spec(), cfg.kernel(), layout, cfg.shuffle(), cfg.seed(), cfg.syncEvery(),
          cfg.syncEvery() > 1 ? cfg : null, standInNanos, cfg.bf16Wire(), scaling, targetScaling);
    }

    public boolean localSgd() {
      return syncEvery > 1;
    }

    /** Floats the driver sends and a partition returns: the parameters, or (local SGD) parameters and optimizer state. */
    public int vectorLength() {
      return localSgd() ? LocalSgd.packedLength(spec.numParams(), config.optimizer()) : spec.numParams();
    }
  }

  private final Plan plan;
  private final float[] params; // local SGD: this partition's replica
  private final float[] grad; // local SGD: one step's gradient
  private final Optimizer optimizer;
  private final LearningRate schedule;
  private final long totalSteps;
  private double loss; // of the last gradient()

  public ShardWorker(Plan plan) {
    this.plan = plan;
    if (plan.localSgd()) {
      TrainConfig cfg = plan.config();
      params = new float[plan.spec().numParams()];
      grad = new float[plan.spec().numParams()];
      optimizer = cfg.optimizer();
      schedule = cfg.learningRate();
      totalSteps = (long) plan.layout().numBatches() * cfg.epochs();
    } else {
      params = grad = null;
      optimizer = null;
      schedule = null;
      totalSteps = 0;
    }
  }

  /**
   * Runs round {@code r} on {@code shard} from {@code incoming} (read only) into {@code out},
   * whose vector must hold {@link Plan#vectorLength()} floats.
   */
  public void run(Shard shard, Round r, float[] incoming, PartitionSum out) {
    long t0 = System.nanoTime();
    out.partition = shard.partition();
    if (plan.standInNanos() > 0) {
      standIn(shard, r, out, t0);
    } else if (!plan.localSgd()) {
      int rows = gradient(shard, incoming, r.epoch(), r.first(), out.vector);
      if (plan.bf16() && rows > 0) Bf16.round(out.vector, out.vector, 0, plan.vectorLength()); // as the wire carries it
      out.rows = rows;
      out.stepRows[0] = rows;
      out.stepLoss[0] = loss;
    } else {
      LocalSgd.unpack(incoming, params, optimizer, r.optimizerSteps());
      int steps = plan.layout().numBatches();
      int rows = 0;
      for (int k = r.first(); k < r.end(); k++) {
        int m = gradient(shard, params, r.epoch(), k, grad);
        out.stepRows[k - r.first()] = m;
        out.stepLoss[k - r.first()] = loss;
        if (m == 0) continue; // no rows of this batch here: no local step
        rows += m;
        float inv = 1f / m;
        for (int i = 0; i < grad.length; i++) grad[i] *= inv;
        optimizer.step(params, grad, schedule.at((long) r.epoch() * steps + k, steps, totalSteps));
      }
      out.rows = rows;
      if (rows > 0) LocalSgd.pack(params, optimizer, rows, out.vector);
    }
    out.computeNanos = System.nanoTime() - t0;
  }

  /**
   * The measurement-only stand-in for a step's computation: this partition's rows of the step as
   * in training, a sleep of {@link Plan#standInNanos} from {@code t0}, and the vector as it is (a
   * real-sized sum: zeros, so the parameters stay put). Training never plans one.
   */
  private void standIn(Shard shard, Round r, PartitionSum out, long t0) {
    BatchLayout layout = plan.layout();
    int p = shard.partition();
    int rows = !plan.shuffle() ? layout.chunkRows(r.first(), p) : shuffledRows(shard, r);
    out.rows = rows;
    out.stepRows[0] = rows;
    out.stepLoss[0] = rows; // finite, as the driver checks
    for (long left; (left = t0 + plan.standInNanos() - System.nanoTime()) > 0; ) java.util.concurrent.locks.LockSupport.parkNanos(left);
  }

  private int shuffledRows(Shard shard, Round r) {
    Shard.ShuffledBatches sb = shard.shuffled(plan.layout(), plan.seed(), r.epoch());
    return sb.starts[r.first() + 1] - sb.starts[r.first()];
  }

  /**
   * The gradient of the summed loss of this shard's rows of batch {@code step} of {@code epoch}
   * at {@code at}, into {@code gradOut} (untouched when there are no rows); the loss sum in
   * {@link #loss}. Returns the rows.
   */
  private int gradient(Shard shard, float[] at, int epoch, int step, float[] gradOut) {
    Workspace ws = Workspace.get(plan.spec(), plan.kernel());
    Network net = ws.network;
    BatchLayout layout = plan.layout();
    int p = shard.partition();
    int rows;
    int[] labels;
    int labelOffset;
    boolean regression = plan.spec().isRegression();
    int perRow = plan.spec().outputSize();
    float[] targets = null;
    loss = 0;
    if (!plan.shuffle()) {
      // Every full batch gives partition p the same chunk size, and only the last batch can be
      // short, so chunk k starts at k * (the chunk size of batch 0).
      int start = step * layout.chunkRows(0, p);
      rows = layout.chunkRows(step, p);
      if (rows == 0) return 0;
      shard.copyRows(start, rows, net.input(rows).data);
      labels = shard.labels();
      labelOffset = start;
      if (regression) {
        targets = ws.targets(rows * perRow);
        System.arraycopy(shard.targets(), start * perRow, targets, 0, rows * perRow);
      }
    } else {
      Shard.ShuffledBatches sb = shard.shuffled(layout, plan.seed(), epoch);
      int from = sb.starts[step];
      rows = sb.starts[step + 1] - from;
      if (rows == 0) return 0;
      labels = ws.labels(rows);
      shard.gatherRows(sb.order, from, rows, net.input(rows).data, labels);
      labelOffset = 0;
      if (regression) {
        targets = ws.targets(rows * perRow);
        shard.gatherTargets(sb.order, from, rows, targets);
      }
    }
    plan.scaling().apply(net.input(rows).data, rows, shard.features());
    net.setParameters(at);
    if (regression) {
      plan.targetScaling().apply(targets, rows, perRow); // the targets as training sees them (standardized)
      loss = net.forwardBackward(rows, targets, 0, gradOut);
    } else {
      loss = net.forwardBackward(rows, labels, labelOffset, gradOut);
    }
    return rows;
  }
}
