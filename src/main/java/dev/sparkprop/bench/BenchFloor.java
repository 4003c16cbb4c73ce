package dev.sparkprop.bench;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.train.TrainingData;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/**
 * The floor under a training step: the same job shape over the same cached shards, with parts
 * of the step added one at a time. (a) a job that returns nothing; (b) plus the parameters'
 * broadcast, read in every task and destroyed after the job; (c) plus a gradient-sized result
 * from every task. The full step adds the computation and the driver's sum and update.
 */
final class BenchFloor {
  private BenchFloor() {}

  /** What a task does: read the broadcast or not, return a gradient-sized array or not. */
  private static final class Probe implements FlatMapFunction<Iterator<Shard>, float[]> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<float[]> params;
    private final int resultSize;

    Probe(Broadcast<float[]> params, int resultSize) {
      this.params = params;
      this.resultSize = resultSize;
    }

    @Override
    public Iterator<float[]> call(Iterator<Shard> shards) {
      float first = params == null ? 0f : params.value()[0];
      float[] out = new float[resultSize];
      if (resultSize > 0) out[0] = first;
      return Collections.singletonList(out).iterator();
    }
  }

  /** Median wall milliseconds of each variant over {@code steps} jobs after {@code warmup}. */
  static Map<String, Double> measure(JavaSparkContext jsc, TrainConfig cfg, DataSpec train, int warmup, int steps,
      PrintStream log) {
    int parts = cfg.partitions() > 0 ? cfg.partitions() : jsc.defaultParallelism();
    int rows = cfg.trainLimit() > 0 ? Math.min(cfg.trainLimit(), train.count) : train.count;
    JavaRDD<Shard> shards = TrainingData.batches(jsc, train, rows, new BatchLayout(rows, cfg.batchSize(), parts),
        cfg.classes(), "training", log);
    float[] params = new float[cfg.spec().numParams()];
    Map<String, Double> r = new LinkedHashMap<>();
    try {
      r.put("a_empty_job_ms", run(jsc, shards, params, false, 0, warmup, steps));
      r.put("b_plus_broadcast_ms", run(jsc, shards, params, true, 0, warmup, steps));
      r.put("c_plus_gradient_results_ms", run(jsc, shards, params, true, params.length, warmup, steps));
    } finally {
      shards.unpersist(false);
    }
    return r;
  }

  private static double run(JavaSparkContext jsc, JavaRDD<Shard> shards, float[] params, boolean broadcast, int result,
      int warmup, int steps) {
    long[] t = new long[steps];
    Broadcast<?>[] recent = new Broadcast<?>[8]; // kept reachable, as DistributedTrainer does
    for (int i = -warmup; i < steps; i++) {
      long t0 = System.nanoTime();
      Broadcast<float[]> bc = broadcast ? jsc.broadcast(params.clone()) : null;
      shards.mapPartitions(new Probe(bc, result)).collect();
      if (bc != null) {
        bc.destroy();
        recent[(i + warmup) % recent.length] = bc;
      }
      if (i >= 0) t[i] = System.nanoTime() - t0;
    }
    Arrays.sort(t);
    return t[steps / 2] / 1e6;
  }
}
