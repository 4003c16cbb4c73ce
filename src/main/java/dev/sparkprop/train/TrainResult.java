package dev.sparkprop.train;

import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.run.EpochMetrics;
import java.util.List;

/**
 * What a training run produced: the kept flat parameters (the last epoch's, or with
 * {@code keep=best} the best validation epoch's), the per-epoch metrics, the test set's evaluation
 * of the kept parameters (null without a test set), the validation set's (null without one) and
 * the epoch whose parameters were kept (from 1).
 */
public record TrainResult(float[] params, List<EpochMetrics> epochs, EvalSum finalEval, EvalSum validationEval,
    int keptEpoch) {
  public TrainResult(float[] params, List<EpochMetrics> epochs, EvalSum finalEval) {
    this(params, epochs, finalEval, null, epochs.isEmpty() ? 0 : epochs.get(epochs.size() - 1).epoch());
  }
}
