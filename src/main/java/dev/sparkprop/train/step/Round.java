package dev.sparkprop.train.step;

import java.io.Serializable;

/**
 * What the driver asks of every partition at once: steps {@code [first, end)} of {@code epoch}.
 * In exact synchronous SGD a round is one step (the partitions return gradient sums); in local
 * SGD ({@code sync.every=K}) it is up to K steps that each partition takes alone from the state
 * it receives (the partitions return their row-weighted end states).
 *
 * @param optimizerSteps the optimizer's step count at the round's start (local SGD continues it)
 */
public record Round(int epoch, int first, int end, long optimizerSteps) implements Serializable {
  /** Steps in the round. */
  public int steps() {
    return end - first;
  }

  /** The round that starts at {@code step}: one step, or (local SGD) up to the next multiple of K. */
  public static Round at(int epoch, int step, int syncEvery, int stepsPerEpoch, long optimizerSteps) {
    int end = syncEvery == 1 ? step + 1 : Math.min(stepsPerEpoch, (step / syncEvery + 1) * syncEvery);
    return new Round(epoch, step, end, optimizerSteps);
  }

  /** "epoch E step K" or "epoch E steps K-L", from 1 for epochs and 0 for steps as in the logs. */
  public String describe() {
    return "epoch " + (epoch + 1) + (steps() == 1 ? " step " + first : " steps " + first + "-" + (end - 1));
  }
}
