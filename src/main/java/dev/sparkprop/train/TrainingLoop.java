package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.Shard;
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
import dev.sparkprop.train.sync.Transport;
import java.io.IOException;
import java.io.PrintStream;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The driver's training loop, the same for every transport ({@link #run} reads top to bottom):
 * per round (one step, or a local-SGD round) the parameters go out and the partitions' sums come
 * in, the driver adds them in partition order, checks the rows and finiteness, divides by the
 * rows and applies the update, then records the step; per epoch it evaluates, records, selects
 * and checkpoints. One loop serves one {@link DistributedTrainer#fit} call; its buffers are made
 * once, before the first round.
 */
final class TrainingLoop {
  /** What the loop needs from the trainer that made it. */
  interface Evaluator {
    EvalSum evaluate(JavaRDD<Shard> shards, float[] params, NetworkSpec spec);
  }

  private final JavaSparkContext jsc;
  private final TrainConfig cfg;
  private final PrintStream log;
  private final Evaluator evaluator;
  private final NetworkSpec spec;
  private final BatchLayout layout;
  private final JavaRDD<Shard> testShards;
  private final JavaRDD<Shard> validationShards;
  private final RunDirectory run;
  private final TrainState s;
  private final Checkpoints checkpoints;
  private final Consumer<StepStats> listener;
  private final long stepLimit;
  private final ShardWorker.Plan plan;

  private final float[] params;
  private final Optimizer optimizer;
  private final LearningRate schedule;
  private final int steps; // an epoch's
  private final long totalSteps;
  private final boolean localSgd;
  private final boolean bf16;
  private final int length; // floats sent and received a partition
  private final float[] out; // what every partition is sent
  private final float[] total; // the partitions' sums added, then divided by the rows
  private final Reducer reducer;
  private final double[] stepLoss; // the round's steps' summed losses and rows
  private final int[] stepRows;
  private final Selection selection;
  private final Progress progress;

  private Transport transport;
  private PartitionSum[] sums; // the round's, from the transport
  private long taken; // steps of this call, for stopAfter
  private long c0, c1, c2, c3; // the round's clock: started, sums in, reduced, updated
  private long slowest; // the round's slowest task's compute
  private EvalSum lastEval;

  TrainingLoop(JavaSparkContext jsc, TrainConfig cfg, PrintStream log, Evaluator evaluator, NetworkSpec spec,
      BatchLayout layout, JavaRDD<Shard> testShards, JavaRDD<Shard> validationShards, RunDirectory run, TrainState s,
      Checkpoints checkpoints, ShardWorker.Plan plan, Consumer<StepStats> listener, long stepLimit) {
    this.jsc = jsc;
    this.cfg = cfg;
    this.log = log;
    this.evaluator = evaluator;
    this.spec = spec;
    this.layout = layout;
    this.testShards = testShards;
    this.validationShards = validationShards;
    this.run = run;
    this.s = s;
    this.checkpoints = checkpoints;
    this.plan = plan;
    this.listener = listener;
    this.stepLimit = stepLimit;
    params = s.params();
    optimizer = s.optimizer();
    schedule = cfg.learningRate();
    steps = layout.numBatches();
    totalSteps = (long) steps * cfg.epochs();
    localSgd = plan.localSgd();
    bf16 = cfg.bf16Wire();
    length = plan.vectorLength();
    out = localSgd || bf16 ? new float[length] : params;
    total = new float[length];
    reducer = new Reducer(layout.partitions(), length, bf16);
    stepLoss = new double[plan.syncEvery()];
    stepRows = new int[plan.syncEvery()];
    selection = validationShards == null ? null : s.selection() != null ? s.selection() : new Selection(cfg, params.length);
    s.selectWith(selection);
    progress = new Progress(log, Progress.wantsBar(cfg.progress()), cfg.logEvery());
  }

  /** Trains from the state's cursor to the configured epochs (or this call's step limit) over the transport {@code open} gives. */
  TrainResult run(Supplier<Transport> open) throws IOException {
    try (Transport t = open.get()) {
      transport = t;
      while (s.epoch() < cfg.epochs() && !stoppedEarly() && taken < stepLimit) {
        int epoch = s.epoch();
        log.printf("Epoch %d%n", epoch + 1);
        s.startClock();
        while (s.step() < steps && taken < stepLimit) {
          Round r = Round.at(epoch, s.step(), plan.syncEvery(), steps, optimizer.steps());
          exchange(r); // the parameters out, the partitions' sums in
          reduce(r); // added in partition order, checked, divided by the rows
          update(r); // the optimizer's step, or local SGD's averaged state
          record(r); // the state, the progress, the step log, a checkpoint inside the epoch
        }
        transport.endEpoch();
        if (s.step() < steps) return cut(); // stopAfter ended this call inside the epoch
        EpochMetrics m = evaluateEpoch(epoch); // the test set when eval.every says, the epoch's line
        s.epochDone(m);
        if (run != null) run.writeMetrics(s.history(), spec.isRegression());
        select(epoch); // keep=best and early stopping, on the validation set
        checkpointAtEpochEnd();
      }
    }
    jsc.setJobDescription(null);
    return result();
  }

  private boolean stoppedEarly() {
    return selection != null && selection.stopped();
  }

  private void exchange(Round r) {
    c0 = System.nanoTime();
    if (localSgd) LocalSgd.pack(params, optimizer, 1f, out);
    if (bf16) Bf16.round(params, out, 0, length); // the tasks compute with the parameters as the wire carries them
    sums = transport.exchange(r, out, length);
    c1 = System.nanoTime();
  }

  private void reduce(Round r) {
    slowest = reducer.addSteps(sums, r, layout, stepLoss, stepRows);
    double loss = 0;
    for (int j = 0; j < r.steps(); j++) loss += stepLoss[j];
    if (!reducer.mean(sums, total, length) || !Double.isFinite(loss)) throw diverged(r, loss);
    c2 = System.nanoTime();
  }

  private void update(Round r) {
    if (localSgd) {
      LocalSgd.unpack(total, params, optimizer, r.optimizerSteps() + r.steps());
    } else {
      optimizer.step(params, total, schedule.at((long) r.epoch() * steps + r.first(), steps, totalSteps));
    }
    c3 = System.nanoTime();
  }

  /** Each of the round's steps: into the state and the step log, onto the progress line, and a checkpoint if one is due. */
  private void record(Round r) throws IOException {
    int n = r.steps(); // a local-SGD round's times are shared evenly by its steps
    taken += n;
    long send = transport.lastSendNanos();
    int every = cfg.checkpointEvery();
    for (int j = 0; j < n; j++) {
      int k = r.first() + j;
      long globalStep = (long) r.epoch() * steps + k;
      StepStats stats = new StepStats(r.epoch(), k, (c3 - c0) / n, send / n, (c1 - c0 - send) / n, (c2 - c1) / n,
          (c3 - c2) / n, slowest / n, stepRows[j], stepLoss[j] / stepRows[j], schedule.at(globalStep, steps, totalSteps));
      s.stepDone(stats, stepLoss[j]);
      progress.step(r.epoch(), k, steps, stepLoss[j] / stepRows[j], s.rowsSeen(), s.epochSeconds());
      if (checkpoints != null && every > 0 && cfg.checkpointPerStep() && (globalStep + 1) % every == 0 && s.step() < steps) {
        s.foldClock();
        checkpoints.save(s, cfg, globalStep + 1);
      }
      listener.accept(stats);
    }
  }

  /** stopAfter's result: the parameters as they are, the cut epoch neither evaluated nor recorded. */
  private TrainResult cut() {
    jsc.setJobDescription(null);
    return new TrainResult(params, s.history(), null);
  }

  /** The epoch's metrics: its training loss and time, the test set's figures when {@code eval.every} says; logged. */
  private EpochMetrics evaluateEpoch(int epoch) {
    double seconds = s.epochSeconds();
    progress.endEpoch();
    double testLoss = Double.NaN;
    double testAcc = Double.NaN;
    double evalSeconds = 0;
    boolean last = epoch == cfg.epochs() - 1;
    if (testShards != null && (last || (epoch + 1) % cfg.evalEvery() == 0)) {
      long e0 = System.nanoTime();
      jsc.setJobDescription("evaluate epoch " + (epoch + 1));
      lastEval = evaluator.evaluate(testShards, params, spec);
      evalSeconds = (System.nanoTime() - e0) / 1e9;
      testLoss = lastEval.meanLoss();
      testAcc = lastEval.accuracy();
    }
    boolean evaluated = lastEval != null && !Double.isNaN(testLoss);
    EpochMetrics m = new EpochMetrics(epoch + 1, s.trainLoss(), testLoss, testAcc, seconds,
        s.rowsSeen() / seconds, evalSeconds, s.lastLr(), evaluated ? lastEval.rmse() : Double.NaN,
        evaluated ? lastEval.mae() : Double.NaN, evaluated ? lastEval.r2() : Double.NaN);
    if (spec.isRegression()) {
      log.printf("epoch %d: train loss %.4f, test mse %.6g, rmse %.6g, mae %.6g, r2 %.4f, %.1f s, %.0f samples/s "
          + "(eval %.1f s)%n", m.epoch(), m.trainLoss(), m.testLoss(), m.testRmse(), m.testMae(), m.testR2(),
          m.epochSeconds(), m.samplesPerSecond(), evalSeconds);
    } else {
      log.printf("epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.1f s, %.0f samples/s (eval %.1f s)%n",
          m.epoch(), m.trainLoss(), m.testLoss(), m.testAccuracy(), m.epochSeconds(), m.samplesPerSecond(), evalSeconds);
    }
    return m;
  }

  private void select(int epoch) {
    if (selection == null) return;
    jsc.setJobDescription("validate epoch " + (epoch + 1));
    selection.epochEnded(epoch + 1, evaluator.evaluate(validationShards, params, spec), params, cfg.epochs(), log);
  }

  /** A checkpoint at the start of the next epoch, when {@code checkpoint.every} (in epochs or steps) says. */
  private void checkpointAtEpochEnd() throws IOException {
    int every = cfg.checkpointEvery();
    long nextStep = (long) s.epoch() * steps;
    boolean due = every > 0 && (cfg.checkpointPerStep() ? nextStep % every == 0 : s.epoch() % every == 0);
    if (checkpoints != null && due && s.epoch() < cfg.epochs()) checkpoints.save(s, cfg, nextStep);
  }

  /** The parameters kept (the last, or with model selection the best epoch's) and the test set's figures for them. */
  private TrainResult result() {
    if (selection != null) {
      float[] kept = selection.kept(params);
      if (kept != params || selection.stopped()) {
        log.printf("keeping the parameters of epoch %d%n", selection.keptEpoch(s.epoch()));
      }
      // the test set's figures are those of the model that is kept (after an early stop the last
      // evaluation may be an older epoch's)
      if (testShards != null && (kept != params || selection.stopped() || lastEval == null)) {
        lastEval = evaluator.evaluate(testShards, kept, spec);
      }
      // after a resume past the kept epoch its validation figures are computed again (the same ones)
      EvalSum keptValidation = selection.keptEval() != null ? selection.keptEval() : evaluator.evaluate(validationShards, kept, spec);
      return new TrainResult(kept, s.history(), lastEval, keptValidation, selection.keptEpoch(s.epoch()));
    }
    if (lastEval == null && testShards != null) {
      // resumed after the last epoch's evaluation: evaluate the final parameters once more
      lastEval = evaluator.evaluate(testShards, params, spec);
    }
    return new TrainResult(params, s.history(), lastEval);
  }

  private static DivergenceException diverged(Round r, double loss) {
    String what = Double.isFinite(loss) ? (r.steps() == 1 ? "gradient is" : "averaged parameters are") : "loss is";
    String where = r.steps() == 1 ? "batch " + r.first() : "in the local SGD round of batches " + r.first() + "-" + (r.end() - 1);
    return new DivergenceException("training diverged at epoch " + (r.epoch() + 1) + " " + where + ": the " + what
        + " NaN or infinite; lower lr, or use a schedule with warm-up (lr.warmup.steps)"
        + (r.steps() == 1 ? "" : ", or a smaller sync.every"));
  }
}
