package dev.sparkprop.train;

import dev.sparkprop.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;

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

  /** A fresh start from the given initial parameters and a new optimizer from the config. */
  public static TrainState fresh(TrainConfig cfg, float[] initialParams) {
    return new TrainState(initialParams, cfg.optimizer());
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
