package dev.sparkprop.train.sync;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.Shard;
import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import dev.sparkprop.train.step.ShardWorker;
import java.io.PrintStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * How a round's input reaches the partitions and their sums reach the driver: the only part of
 * a training step that differs between {@code sync.mode=job} ({@link JobTransport}) and
 * {@code sync.mode=barrier} ({@link BarrierTransport}). What the driver does with the sums is
 * written once, in {@code train.DistributedTrainer}. This interface and {@link #open} are the
 * package's face; the exchange, its codec and the tree stay inside.
 */
public interface Transport extends AutoCloseable {
  /**
   * The transport {@code cfg.syncMode()} names, for the cached {@code shards} and the tasks'
   * {@code plan}: a barrier stage per epoch, or a Spark job per round whose parameters travel as
   * broadcasts (destroyed through {@code broadcasts}, each task wrapped by {@code jobTasks}).
   */
  static Transport open(TrainConfig cfg, JavaSparkContext jsc, JavaRDD<Shard> shards, ShardWorker.Plan plan,
      Broadcasts broadcasts, JobTransport.TaskWrapper jobTasks, PrintStream log) {
    return cfg.syncMode() == TrainConfig.SyncMode.BARRIER
        ? new BarrierTransport(jsc, shards, plan, cfg, log)
        : new JobTransport(jsc, shards, plan, broadcasts, jobTasks);
  }

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
