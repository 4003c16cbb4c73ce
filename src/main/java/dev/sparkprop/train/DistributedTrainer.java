package dev.sparkprop.train;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.eval.EvalFunction;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.run.EpochMetrics;
import dev.sparkprop.run.RunDirectory;
import dev.sparkprop.run.StepStats;
import dev.sparkprop.train.step.Bf16;
import dev.sparkprop.train.step.LocalSgd;
import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Reducer;
import dev.sparkprop.train.step.Round;
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
    if (cfg.selectsModel() && validation == null) {
      throw new ConfigException("keep=best and early.stop.patience need a validation set: set validation.path (in the "
          + "Spark application API: fit(train, validation))");
    }
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
      String kernels = logKernels(trainShards, spec, (cfg.batchSize() + parts - 1) / parts);
      warnIfRoundingDiffers(state, parts, kernels);
      state.partitions = parts;
      state.kernels = kernels;
      if (state.scaling == null) state.scaling = fitScaling(trainShards, train);
      scaling = state.scaling;
      if (state.targetScaling == null) state.targetScaling = fitTargetScaling(trainShards, spec);
      targetScaling = state.targetScaling;
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
   * Resolves the matrix kernel on every executor before training (each JVM loads, self-checks
   * and, for {@code kernel=auto}, times the candidates once, on the first layer's products at
   * the rows a task trains on) and logs what they chose. Executors that chose differently would
   * compute other last bits: say so.
   */
  private String logKernels(JavaRDD<Shard> shards, NetworkSpec spec, int rowsPerTask) {
    dev.sparkprop.nn.Kernel kernel = cfg.kernel();
    jsc.setJobDescription("resolve kernel=" + cfg.get("kernel") + " on the executors");
    int[] p = spec.largestProduct(spec.isDense() ? rowsPerTask : Math.min(rowsPerTask, 16)); // a CNN's products are large at 16
    List<String> chosen = shards.mapPartitions(it -> java.util.Collections.singletonList(
        kernel.describe(p[0], p[1], p[2])).iterator()).collect();
    jsc.setJobDescription(null);
    java.util.Set<String> kernels = new java.util.TreeSet<>();
    for (String c : chosen) kernels.add(c.replaceAll(" [0-9.]+ GFLOP/s.*", ""));
    log.printf("kernel=%s: %s%n", cfg.get("kernel"), chosen.get(0));
    if (kernels.size() > 1) {
      log.printf("WARNING: the executors chose different kernels (%s): their products round differently, so runs are "
          + "not bit-for-bit reproducible; set kernel= to one of them%n", String.join(", ", kernels));
    }
    return String.join(", ", kernels);
  }

  /**
   * A run resumed with another partition count or kernel than its checkpoint was computed with
   * is allowed (a cluster may have changed), but it no longer gives an uninterrupted run's bits:
   * each step's partition sums are added in another grouping, and another kernel rounds its
   * products differently. Say so. (Local SGD's partition count changes the math itself: it is
   * refused with the configuration's keys.)
   */
  private void warnIfRoundingDiffers(TrainState state, int parts, String kernels) {
    if (state.checkpointPartitions > 0 && state.checkpointPartitions != parts) {
      log.printf("WARNING: resuming with %d partitions where the checkpoint was computed with %d: each step's sum is "
          + "added in another order, so the parameters will differ from an uninterrupted run by rounding; set "
          + "partitions=%d for the same bits%n", parts, state.checkpointPartitions, state.checkpointPartitions);
    }
    if (!state.checkpointKernels.isEmpty() && !state.checkpointKernels.equals(kernels)) {
      log.printf("WARNING: resuming on kernel %s where the checkpoint was computed on %s: the products round "
          + "differently, so the parameters will differ from an uninterrupted run by rounding%n", kernels,
          state.checkpointKernels);
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

  /**
   * The training loop, the same for every transport: per round (one step, or a local-SGD round)
   * the partitions' sums come in, the driver adds them in partition order, checks the rows and
   * finiteness, divides by the rows and applies the update, then sends the result out with the
   * next round.
   */
  private TrainResult loop(NetworkSpec spec, BatchLayout layout, JavaRDD<Shard> trainShards, JavaRDD<Shard> testShards,
      JavaRDD<Shard> validationShards, RunDirectory run, TrainState s, Checkpoints checkpoints) throws IOException {
    float[] params = s.params;
    Optimizer optimizer = s.optimizer;
    LearningRate schedule = cfg.learningRate();
    log.printf("optimizer %s, learning rate %s, init %s, shuffle %s, seed %d, sync %s%s%n", optimizer.describe(),
        schedule, cfg.get("init.from").isEmpty() ? cfg.initializer() : "from " + cfg.get("init.from"),
        cfg.shuffle(), cfg.seed(), cfg.get("sync.mode"), cfg.syncEvery() > 1 ? " (local SGD, every " + cfg.syncEvery() + " steps)" : "");
    int steps = layout.numBatches();
    long totalSteps = (long) steps * cfg.epochs();
    int every = cfg.checkpointEvery();
    boolean perStep = cfg.checkpointPerStep();
    ShardWorker.Plan plan = ShardWorker.Plan.of(cfg, layout, standInNanos, scaling, targetScaling);
    boolean localSgd = plan.localSgd();
    int length = plan.vectorLength();
    boolean bf16 = cfg.bf16Wire();
    float[] out = localSgd || bf16 ? new float[length] : params; // what every partition is sent
    float[] total = new float[length]; // the partitions' sums added, then divided by the rows
    Reducer reducer = new Reducer(layout.partitions(), length, bf16);
    double[] stepLoss = new double[plan.syncEvery()];
    int[] stepRows = new int[plan.syncEvery()];
    EvalSum lastEval = null;
    Selection selection = validationShards == null ? null : s.selection != null ? s.selection : new Selection(cfg, params.length);
    s.selection = selection;
    Progress progress = new Progress(log, Progress.wantsBar(cfg.progress()), cfg.logEvery());
    try (Transport transport = Transport.open(cfg, jsc, trainShards, plan, broadcasts, jobTasks, log)) {
      long taken = 0; // steps of this call, for stopAfter
      while (s.epoch < cfg.epochs() && (selection == null || !selection.stopped()) && taken < stepLimit) {
        int epoch = s.epoch;
        log.printf("Epoch %d%n", epoch + 1);
        long t0 = System.nanoTime();
        while (s.step < steps && taken < stepLimit) {
          Round r = Round.at(epoch, s.step, plan.syncEvery(), steps, optimizer.steps());
          long c0 = System.nanoTime();
          if (localSgd) LocalSgd.pack(params, optimizer, 1f, out);
          if (bf16) Bf16.round(params, out, 0, length); // the tasks compute with the parameters as the wire carries them
          PartitionSum[] sums = transport.exchange(r, out, length);
          long c1 = System.nanoTime();
          long slowest = reducer.addSteps(sums, r, layout, stepLoss, stepRows);
          double loss = 0;
          for (int j = 0; j < r.steps(); j++) loss += stepLoss[j];
          if (!reducer.mean(sums, total, length) || !Double.isFinite(loss)) throw diverged(r, loss);
          long c2 = System.nanoTime();
          if (localSgd) {
            LocalSgd.unpack(total, params, optimizer, r.optimizerSteps() + r.steps());
          } else {
            optimizer.step(params, total, schedule.at((long) epoch * steps + r.first(), steps, totalSteps));
          }
          long c3 = System.nanoTime();
          int n = r.steps(); // a local-SGD round's times are shared evenly by its steps
          taken += n;
          long send = transport.lastSendNanos();
          for (int j = 0; j < n; j++) {
            int k = r.first() + j;
            long globalStep = (long) epoch * steps + k;
            s.lastLr = schedule.at(globalStep, steps, totalSteps);
            s.lossSum += stepLoss[j];
            s.rowsSeen += stepRows[j];
            s.step = k + 1;
            progress.step(epoch, k, steps, stepLoss[j] / stepRows[j], s.rowsSeen, s.secondsBefore + (System.nanoTime() - t0) / 1e9);
            StepStats stats = new StepStats(epoch, k, (c3 - c0) / n, send / n, (c1 - c0 - send) / n, (c2 - c1) / n,
                (c3 - c2) / n, slowest / n, stepRows[j], stepLoss[j] / stepRows[j], s.lastLr);
            s.steps.add(stats);
            if (checkpoints != null && every > 0 && perStep && (globalStep + 1) % every == 0 && s.step < steps) {
              s.secondsBefore += (System.nanoTime() - t0) / 1e9;
              t0 = System.nanoTime();
              checkpoints.save(s, cfg, globalStep + 1);
            }
            listener.accept(stats);
          }
        }
        transport.endEpoch();
        if (s.step < steps) { // stopAfter: the epoch was cut
          jsc.setJobDescription(null);
          return new TrainResult(params, s.history, null);
        }
        double seconds = s.secondsBefore + (System.nanoTime() - t0) / 1e9;
        progress.endEpoch();
        double testLoss = Double.NaN;
        double testAcc = Double.NaN;
        double evalSeconds = 0;
        boolean last = epoch == cfg.epochs() - 1;
        if (testShards != null && (last || (epoch + 1) % cfg.evalEvery() == 0)) {
          long e0 = System.nanoTime();
          jsc.setJobDescription("evaluate epoch " + (epoch + 1));
          lastEval = evaluate(testShards, params, spec);
          evalSeconds = (System.nanoTime() - e0) / 1e9;
          testLoss = lastEval.meanLoss();
          testAcc = lastEval.accuracy();
        }
        boolean evaluated = lastEval != null && !Double.isNaN(testLoss);
        EpochMetrics m = new EpochMetrics(epoch + 1, s.lossSum / s.rowsSeen, testLoss, testAcc, seconds,
            s.rowsSeen / seconds, evalSeconds, s.lastLr, evaluated ? lastEval.rmse() : Double.NaN,
            evaluated ? lastEval.mae() : Double.NaN, evaluated ? lastEval.r2() : Double.NaN);
        s.history.add(m);
        if (spec.isRegression()) {
          log.printf("epoch %d: train loss %.4f, test mse %.6g, rmse %.6g, mae %.6g, r2 %.4f, %.1f s, %.0f samples/s "
              + "(eval %.1f s)%n", m.epoch(), m.trainLoss(), m.testLoss(), m.testRmse(), m.testMae(), m.testR2(),
              m.epochSeconds(), m.samplesPerSecond(), evalSeconds);
        } else {
          log.printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s, %.0f samples/s (eval %.1f s)%n",
              m.epoch(), m.trainLoss(), m.testLoss(), m.testAccuracy(), m.epochSeconds(), m.samplesPerSecond(), evalSeconds);
        }
        if (run != null) run.writeMetrics(s.history, spec.isRegression());
        if (selection != null) {
          jsc.setJobDescription("validate epoch " + (epoch + 1));
          selection.epochEnded(epoch + 1, evaluate(validationShards, params, spec), params, cfg.epochs(), log);
        }
        s.epoch++;
        s.step = 0;
        s.lossSum = 0;
        s.rowsSeen = 0;
        s.secondsBefore = 0;
        long nextStep = (long) s.epoch * steps;
        boolean due = every > 0 && (perStep ? nextStep % every == 0 : s.epoch % every == 0);
        if (checkpoints != null && due && s.epoch < cfg.epochs()) checkpoints.save(s, cfg, nextStep);
      }
    }
    jsc.setJobDescription(null);
    if (selection != null) {
      float[] kept = selection.kept(params);
      if (kept != params || selection.stopped()) {
        log.printf("keeping the parameters of epoch %d%n", selection.keptEpoch(s.epoch));
      }
      // the test set's figures are those of the model that is kept (after an early stop the last
      // evaluation may be an older epoch's)
      if (testShards != null && (kept != params || selection.stopped() || lastEval == null)) {
        lastEval = evaluate(testShards, kept, spec);
      }
      // after a resume past the kept epoch its validation figures are computed again (the same ones)
      EvalSum keptValidation = selection.keptEval() != null ? selection.keptEval() : evaluate(validationShards, kept, spec);
      return new TrainResult(kept, s.history, lastEval, keptValidation, selection.keptEpoch(s.epoch));
    }
    if (lastEval == null && testShards != null) {
      // resumed after the last epoch's evaluation: evaluate the final parameters once more
      lastEval = evaluate(testShards, params, spec);
    }
    return new TrainResult(params, s.history, lastEval);
  }


  private static DivergenceException diverged(Round r, double loss) {
    String what = Double.isFinite(loss) ? (r.steps() == 1 ? "gradient is" : "averaged parameters are") : "loss is";
    String where = r.steps() == 1 ? "batch " + r.first() : "in the local SGD round of batches " + r.first() + "-" + (r.end() - 1);
    return new DivergenceException("training diverged at epoch " + (r.epoch() + 1) + " " + where + ": the " + what
        + " NaN or infinite; lower lr, or use a schedule with warm-up (lr.warmup.steps)"
        + (r.steps() == 1 ? "" : ", or a smaller sync.every"));
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
