package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.optim.OptimizerState;
import dev.sparkprop.run.EpochMetrics;
import dev.sparkprop.run.StepStats;
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
  final float[] params;
  final Optimizer optimizer;
  /** The next step to run: epoch (from 0) and step within it (from 0). */
  int epoch;
  int step;
  /** The running epoch's summed loss, rows and seconds before this process took over. */
  double lossSum;
  long rowsSeen;
  double secondsBefore;
  double lastLr;
  final List<EpochMetrics> history = new ArrayList<>();
  /** What this run computes with: its partition count and its executors' kernel(s) (set when the trainer starts). */
  int partitions;
  String kernels = "";
  /** What the checkpoint this state was resumed from was computed with (0 and "": fresh, or an older checkpoint). */
  int checkpointPartitions;
  String checkpointKernels = "";
  /** Model selection on the validation set (null without one); a checkpoint keeps it. */
  Selection selection;
  /**
   * The feature scaling the run trains with, computed once from the training rows (null until
   * then); a checkpoint keeps it, so a resume does not compute it again.
   */
  dev.sparkprop.data.FeatureScaling scaling;
  /** A regression's target scaling ({@code label.scale}), computed with {@link #scaling}; null until then. */
  dev.sparkprop.data.FeatureScaling targetScaling;
  /** Every step's figures so far, this process's and (after a resume) the checkpoint's. */
  final List<StepStats> steps = new ArrayList<>();

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
