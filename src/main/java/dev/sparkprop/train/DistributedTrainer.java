package dev.sparkprop.train;

import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.eval.EvalFunction;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.optim.OptimizerState;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Synchronous data-parallel mini-batch training on Spark.
 *
 * <p>Each step: broadcast the parameters; every partition computes the gradient sum of its rows
 * of the step's global batch ({@link StepFunction}); the sums come back in partition order and
 * are added on the driver in that order; the driver divides by the step's row count and applies
 * the optimizer. Adding in partition order (not in task completion order, as {@code reduce} and
 * {@code treeAggregate} do) makes the result bit-identical from run to run, and when Spark
 * retries a task or recomputes a lost partition.
 */
public final class DistributedTrainer {
  private final JavaSparkContext jsc;
  private final TrainConfig cfg;
  private final PrintStream log;
  private java.util.function.Consumer<StepStats> listener = s -> { };
  private java.util.function.BiConsumer<JavaRDD<Shard>, float[]> finish;
  /** See {@link #destroy}. */
  private final Broadcast<?>[] recentlyDestroyed = new Broadcast<?>[8];
  private long destroyed;

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

  /** Called on the driver after every step with its timing breakdown: for progress, benchmarks, tests. */
  public DistributedTrainer onStep(java.util.function.Consumer<StepStats> l) {
    this.listener = l;
    return this;
  }

  /** Number of partitions to use: the config's, or Spark's default parallelism. */
  public int partitions() {
    return cfg.partitions() > 0 ? cfg.partitions() : jsc.defaultParallelism();
  }

  /** Trains from the configured initial weights, without checkpoints. */
  public TrainResult fit(DataSpec train, DataSpec test, RunDirectory run) throws IOException {
    return fit(train, test, run, TrainState.fresh(cfg, cfg.initializer().initialize(cfg.spec(), cfg.seed())), null);
  }

  /**
   * Trains from {@code state} (a fresh start or a resumed checkpoint) to the configured number
   * of epochs.
   *
   * @param run where to write metrics (may be null)
   * @param checkpoints where to write checkpoints (null: none)
   */
  public TrainResult fit(DataSpec train, DataSpec test, RunDirectory run, TrainState state, Checkpoints checkpoints)
      throws IOException {
    NetworkSpec spec = cfg.spec();
    int trainRows = used(train.count, cfg.trainLimit());
    int testRows = used(test.count, cfg.testLimit());
    int parts = partitions();
    BatchLayout layout = new BatchLayout(trainRows, cfg.batchSize(), parts);
    log.printf("network %s, %d parameters; %d training rows in %d partitions, batch %d (%d steps an epoch); "
        + "%d test rows%n", spec, spec.numParams(), trainRows, parts, cfg.batchSize(), layout.numBatches(), testRows);
    if (cfg.get("sync.mode").equals("allreduce")) awaitTaskSlots(parts);
    JavaRDD<Shard> trainShards = TrainingData.batches(jsc, train, trainRows, layout, cfg.classes(), "training", log);
    JavaRDD<Shard> testShards = TrainingData.ranges(jsc, test, testRows, parts, cfg.classes(), "test", log);
    try {
      TrainResult r = loop(spec, layout, trainShards, testShards, run, state, checkpoints);
      if (finish != null) finish.accept(testShards, r.params());
      return r;
    } finally {
      trainShards.unpersist(false);
      testShards.unpersist(false);
    }
  }

  /**
   * A barrier stage needs every task running at once, and Spark would otherwise retry its slot
   * check for minutes (spark.scheduler.barrier.maxConcurrentTasksCheck.*) before failing: refuse
   * at once in local mode, and on a cluster after waiting for executors still registering (the
   * job may start before all of them have) for spark.scheduler.maxRegisteredResourcesWaitingTime.
   */
  private void awaitTaskSlots(int parts) {
    if (parts <= jsc.defaultParallelism()) return;
    long waitMs = jsc.isLocal() ? 0 : jsc.sc().conf().getTimeAsMs("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s");
    if (waitMs > 0) {
      log.printf("sync.mode=allreduce needs %d task slots at once; %d registered so far, waiting up to %d s for executors%n",
          parts, jsc.defaultParallelism(), waitMs / 1000);
    }
    if (!waitForTaskSlots(jsc, parts, waitMs)) {
      throw new ConfigException("partitions: sync.mode=allreduce runs all " + parts + " partitions at once, but "
          + jsc.master() + " has " + jsc.defaultParallelism() + " task slots"
          + (waitMs > 0 ? " after waiting " + waitMs / 1000 + " s for executors" : "") + "; set partitions to at most "
          + jsc.defaultParallelism() + ", or use sync.mode=job");
    }
  }

  /**
   * Waits up to {@code waitMs} until the registered executors offer {@code slots} task slots
   * (always at once in local mode); whether they do.
   */
  public static boolean waitForTaskSlots(JavaSparkContext jsc, int slots, long waitMs) {
    long deadline = System.nanoTime() + waitMs * 1_000_000L;
    while (!jsc.isLocal() && slots > jsc.defaultParallelism() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return slots <= jsc.defaultParallelism();
  }

  private static int used(int count, int limit) {
    return limit > 0 ? Math.min(limit, count) : count;
  }

  private TrainResult loop(NetworkSpec spec, BatchLayout layout, JavaRDD<Shard> trainShards,
      JavaRDD<Shard> testShards, RunDirectory run, TrainState s, Checkpoints checkpoints) throws IOException {
    float[] params = s.params;
    Optimizer optimizer = s.optimizer;
    LearningRate schedule = cfg.learningRate();
    log.printf("optimizer %s, learning rate %s, init %s, shuffle %s, seed %d%n", optimizer.describe(),
        schedule, cfg.get("init.from").isEmpty() ? cfg.initializer() : "from " + cfg.get("init.from"),
        cfg.shuffle(), cfg.seed());
    int steps = layout.numBatches();
    long totalSteps = (long) steps * cfg.epochs();
    int every = cfg.checkpointEvery();
    boolean perStep = cfg.checkpointPerStep();
    float[] grad = new float[spec.numParams()];
    EvalSum lastEval = null;
    Progress progress = new Progress(log, Progress.wantsBar(cfg.get("progress")), cfg.logEvery());
    boolean allReduce = cfg.get("sync.mode").equals("allreduce");
    while (s.epoch < cfg.epochs()) {
      int epoch = s.epoch;
      log.printf("Epoch %d%n", epoch + 1);
      long t0 = System.nanoTime();
      if (allReduce) {
        allReduceEpoch(spec, layout, trainShards, s, params, optimizer, progress, t0);
      } else if (cfg.syncEvery() > 1) {
        localRounds(spec, layout, trainShards, s, params, optimizer, progress, t0);
      }
      for (; s.step < steps; ) {
        int k = s.step;
        long s0 = System.nanoTime();
        long globalStep = (long) epoch * steps + k;
        jsc.setJobDescription("epoch " + (epoch + 1) + " step " + (k + 1) + "/" + steps);
        Broadcast<float[]> bc = jsc.broadcast(params.clone());
        long s1 = System.nanoTime();
        List<GradientSum> sums;
        try {
          sums = trainShards.mapPartitions(new StepFunction(bc, spec, cfg.kernel(), layout, cfg.shuffle(), cfg.seed(), epoch, k)).collect();
        } finally {
          destroy(bc);
        }
        long s2 = System.nanoTime();
        int n = addInOrder(sums, grad);
        long s3 = System.nanoTime();
        if (n != layout.batchRows(k)) {
          throw new IllegalStateException("step " + k + " of epoch " + (epoch + 1) + " saw " + n
              + " rows, the batch has " + layout.batchRows(k) + "; a shard is missing rows");
        }
        double stepLoss = 0;
        for (GradientSum g : sums) stepLoss += g.lossSum;
        checkFinite(stepLoss, grad, epoch, k);
        float inv = 1f / n;
        for (int i = 0; i < grad.length; i++) grad[i] *= inv;
        s.lastLr = schedule.at(globalStep, steps, totalSteps);
        optimizer.step(params, grad, s.lastLr);
        long s4 = System.nanoTime();
        long slowest = 0;
        long slowestRead = 0;
        for (GradientSum g : sums) {
          slowest = Math.max(slowest, g.computeNanos);
          slowestRead = Math.max(slowestRead, g.broadcastReadNanos);
        }
        StepStats stats = new StepStats(epoch, k, s4 - s0, s1 - s0, s2 - s1, s3 - s2, s4 - s3, slowest, slowestRead, n,
            stepLoss / n, s.lastLr);
        s.lossSum += stepLoss;
        s.rowsSeen += n;
        s.step++;
        progress.step(epoch, k, steps, stepLoss / n, s.rowsSeen, s.secondsBefore + (System.nanoTime() - t0) / 1e9);
        if (checkpoints != null && every > 0 && perStep && (globalStep + 1) % every == 0 && s.step < steps) {
          s.secondsBefore += (System.nanoTime() - t0) / 1e9;
          t0 = System.nanoTime();
          checkpoints.save(s, cfg, globalStep + 1);
        }
        listener.accept(stats);
      }
      double seconds = s.secondsBefore + (System.nanoTime() - t0) / 1e9;
      progress.endEpoch();
      double testLoss = Double.NaN;
      double testAcc = Double.NaN;
      double evalSeconds = 0;
      boolean last = epoch == cfg.epochs() - 1;
      if (last || (epoch + 1) % cfg.evalEvery() == 0) {
        long e0 = System.nanoTime();
        jsc.setJobDescription("evaluate epoch " + (epoch + 1));
        lastEval = evaluate(testShards, params, spec);
        evalSeconds = (System.nanoTime() - e0) / 1e9;
        testLoss = lastEval.meanLoss();
        testAcc = lastEval.accuracy();
      }
      EpochMetrics m = new EpochMetrics(epoch + 1, s.lossSum / s.rowsSeen, testLoss, testAcc, seconds,
          s.rowsSeen / seconds, evalSeconds, s.lastLr);
      s.history.add(m);
      log.printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s, %.0f samples/s (eval %.1f s)%n",
          m.epoch(), m.trainLoss(), m.testLoss(), m.testAccuracy(), m.epochSeconds(), m.samplesPerSecond(), evalSeconds);
      if (run != null) run.writeMetrics(s.history);
      s.epoch++;
      s.step = 0;
      s.lossSum = 0;
      s.rowsSeen = 0;
      s.secondsBefore = 0;
      long nextStep = (long) s.epoch * steps;
      boolean due = every > 0 && (perStep ? nextStep % every == 0 : s.epoch % every == 0);
      if (checkpoints != null && due && s.epoch < cfg.epochs()) checkpoints.save(s, cfg, nextStep);
    }
    jsc.setJobDescription(null);
    if (lastEval == null) {
      // resumed after the last epoch's evaluation: evaluate the final parameters once more
      lastEval = evaluate(testShards, params, spec);
    }
    return new TrainResult(params, s.history, lastEval);
  }

  /**
   * The rest of the epoch as one barrier stage ({@code sync.mode=allreduce}, {@link AllReduceEpoch}):
   * leaves the epoch's end state in {@code s}, {@code params} and {@code optimizer}, and reports
   * every step to the listener and the progress lines afterwards.
   */
  private void allReduceEpoch(NetworkSpec spec, BatchLayout layout, JavaRDD<Shard> trainShards, TrainState s,
      float[] params, Optimizer optimizer, Progress progress, long t0) {
    int epoch = s.epoch;
    int steps = layout.numBatches();
    jsc.setJobDescription("epoch " + (epoch + 1) + ": steps " + (s.step + 1) + "-" + steps + " in one barrier stage (allreduce)");
    Broadcast<AllReduceEpoch.Start> bc = jsc.broadcast(
        new AllReduceEpoch.Start(params.clone(), optimizer.state(), epoch, s.step));
    List<AllReduceEpoch.Result> results;
    Rendezvous rendezvous = null;
    try {
      if (cfg.get("sync.rendezvous").equals("driver")) {
        rendezvous = new Rendezvous(jsc.getConf().get("spark.driver.host"), Integer.parseInt(cfg.get("sync.rendezvous.port")));
      }
      AllReduceEpoch fn = new AllReduceEpoch(bc, new java.util.HashMap<>(cfg.resolved()), spec, cfg.kernel(), layout,
          rendezvous == null ? null : rendezvous.address());
      int retries = cfg.nonNegativeInt("sync.retries");
      for (int attempt = 0; ; attempt++) {
        try {
          results = trainShards.rdd().barrier()
              .mapPartitions(fn, false, scala.reflect.ClassTag$.MODULE$.apply(AllReduceEpoch.Result.class))
              .toJavaRDD().collect();
          break;
        } catch (Exception e) {
          // Spark does not retry a failed barrier result stage (a lost executor ends the job), so the
          // driver runs the epoch again from its start state: the same inputs, the same bits.
          if (!(e instanceof org.apache.spark.SparkException) || attempt >= retries) throw e;
          log.printf("WARNING: epoch %d (allreduce) failed: %s; running the epoch again from its start (attempt %d of %d)%n",
              epoch + 1, firstLine(e.getMessage()), attempt + 2, retries + 1);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("sync.rendezvous=driver: cannot listen on " + jsc.getConf().get("spark.driver.host")
          + " port " + cfg.get("sync.rendezvous.port") + " (" + e.getMessage() + "); set sync.rendezvous.port to a free "
          + "port the executors can reach, or sync.rendezvous=spark", e);
    } finally {
      destroy(bc);
      if (rendezvous != null) {
        try {
          rendezvous.close();
        } catch (IOException e) {
          log.println("WARNING: closing the rendezvous socket: " + e.getMessage());
        }
      }
    }
    if (results.size() != 1) throw new IllegalStateException("allreduce: expected one result from the hub, got " + results.size());
    AllReduceEpoch.Result r = results.get(0);
    for (double[] st : r.steps()) {
      int k = (int) st[0];
      int rows = (int) st[1];
      s.lossSum += st[2];
      s.rowsSeen += rows;
      s.step = k + 1;
      s.lastLr = st[3];
      progress.step(epoch, k, steps, st[2] / rows, s.rowsSeen, s.secondsBefore + (System.nanoTime() - t0) / 1e9);
      listener.accept(new StepStats(epoch, k, (long) st[4], 0, 0, 0, 0, (long) st[5], 0, rows, st[2] / rows, st[3]));
    }
    if (r.divergedAt() >= 0) {
      throw new DivergenceException("training diverged at epoch " + (epoch + 1) + " batch " + r.divergedAt()
          + ": the " + r.divergence() + " is NaN or infinite; lower lr, or use a schedule with warm-up (lr.warmup.steps)");
    }
    System.arraycopy(r.params(), 0, params, 0, params.length);
    optimizer.restore(r.optimizer(), params.length);
  }

  /**
   * The rest of the epoch as local-SGD rounds ({@code sync.every} > 1, {@code sync.mode=job}), one
   * Spark job per round: broadcast the start, every partition runs the round alone
   * ({@link RoundFunction}), the driver averages the results in partition order ({@link LocalSgd}).
   */
  private void localRounds(NetworkSpec spec, BatchLayout layout, JavaRDD<Shard> trainShards, TrainState s,
      float[] params, Optimizer optimizer, Progress progress, long t0) {
    int epoch = s.epoch;
    int steps = layout.numBatches();
    int every = cfg.syncEvery();
    long totalSteps = (long) steps * cfg.epochs();
    LearningRate schedule = cfg.learningRate();
    java.util.Map<String, String> config = new java.util.HashMap<>(cfg.resolved());
    float[] avg = new float[LocalSgd.packedLength(params.length, optimizer)];
    while (s.step < steps) {
      int first = s.step;
      int end = LocalSgd.roundEnd(first, every, steps);
      long r0 = System.nanoTime();
      jsc.setJobDescription("epoch " + (epoch + 1) + " steps " + (first + 1) + "-" + end + "/" + steps
          + " (local SGD round)");
      OptimizerState before = optimizer.state();
      Broadcast<AllReduceEpoch.Start> bc = jsc.broadcast(new AllReduceEpoch.Start(params.clone(), before, epoch, first));
      long r1 = System.nanoTime();
      List<LocalSgd.RoundSum> sums;
      try {
        sums = trainShards.mapPartitions(new RoundFunction(bc, config, spec, cfg.kernel(), layout, end)).collect();
      } finally {
        destroy(bc);
      }
      long r2 = System.nanoTime();
      if (LocalSgd.average(sums, avg) == 0) {
        throw new IllegalStateException("local SGD round " + first + "-" + (end - 1) + " of epoch " + (epoch + 1)
            + " had no rows; a shard is missing rows");
      }
      double[] stepLoss = new double[end - first];
      int[] stepRows = new int[end - first];
      long slowest = LocalSgd.totals(sums, layout, epoch, first, stepLoss, stepRows);
      double roundLoss = 0;
      for (double l : stepLoss) roundLoss += l;
      if (!Double.isFinite(roundLoss) || !LocalSgd.finite(avg)) {
        throw new DivergenceException("training diverged at epoch " + (epoch + 1) + " in the local SGD round of batches "
            + first + "-" + (end - 1) + ": the " + (Double.isFinite(roundLoss) ? "averaged parameters are" : "loss is")
            + " NaN or infinite; lower lr, use a schedule with warm-up (lr.warmup.steps), or a smaller sync.every");
      }
      LocalSgd.unpack(avg, params, optimizer, before.steps() + (end - first));
      long r3 = System.nanoTime();
      int n = end - first;
      for (int j = 0; j < n; j++) {
        int k = first + j;
        s.lastLr = schedule.at((long) epoch * steps + k, steps, totalSteps);
        s.lossSum += stepLoss[j];
        s.rowsSeen += stepRows[j];
        s.step = k + 1;
        progress.step(epoch, k, steps, stepLoss[j] / stepRows[j], s.rowsSeen,
            s.secondsBefore + (System.nanoTime() - t0) / 1e9);
        // the round's times, shared evenly by its steps
        listener.accept(new StepStats(epoch, k, (r3 - r0) / n, (r1 - r0) / n, (r2 - r1) / n, (r3 - r2) / n, 0,
            slowest / n, 0, stepRows[j], stepLoss[j] / stepRows[j], s.lastLr));
      }
    }
  }

  private static String firstLine(String m) {
    if (m == null) return "";
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  /** Whether the step's loss and every gradient value are finite. */
  static boolean finite(double loss, float[] grad) {
    boolean ok = Double.isFinite(loss);
    for (int i = 0; ok && i < grad.length; i++) ok = Float.isFinite(grad[i]);
    return ok;
  }

  /** Sums the partitions' gradients into {@code grad} in partition order; returns the row count. */
  static int addInOrder(List<GradientSum> sums, float[] grad) {
    return addInOrder(sums, s -> s.rows, s -> s.grad, grad);
  }

  /**
   * Sums the partitions' vectors into {@code total} in partition order (not task completion
   * order: the same bits every run), skipping partitions without rows; returns the rows.
   */
  static <T> int addInOrder(List<T> parts, java.util.function.ToIntFunction<T> rows,
      java.util.function.Function<T, float[]> vector, float[] total) {
    java.util.Arrays.fill(total, 0f);
    int n = 0;
    for (T part : parts) {
      int r = rows.applyAsInt(part);
      if (r == 0) continue;
      float[] v = vector.apply(part);
      for (int i = 0; i < total.length; i++) total[i] += v[i];
      n += r;
    }
    return n;
  }

  private static void checkFinite(double loss, float[] grad, int epoch, int step) {
    if (!finite(loss, grad)) {
      throw new DivergenceException("training diverged at epoch " + (epoch + 1) + " batch " + step
          + ": the " + (Double.isFinite(loss) ? "gradient" : "loss") + " is NaN or infinite; "
          + "lower lr, or use a schedule with warm-up (lr.warmup.steps)");
    }
  }

  /** Forward pass of the test shards on the executors; counts merged in partition order. */
  public EvalSum evaluate(JavaRDD<Shard> shards, float[] params, NetworkSpec spec) {
    Broadcast<float[]> bc = jsc.broadcast(params.clone());
    try {
      EvalSum total = new EvalSum(spec.outputSize());
      for (EvalSum s : shards.mapPartitions(new EvalFunction(bc, spec, cfg.kernel())).collect()) total.merge(s);
      return total;
    } finally {
      destroy(bc);
    }
  }

  /**
   * Destroys a step's broadcast without waiting (a blocking destroy costs a round trip to every
   * executor: measured 125 against 86 ms a step on a two-worker standalone cluster), and keeps
   * the last few Broadcast objects reachable. Spark's ContextCleaner removes a broadcast's blocks
   * again once its object is garbage; if that happens while the asynchronous destroy is still
   * removing them, the two race and Spark logs "Error cleaning broadcast" (seen every few hundred
   * steps in local mode when the object was dropped at once).
   */
  private void destroy(Broadcast<?> bc) {
    bc.destroy();
    recentlyDestroyed[(int) (destroyed++ % recentlyDestroyed.length)] = bc;
  }
}
