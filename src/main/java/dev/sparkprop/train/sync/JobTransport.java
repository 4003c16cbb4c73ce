package dev.sparkprop.train.sync;

import dev.sparkprop.data.Shard;
import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import dev.sparkprop.train.step.ShardWorker;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/**
 * {@code sync.mode=job}: a Spark job per round. The driver broadcasts what it sends, every
 * partition's task computes its {@link PartitionSum} from its cached shard, and {@code collect}
 * returns the sums in partition order. Pure Spark: Spark retries a failed task and recomputes a
 * lost shard (the task depends only on its inputs, so the bits stay the same), and it works with
 * dynamic allocation; it costs a Spark job every step (docs/PERFORMANCE.md, "The step, measured").
 */
public final class JobTransport implements Transport {
  private final JavaSparkContext jsc;
  private final JavaRDD<Shard> shards;
  private final ShardWorker.Plan plan;
  private final Broadcasts broadcasts;
  private final TaskWrapper wrapper;
  private long sendNanos;

  /**
   * What a round's task function is run through: the identity, or a test's wrapper (a task that
   * fails its first attempt, to show that Spark's retry changes no bit).
   */
  public interface TaskWrapper extends java.io.Serializable {
    FlatMapFunction<Iterator<Shard>, PartitionSum> wrap(RoundTask task);
  }

  JobTransport(JavaSparkContext jsc, JavaRDD<Shard> shards, ShardWorker.Plan plan, Broadcasts broadcasts, TaskWrapper wrapper) {
    this.jsc = jsc;
    this.shards = shards;
    this.plan = plan;
    this.broadcasts = broadcasts;
    this.wrapper = wrapper;
  }

  @Override
  public PartitionSum[] exchange(Round r, float[] out, int length) {
    long t0 = System.nanoTime();
    jsc.setJobDescription(r.describe() + "/" + plan.layout().numBatches() + (r.steps() > 1 ? " (local SGD round)" : ""));
    Broadcast<float[]> bc = jsc.broadcast(java.util.Arrays.copyOf(out, length));
    sendNanos = System.nanoTime() - t0;
    List<PartitionSum> sums;
    try {
      sums = shards.mapPartitions(wrapper.wrap(new RoundTask(bc, plan, r))).collect();
    } finally {
      broadcasts.destroy(bc);
    }
    PartitionSum[] byPartition = new PartitionSum[shards.getNumPartitions()];
    for (PartitionSum s : sums) byPartition[s.partition] = s;
    for (int p = 0; p < byPartition.length; p++) {
      if (byPartition[p] == null) throw new IllegalStateException(r.describe() + ": no sum came back from partition " + p);
    }
    return byPartition;
  }

  @Override
  public long lastSendNanos() {
    return sendNanos;
  }

  @Override
  public void endEpoch() {}

  @Override
  public void close() {
    jsc.setJobDescription(null);
  }

  /** One partition's task: its sum of the round, a new array for Spark to return. */
  public static final class RoundTask implements FlatMapFunction<Iterator<Shard>, PartitionSum> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<float[]> in;
    private final ShardWorker.Plan plan;
    private final Round round;

    RoundTask(Broadcast<float[]> in, ShardWorker.Plan plan, Round round) {
      this.in = in;
      this.plan = plan;
      this.round = round;
    }

    @Override
    public Iterator<PartitionSum> call(Iterator<Shard> it) {
      if (!it.hasNext()) return Collections.emptyIterator();
      Shard shard = it.next();
      float[] incoming = in.value();
      PartitionSum sum = new PartitionSum(shard.partition(), round.steps(), new float[incoming.length]);
      new ShardWorker(plan).run(shard, round, incoming, sum);
      if (sum.rows == 0) sum.vector = null; // nothing to add: not 1.6 MB of zeros back to the driver
      return Collections.singletonList(sum).iterator();
    }

    /** The round this task computes. */
    public Round round() {
      return round;
    }
  }
}
