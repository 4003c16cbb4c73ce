package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.optim.OptimizerState;
import dev.sparkprop.run.EpochMetrics;
import dev.sparkprop.run.StepStats;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the training loop carries from one step to the next: parameters, optimizer (with its
 * state), the cursor (the next step to run), the current epoch's running loss and time, and the
 * metrics of finished epochs. A checkpoint saves it; restoring it continues the run bit for bit
 * (a step's result depends only on the parameters and the cursor; the shuffle is drawn from
 * (seed, epoch)).
 */
public final class TrainState {
  private final float[] params;
  private final Optimizer optimizer;
  /** The next step to run: epoch (from 0) and step within it (from 0). */
  private int epoch;
  private int step;
  /** The running epoch's summed loss, rows and seconds before this process took over (or before its last checkpoint). */
  private double lossSum;
  private long rowsSeen;
  private double secondsBefore;
  private double lastLr;
  /** When this process started timing the running epoch ({@link System#nanoTime}). */
  private long clockStart;
  private final List<EpochMetrics> history = new ArrayList<>();
  /** What this run computes with: its partition count and its executors' kernel(s) (set when the trainer starts). */
  private int partitions;
  private String kernels = "";
  /** What the checkpoint this state was resumed from was computed with (0 and "": fresh, or an older checkpoint). */
  private int checkpointPartitions;
  private String checkpointKernels = "";
  /** Model selection on the validation set (null without one); a checkpoint keeps it. */
  private Selection selection;
  /**
   * The feature scaling the run trains with, computed once from the training rows (null until
   * then); a checkpoint keeps it, so a resume does not compute it again.
   */
  private dev.sparkprop.data.FeatureScaling scaling;
  /** A regression's target scaling ({@code label.scale}), computed with {@link #scaling}; null until then. */
  private dev.sparkprop.data.FeatureScaling targetScaling;
  /** Every step's figures so far, this process's and (after a resume) the checkpoint's. */
  private final List<StepStats> steps = new ArrayList<>();

  TrainState(float[] params, Optimizer optimizer) {
    this.params = params;
    this.optimizer = optimizer;
  }

  /** A fresh start: parameters from the config's initializer and seed, a new optimizer from the config. */
  public static TrainState fresh(TrainConfig cfg) {
    return fresh(cfg, cfg.initializer().initialize(cfg.spec(), cfg.seed()));
  }

  /** A fresh start from the given initial parameters and a new optimizer from the config. */
  public static TrainState fresh(TrainConfig cfg, float[] initialParams) {
    return new TrainState(initialParams, cfg.optimizer());
  }

  /**
   * The checkpoint form of the cursor, the running epoch, the optimizer's step count and what
   * computed them (the {@code checkpoint} object of a checkpoint's info; the optimizer's arrays,
   * the history and the step log are stored beside it).
   */
  Map<String, Object> toMap(long globalStep) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("epoch", epoch);
    m.put("step", step);
    m.put("global_step", globalStep);
    m.put("loss_sum", lossSum);
    m.put("rows_seen", rowsSeen);
    m.put("seconds_before", secondsBefore);
    m.put("last_lr", lastLr);
    m.put("optimizer", optimizer.describe());
    m.put("optimizer_steps", optimizer.steps());
    m.put("partitions", partitions); // neither changes the math, both change its rounding
    m.put("kernels", kernels);
    return m;
  }

  /** The finished epochs' metrics in checkpoint form. */
  List<Map<String, Object>> historyMaps() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (EpochMetrics m : history) out.add(m.toMap());
    return out;
  }

  /**
   * The state a checkpoint holds: its parameters, its {@link #toMap} form ({@code cursor}), its
   * history and the optimizer's arrays; a new optimizer from {@code cfg} restored from them.
   */
  static TrainState fromMap(TrainConfig cfg, float[] params, Map<String, Object> cursor, List<Map<String, Object>> history,
      Map<String, float[]> optimizerArrays) {
    TrainState s = fresh(cfg, params);
    s.optimizer.restore(new OptimizerState(((Number) cursor.get("optimizer_steps")).longValue(), optimizerArrays), params.length);
    s.epoch = ((Number) cursor.get("epoch")).intValue();
    s.step = ((Number) cursor.get("step")).intValue();
    s.lossSum = ((Number) cursor.get("loss_sum")).doubleValue();
    s.rowsSeen = ((Number) cursor.get("rows_seen")).longValue();
    s.secondsBefore = ((Number) cursor.get("seconds_before")).doubleValue();
    s.lastLr = ((Number) cursor.get("last_lr")).doubleValue();
    s.checkpointPartitions = cursor.get("partitions") instanceof Number n ? n.intValue() : 0;
    s.checkpointKernels = cursor.get("kernels") instanceof String k ? k : "";
    for (Map<String, Object> h : history) s.history.add(EpochMetrics.fromMap(h));
    return s;
  }

  /**
   * The trainer starts: the partition count and the executors' kernel(s) this run computes with.
   * A run resumed with another partition count or kernel than its checkpoint was computed with
   * is allowed (a cluster may have changed), but it no longer gives an uninterrupted run's bits:
   * each step's partition sums are added in another grouping, and another kernel rounds its
   * products differently. Say so on {@code log}. (Local SGD's partition count changes the math
   * itself: it is refused with the configuration's keys.)
   */
  void computedWith(int partitions, String kernels, PrintStream log) {
    if (checkpointPartitions > 0 && checkpointPartitions != partitions) {
      log.printf("WARNING: resuming with %d partitions where the checkpoint was computed with %d: each step's sum is "
          + "added in another order, so the parameters will differ from an uninterrupted run by rounding; set "
          + "partitions=%d for the same bits%n", partitions, checkpointPartitions, checkpointPartitions);
    }
    if (!checkpointKernels.isEmpty() && !checkpointKernels.equals(kernels)) {
      log.printf("WARNING: resuming on kernel %s where the checkpoint was computed on %s: the products round "
          + "differently, so the parameters will differ from an uninterrupted run by rounding%n", kernels,
          checkpointKernels);
    }
    this.partitions = partitions;
    this.kernels = kernels;
  }

  /** The feature and (regression) target scaling the run trains with: computed at its start, or a checkpoint's. */
  void scaledBy(dev.sparkprop.data.FeatureScaling features, dev.sparkprop.data.FeatureScaling targets) {
    this.scaling = features;
    this.targetScaling = targets;
  }

  /** The model selection this run keeps (a checkpoint's, or a new one), null without a validation set. */
  void selectWith(Selection selection) {
    this.selection = selection;
  }

  /** A checkpoint's step log, before the steps this process runs. */
  void stepsBefore(List<StepStats> earlier) {
    steps.addAll(earlier);
  }

  /** The running epoch's clock starts (or starts again in a new process): its time so far is kept. */
  void startClock() {
    clockStart = System.nanoTime();
  }

  /** Seconds of the running epoch so far, in this process and before it. */
  double epochSeconds() {
    return secondsBefore + (System.nanoTime() - clockStart) / 1e9;
  }

  /** Before a mid-epoch checkpoint: the time so far moves into the state that is saved. */
  void foldClock() {
    long now = System.nanoTime();
    secondsBefore += (now - clockStart) / 1e9;
    clockStart = now;
  }

  /** A step is done: its figures recorded, {@code loss} (the sum over its rows) added to the epoch's, the cursor past it. */
  void stepDone(StepStats stats, double loss) {
    lastLr = stats.lr();
    lossSum += loss;
    rowsSeen += stats.rows();
    step = stats.step() + 1;
    steps.add(stats);
  }

  /** The running epoch is done with metrics {@code m}: recorded, and the cursor at the next epoch's start. */
  void epochDone(EpochMetrics m) {
    history.add(m);
    epoch++;
    step = 0;
    lossSum = 0;
    rowsSeen = 0;
    secondsBefore = 0;
  }

  /** The running epoch's mean training loss so far. */
  double trainLoss() {
    return lossSum / rowsSeen;
  }

  /** The running epoch's training rows so far. */
  long rowsSeen() {
    return rowsSeen;
  }

  /** The learning rate of the last step. */
  double lastLr() {
    return lastLr;
  }

  Optimizer optimizer() {
    return optimizer;
  }

  /** The model selection (null without a validation set). */
  Selection selection() {
    return selection;
  }



  public float[] params() {
    return params;
  }

  public int epoch() {
    return epoch;
  }

  public int step() {
    return step;
  }

  /** The feature scaling (null before the trainer has computed it or a checkpoint restored it). */
  public dev.sparkprop.data.FeatureScaling scaling() {
    return scaling;
  }

  /** A regression's target scaling (null before it is computed or restored; none for classes). */
  public dev.sparkprop.data.FeatureScaling targetScaling() {
    return targetScaling;
  }

  public List<EpochMetrics> history() {
    return history;
  }

  /** Every step's figures so far (a resumed run's include the steps before its checkpoint). */
  public List<StepStats> steps() {
    return steps;
  }
}
