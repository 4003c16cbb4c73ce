package dev.sparkprop.train;

import dev.sparkprop.eval.EvalSum;
import java.util.List;

/** What a training run produced: the final flat parameters, the per-epoch metrics, the last evaluation (null without a test set). */
public record TrainResult(float[] params, List<EpochMetrics> epochs, EvalSum finalEval) {}
