package dev.sparkprop.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.eval.EvalSum;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Model selection on the validation loss: the best epoch, its parameters, early stopping. */
class SelectionTest {
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  /** An evaluation of 10 rows with this mean loss. */
  private static EvalSum loss(double mean) {
    EvalSum e = new EvalSum(2);
    e.rows = 10;
    e.lossSum = mean * 10;
    return e;
  }

  private static TrainConfig cfg(String keep, String patience) {
    return TrainConfig.of(Map.of("keep", keep, "early.stop.patience", patience));
  }

  @Test
  void keepBestHoldsTheLowestLossEpochsParametersAndPatienceStops() {
    Selection s = new Selection(cfg("best", "2"), 3);
    double[] losses = {0.5, 0.4, 0.45, 0.46, 0.3};
    float[] params = new float[3];
    int epoch = 0;
    while (!s.stopped() && epoch < losses.length) {
      epoch++;
      java.util.Arrays.fill(params, epoch); // the parameters after this epoch
      s.epochEnded(epoch, loss(losses[epoch - 1]), params, 10, QUIET);
    }
    assertEquals(4, epoch, "two epochs in a row without a lower loss than epoch 2's stop the run");
    assertTrue(s.stopped());
    assertArrayEquals(new float[] {2, 2, 2}, s.kept(params), "epoch 2's parameters, copied then");
    assertEquals(2, s.keptEpoch(epoch));
    assertEquals(0.4, s.keptEval().meanLoss(), 1e-12);
  }

  @Test
  void keepLastWithoutPatienceOnlyWatches() {
    Selection s = new Selection(cfg("last", "0"), 2);
    float[] params = {1, 1};
    for (int e = 1; e <= 3; e++) s.epochEnded(e, loss(e), params, 3, QUIET);
    assertFalse(s.stopped());
    assertSame(params, s.kept(params));
    assertEquals(3, s.keptEpoch(3));
    assertEquals(3.0, s.keptEval().meanLoss(), 1e-12);
  }

  @Test
  void patienceDoesNotStopAtTheLastEpochAndBadValuesAreRefused() {
    Selection s = new Selection(cfg("last", "1"), 1);
    s.epochEnded(1, loss(1), new float[1], 2, QUIET);
    s.epochEnded(2, loss(2), new float[1], 2, QUIET);
    assertFalse(s.stopped(), "the run ends there anyway");
    assertThrows(ConfigException.class, () -> cfg("first", "0"));
    assertThrows(ConfigException.class, () -> cfg("last", "-1"));
  }

  /** What a checkpoint keeps gives the same choices after a restore. */
  @Test
  void aRestoredSelectionChoosesAsTheOriginal() {
    Selection a = new Selection(cfg("best", "2"), 2);
    a.epochEnded(1, loss(0.5), new float[] {1, 1}, 9, QUIET);
    a.epochEnded(2, loss(0.6), new float[] {2, 2}, 9, QUIET);
    Selection b = new Selection(cfg("best", "2"), 2);
    b.restore(a.toMap(), a.bestParams());
    for (Selection s : new Selection[] {a, b}) s.epochEnded(3, loss(0.7), new float[] {3, 3}, 9, QUIET);
    assertTrue(a.stopped() && b.stopped());
    assertArrayEquals(a.kept(new float[2]), b.kept(new float[2]));
    assertEquals(1, b.keptEpoch(3));
  }
}
