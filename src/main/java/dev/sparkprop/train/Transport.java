package dev.sparkprop.train;

/**
 * How a round's input reaches the partitions and their sums reach the driver: the only part of
 * a training step that differs between {@code sync.mode=job} ({@link JobTransport}) and
 * {@code sync.mode=barrier} ({@link BarrierTransport}). What the driver does with the sums is
 * written once, in {@link DistributedTrainer}.
 */
interface Transport extends AutoCloseable {
  /**
   * Sends {@code out[0, length)} (the parameters, or in local SGD the packed state) to every
   * partition for round {@code r} and returns their sums, indexed by partition. The returned
   * objects may be reused by the next call. A transport that can recover from a lost executor
   * does so here, from {@code out} again.
   */
  PartitionSum[] exchange(Round r, float[] out, int length);

  /** Of the last exchange: nanoseconds spent handing {@code out} over (the rest was waiting and receiving). */
  long lastSendNanos();

  /** The epoch's last round is done (the barrier stage ends). */
  void endEpoch();

  /** Releases everything, also after a failure in the middle of an epoch. */
  @Override
  void close();
}
