package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.eval.EvalSum;
import java.io.PrintStream;

/**
 * Model selection on the validation set, one call per finished epoch: the lowest validation loss
 * so far (its epoch, its evaluation and, with {@code keep=best}, a copy of its parameters), and
 * whether {@code early.stop.patience} epochs in a row have passed without a lower one.
 */
final class Selection {
  private final boolean keepBest;
  private final int patience;
  private final float[] best; // null unless keep=best
  private double bestLoss = Double.POSITIVE_INFINITY;
  private int bestEpoch;
  private EvalSum bestEval;
  private EvalSum lastEval;
  private int since;
  private boolean stopped;

  Selection(TrainConfig cfg, int parameters) {
    keepBest = cfg.keep() == TrainConfig.Keep.BEST;
    patience = cfg.earlyStopPatience();
    best = keepBest ? new float[parameters] : null;
  }

  /** The validation figures of finished epoch {@code epoch} (from 1), whose parameters are {@code params}. */
  void epochEnded(int epoch, EvalSum validation, float[] params, int epochs, PrintStream log) {
    lastEval = validation;
    double loss = validation.meanLoss();
    if (loss < bestLoss) {
      bestLoss = loss;
      bestEpoch = epoch;
      bestEval = validation;
      since = 0;
      if (best != null) System.arraycopy(params, 0, best, 0, params.length);
    } else {
      since++;
    }
    if (validation.isRegression()) {
      log.printf("epoch %d: validation mse %.6g, r2 %.4f (lowest mse %.6g, epoch %d)%n", epoch, loss, validation.r2(), bestLoss,
          bestEpoch);
    } else {
      log.printf("epoch %d: validation loss %.4f, validation accuracy %.4f (lowest loss %.4f, epoch %d)%n", epoch, loss,
          validation.accuracy(), bestLoss, bestEpoch);
    }
    if (patience > 0 && since >= patience && epoch < epochs) {
      stopped = true;
      log.printf("early stop after epoch %d: %d epochs without a lower validation loss than epoch %d's%n", epoch, since,
          bestEpoch);
    }
  }

  boolean stopped() {
    return stopped;
  }

  /** What a checkpoint keeps of it (the best parameters go as a tensor of their own, {@link #bestParams}). */
  java.util.Map<String, Object> toMap() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("best_loss", bestEpoch > 0 ? bestLoss : null);
    m.put("best_epoch", bestEpoch);
    m.put("epochs_without_improvement", since);
    m.put("stopped", stopped);
    return m;
  }

  /** The best epoch's parameters (keep=best, after a first epoch), else null. */
  float[] bestParams() {
    return best != null && bestEpoch > 0 ? best : null;
  }

  /**
   * Back to a checkpoint's state. The evaluations are not kept: {@link #keptEval} is null until
   * the next epoch, and the caller evaluates the kept parameters again at the end (the same figures).
   */
  void restore(java.util.Map<String, Object> m, float[] bestParams) {
    bestEpoch = ((Number) m.get("best_epoch")).intValue();
    bestLoss = m.get("best_loss") == null ? Double.POSITIVE_INFINITY : ((Number) m.get("best_loss")).doubleValue();
    since = ((Number) m.get("epochs_without_improvement")).intValue();
    stopped = (Boolean) m.get("stopped");
    if (best != null && bestParams != null) System.arraycopy(bestParams, 0, best, 0, best.length);
  }

  /** The parameters to keep: the best epoch's with keep=best, else {@code last}. */
  float[] kept(float[] last) {
    return best != null && bestEpoch > 0 ? best : last;
  }

  /** The kept epoch (from 1); {@code epochsRun}: how many epochs ran. */
  int keptEpoch(int epochsRun) {
    return best != null && bestEpoch > 0 ? bestEpoch : epochsRun;
  }

  /** The validation figures of the kept parameters; null after a restore until they are evaluated again. */
  EvalSum keptEval() {
    return best != null ? bestEval : lastEval;
  }
}
