package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.IOException;

/**
 * A barrier task's end of the exchange with the driver: over a socket ({@link ExchangeClient}),
 * or, for a task in the driver's own JVM (local mode), in memory ({@link MemoryLink}).
 */
interface TaskLink extends AutoCloseable {
  /**
   * Waits for the driver: the floats of the next round (read only, valid until {@link #reply}),
   * or null when the epoch is over.
   */
  float[] next() throws IOException;

  /** The round of the last {@link #next}. */
  Round round();

  /** Sends this partition's sum of the current round; its vector must stay untouched until the next {@link #next}. */
  void reply(PartitionSum s) throws IOException;

  @Override
  void close() throws IOException;
}
