package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.config.ValidationSet;
import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.eval.EvalFunction;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.run.RunDirectory;
import dev.sparkprop.run.StepStats;
import dev.sparkprop.train.step.LocalSgd;
import dev.sparkprop.train.step.ShardWorker;
import dev.sparkprop.train.sync.Broadcasts;
import dev.sparkprop.train.sync.JobTransport;
import dev.sparkprop.train.sync.TaskSlots;
import dev.sparkprop.train.sync.Transport;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Synchronous data-parallel mini-batch training on Spark, with the driver as the hub of every
 * step.
 *
 * <p>Each step the partitions compute the gradient sums of their rows of the step's global batch
 * on their cached shards ({@link ShardWorker}); the driver receives the P sums, adds them in
 * partition order, checks the rows and finiteness, divides by the rows and applies the optimizer,
 * then sends the new parameters out with the next step. Adding in partition order (not in task
 * completion order, as {@code reduce} and {@code treeAggregate} do) makes the result
 * bit-identical from run to run, and when Spark retries a task or a stage is launched again. How
 * the parameters and sums travel is a {@link Transport}: a Spark job per step
 * ({@code sync.mode=job}) or one barrier stage per epoch talking to the driver over direct
 * connections ({@code sync.mode=barrier}); both give the same bits. With {@code sync.every=K} a
 * round is K local steps and the driver averages the partitions' states instead ({@link LocalSgd}).
 */
public final class DistributedTrainer {
  private final JavaSparkContext jsc;
  private final TrainConfig cfg;
  private final PrintStream log;
  private java.util.function.Consumer<StepStats> listener = s -> { };
  private long stepLimit = Long.MAX_VALUE;
  private long standInNanos; // 0: the real computation (see computeStandIn)
  private JobTransport.TaskWrapper jobTasks = t -> t;
  private java.util.function.BiConsumer<JavaRDD<Shard>, float[]> finish;
  private final Broadcasts broadcasts = new Broadcasts();
  private DataSpec validation;
  private dev.sparkprop.data.FeatureScaling scaling = dev.sparkprop.data.FeatureScaling.NONE; // the run's, once fit has it
  private dev.sparkprop.data.FeatureScaling targetScaling = dev.sparkprop.data.FeatureScaling.NONE;

  public DistributedTrainer(JavaSparkContext jsc, TrainConfig cfg, PrintStream log) {
    this.jsc = jsc;
    this.cfg = cfg;
    this.log = log;
  }

  /**
   * Called once after a successful fit with the cached test shards and the final parameters,
   * before the shards are released (for reports that need the test set again).
   */
  public DistributedTrainer onFinish(java.util.function.BiConsumer<JavaRDD<Shard>, float[]> f) {
    this.finish = f;
    return this;
  }

  /**
   * Evaluates {@code data} after every epoch for model selection: {@code keep=best} keeps the
   * parameters of the epoch with the lowest validation loss, {@code early.stop.patience=N} stops
   * after N epochs in a row without a lower one. Never the test set.
   */
  public DistributedTrainer validateOn(DataSpec data) {
    this.validation = data;
    return this;
  }

  /** Called on the driver after every step with its timing breakdown: for progress, benchmarks, tests. */
  public DistributedTrainer onStep(java.util.function.Consumer<StepStats> l) {
    this.listener = l;
    return this;
  }

  /**
   * Ends {@link #fit} after {@code steps} steps of this call, mid-epoch if need be (the cut
   * epoch is neither evaluated nor recorded): for benchmarks, which measure steps, not a run.
   */
  public DistributedTrainer stopAfter(long steps) {
    if (steps < 1) throw new IllegalArgumentException("stopAfter: at least 1 step, got " + steps);
    this.stepLimit = steps;
    return this;
  }

  /**
   * For measuring the exchange only ({@code submit/bench bench.compute=sleep:MS}, the emulated
   * cluster): every task sleeps for {@code millis} instead of computing its step and sends a
   * zero sum of the real size and rows, so that many emulated hosts can share a few cores and
   * the step's time beyond the sleep is the exchange and the driver. The parameters do not
   * change; no command that trains calls this.
   */
  public DistributedTrainer computeStandIn(double millis) {
    if (!(millis > 0) || millis > 3_600_000) throw new IllegalArgumentException("computeStandIn: 0 < ms <= 3600000, got " + millis);
    this.standInNanos = Math.round(millis * 1e6);
    return this;
  }

  /** sync.mode=job: runs every round's task function through {@code wrapper} (tests inject failures with it). */
  DistributedTrainer jobTasksThrough(JobTransport.TaskWrapper wrapper) {
    this.jobTasks = wrapper;
    return this;
  }

  /** Number of partitions to use: the config's, or Spark's default parallelism. */
  public int partitions() {
    return cfg.partitions() > 0 ? cfg.partitions() : jsc.defaultParallelism();
  }

  /** Trains from the configured initial weights, without checkpoints. */
  public TrainResult fit(DataSpec train, DataSpec test, RunDirectory run) throws IOException {
    return fit(train, test, run, TrainState.fresh(cfg), null);
  }

  /**
   * Trains from {@code state} (a fresh start or a resumed checkpoint) to the configured number
   * of epochs.
   *
   * @param test evaluated after the epochs {@code eval.every} says and after the last (null: no
   *     evaluation; the result's {@code finalEval} is null and the epochs' test metrics NaN)
   * @param run where to write metrics (may be null)
   * @param checkpoints where to write checkpoints (null: none)
   */
  public TrainResult fit(DataSpec train, DataSpec test, RunDirectory run, TrainState state, Checkpoints checkpoints)
      throws IOException {
    ValidationSet.checkNeeded(cfg, validation != null, "validation.path (in the Spark application API: fit(train, validation))");
    NetworkSpec spec = cfg.spec();
    int trainRows = used(train.count, cfg.trainLimit());
    int testRows = test == null ? 0 : used(test.count, cfg.testLimit());
    int parts = partitions();
    BatchLayout layout = new BatchLayout(trainRows, cfg.batchSize(), parts);
    log.printf("network %s, %d parameters; %d training rows in %d partitions, batch %d (%d steps an epoch); "
        + "%d test rows%n", spec, spec.numParams(), trainRows, parts, cfg.batchSize(), layout.numBatches(), testRows);
    if (cfg.syncMode() == TrainConfig.SyncMode.BARRIER) TaskSlots.require(jsc, parts, log);
    JavaRDD<Shard> trainShards = TrainingData.batches(jsc, train, trainRows, layout, cfg.classes(), cfg.fillsMissing(), "training", log);
    JavaRDD<Shard> testShards = test == null ? null : TrainingData.ranges(jsc, test, testRows, parts, cfg.classes(), cfg.fillsMissing(), "test", log);
    JavaRDD<Shard> validationShards = validation == null ? null
        : TrainingData.ranges(jsc, validation, validation.count, parts, cfg.classes(), cfg.fillsMissing(), "validation", log);
    try {
      String kernels = ExecutorKernels.resolve(jsc, cfg, trainShards, spec, (cfg.batchSize() + parts - 1) / parts, log);
      state.computedWith(parts, kernels, log);
      // computed once, at a run's start; a resumed state has them from its checkpoint
      scaling = state.scaling() != null ? state.scaling() : fitScaling(trainShards, train);
      targetScaling = state.targetScaling() != null ? state.targetScaling() : fitTargetScaling(trainShards, spec);
      state.scaledBy(scaling, targetScaling);
      TrainResult r = loop(spec, layout, trainShards, testShards, validationShards, run, state, checkpoints);
      if (finish != null && testShards != null) finish.accept(testShards, r.params());
      return r;
    } finally {
      // A SparkContext stopped under the run (its cluster manager gave up on the application)
      // has no RpcEnv left: unpersisting would throw Spark's "RpcEnv already stopped" and a
      // NullPointerException over the failure that stopped it.
      try {
        if (!jsc.sc().isStopped()) {
          trainShards.unpersist(false);
          if (testShards != null) testShards.unpersist(false);
          if (validationShards != null) validationShards.unpersist(false);
        }
      } catch (RuntimeException e) {
        if (!jsc.sc().isStopped()) throw e; // else stopped meanwhile: the failure in flight is the news
      }
    }
  }

  /**
   * The feature scaling {@code features.scale} asks for, from the cached training rows: one pass
   * on the executors, each partition's statistics merged on the driver in partition order (the
   * same bits every run). A constant column is named in a warning and left as it is.
   */
  private dev.sparkprop.data.FeatureScaling fitScaling(JavaRDD<Shard> trainShards, DataSpec train) {
    dev.sparkprop.data.FeatureScaling.Kind kind = cfg.featuresScale(train.byteImages());
    if (kind == dev.sparkprop.data.FeatureScaling.Kind.NONE && !cfg.fillsMissing()) return dev.sparkprop.data.FeatureScaling.NONE;
    long t0 = System.nanoTime();
    jsc.setJobDescription("feature statistics of the training rows (features.scale=" + kind.key() + ")");
    List<dev.sparkprop.data.ColumnStats> parts = trainShards.map(dev.sparkprop.data.ColumnStats::of).collect();
    jsc.setJobDescription(null);
    dev.sparkprop.data.ColumnStats all = new dev.sparkprop.data.ColumnStats(train.features);
    for (dev.sparkprop.data.ColumnStats p : parts) all.merge(p);
    dev.sparkprop.data.FeatureScaling s = dev.sparkprop.data.FeatureScaling.fit(kind, all, cfg.fillsMissing());
    long missing = 0;
    for (int j = 0; j < all.width(); j++) missing += all.count() - all.count(j);
    if (cfg.fillsMissing()) log.printf("features.missing=mean: %d missing values in the training rows%n", missing);
    log.printf("features.scale=%s: %s, from %d training rows in %.2f s%n", kind.key(), s, all.count(),
        (System.nanoTime() - t0) / 1e9);
    int[] constant = s.constantColumns();
    if (constant.length > 0) {
      StringBuilder names = new StringBuilder();
      for (int i = 0; i < Math.min(constant.length, 10); i++) {
        if (i > 0) names.append(", ");
        names.append(train.columns.isEmpty() ? "feature " + constant[i] : train.columns.get(constant[i]));
      }
      if (constant.length > 10) names.append(", ... (").append(constant.length).append(" in all)");
      log.printf("WARNING: %s %s the same value in every training row: left unscaled (it cannot help the network; "
          + "drop it with features.columns)%n", names, constant.length == 1 ? "holds" : "hold");
    }
    return s;
  }

  /**
   * A regression's targets standardized for training ({@code label.scale=auto|standard}): their
   * mean and standard deviation over the training rows, as the features' (none for classes).
   */
  private dev.sparkprop.data.FeatureScaling fitTargetScaling(JavaRDD<Shard> trainShards, NetworkSpec spec) {
    if (!cfg.scalesTargets()) return dev.sparkprop.data.FeatureScaling.NONE;
    int t = spec.outputSize();
    jsc.setJobDescription("target statistics of the training rows (label.scale)");
    List<dev.sparkprop.data.ColumnStats> parts = trainShards.map(s -> dev.sparkprop.data.ColumnStats.ofTargets(s, t)).collect();
    jsc.setJobDescription(null);
    dev.sparkprop.data.ColumnStats all = new dev.sparkprop.data.ColumnStats(t);
    for (dev.sparkprop.data.ColumnStats p : parts) all.merge(p);
    dev.sparkprop.data.FeatureScaling s = dev.sparkprop.data.FeatureScaling.fit(dev.sparkprop.data.FeatureScaling.Kind.STANDARD, all);
    StringBuilder sb = new StringBuilder();
    for (int j = 0; j < t && j < 4; j++) sb.append(j == 0 ? "" : ", ").append(String.format("mean %.4g sd %.4g", all.mean(j), all.std(j)));
    log.printf("label.scale=standard: %d target%s (%s%s) trained standardized; predictions in their units%n", t,
        t == 1 ? "" : "s", sb, t > 4 ? ", ..." : "");
    return s;
  }

  private static int used(int count, int limit) {
    return limit > 0 ? Math.min(limit, count) : count;
  }

  /** The recipe's line, the tasks' plan, then {@link TrainingLoop} over the configured transport. */
  private TrainResult loop(NetworkSpec spec, BatchLayout layout, JavaRDD<Shard> trainShards, JavaRDD<Shard> testShards,
      JavaRDD<Shard> validationShards, RunDirectory run, TrainState s, Checkpoints checkpoints) throws IOException {
    log.printf("optimizer %s, learning rate %s, init %s, shuffle %s, seed %d, sync %s%s%n", s.optimizer().describe(),
        cfg.learningRate(), cfg.get("init.from").isEmpty() ? cfg.initializer() : "from " + cfg.get("init.from"),
        cfg.shuffle(), cfg.seed(), cfg.get("sync.mode"), cfg.syncEvery() > 1 ? " (local SGD, every " + cfg.syncEvery() + " steps)" : "");
    ShardWorker.Plan plan = ShardWorker.Plan.of(cfg, layout, standInNanos, scaling, targetScaling);
    TrainingLoop loop = new TrainingLoop(jsc, cfg, log, this::evaluate, spec, layout, testShards, validationShards, run, s,
        checkpoints, plan, listener, stepLimit);
    return loop.run(() -> Transport.open(cfg, jsc, trainShards, plan, broadcasts, jobTasks, log));
  }

  /** Forward pass of the test shards on the executors; counts merged in partition order. */
  public EvalSum evaluate(JavaRDD<Shard> shards, float[] params, NetworkSpec spec) {
    Broadcast<float[]> bc = jsc.broadcast(params.clone());
    try {
      EvalSum total = spec.isRegression() ? EvalSum.regression(spec.outputSize()) : new EvalSum(spec.outputSize());
      for (EvalSum s : shards.mapPartitions(new EvalFunction(bc, spec, cfg.kernel(), scaling, targetScaling)).collect()) {
        total.merge(s);
      }
      return total;
    } finally {
      broadcasts.destroy(bc);
    }
  }
}
