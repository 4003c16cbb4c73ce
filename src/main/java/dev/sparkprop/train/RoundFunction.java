package dev.sparkprop.train;

import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import java.util.Collections;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/**
 * The executor side of one local-SGD round with {@code sync.mode=job} ({@link LocalSgd}): from
 * the broadcast start (parameters and optimizer state), steps {@code [first, end)} on this
 * partition's rows alone; returns the row-weighted packed end state. Like {@link StepFunction} it
 * depends only on its inputs, so a retried task returns the same bits.
 */
final class RoundFunction implements FlatMapFunction<Iterator<Shard>, LocalSgd.RoundSum> {
  private static final long serialVersionUID = 1L;

  private final Broadcast<AllReduceEpoch.Start> start;
  private final java.util.Map<String, String> config;
  private final NetworkSpec spec;
  private final Kernel kernel;
  private final BatchLayout layout;
  private final int end;

  RoundFunction(Broadcast<AllReduceEpoch.Start> start, java.util.Map<String, String> config, NetworkSpec spec,
      Kernel kernel, BatchLayout layout, int end) {
    this.start = start;
    this.config = config;
    this.spec = spec;
    this.kernel = kernel;
    this.layout = layout;
    this.end = end;
  }

  @Override
  public Iterator<LocalSgd.RoundSum> call(Iterator<Shard> shards) {
    if (!shards.hasNext()) return Collections.emptyIterator();
    Shard shard = shards.next();
    TrainConfig cfg = TrainConfig.of(config);
    AllReduceEpoch.Start s = start.value();
    float[] params = s.paramsReplica();
    Optimizer optimizer = s.optimizer(cfg);
    LearningRate schedule = cfg.learningRate();
    long totalSteps = (long) layout.numBatches() * cfg.epochs();
    LocalSgd.RoundSum r = LocalSgd.round(shard, params, optimizer, spec, kernel, layout, cfg.shuffle(), cfg.seed(),
        s.epoch(), s.firstStep(), end, schedule, totalSteps, new float[spec.numParams()],
        new float[LocalSgd.packedLength(spec.numParams(), optimizer)]);
    return Collections.singletonList(r).iterator();
  }
}
