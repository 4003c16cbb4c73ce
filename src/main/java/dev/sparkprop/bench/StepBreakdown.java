package dev.sparkprop.bench;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.nn.Gemm;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.StepParts;
import java.io.IOException;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's breakdown of one task's step for a network with convolutions: the first rows of
 * the training files, as many as a task trains on a step, taken forward and backward on the
 * driver in one thread, each part timed ({@link StepParts}); after the distributed measurement, so
 * the executors are idle. IDX training data only (a table's rows are not read on the driver).
 */
final class StepBreakdown {
  private StepBreakdown() {}

  static boolean applies(TrainConfig cfg, DataSpec train) {
    return !cfg.spec().isDense() && !train.isTable() && !cfg.regression();
  }

  /** Part name to median milliseconds a pass of a task's rows ({@code rows_per_task} among them). */
  static Map<String, Double> measure(TrainConfig cfg, DataSpec train, int partitions, int warmup, int reps) throws IOException {
    NetworkSpec spec = cfg.spec();
    int rows = Math.min(train.count, (cfg.batchSize() + partitions - 1) / partitions);
    Shard shard = ShardReader.read(train.imagesPath, train.labelsPath, cfg.classes(), rows, spec.inputSize(), 0,
        ShardReader.ranges(rows, 1));
    float[] x = new float[rows * spec.inputSize()];
    shard.copyRows(0, rows, x);
    int[] p = spec.largestProduct(Math.min(rows, 16));
    Gemm gemm = cfg.kernel().gemm(p[0], p[1], p[2]); // the kernel a task uses
    Map<String, Double> parts = StepParts.measure(spec, gemm, cfg.initializer().initialize(spec, cfg.seed()), x,
        shard.labels(), rows, warmup, reps);
    parts.put("rows_per_task", (double) rows);
    return parts;
  }

  /** The breakdown as the bench's table prints it. */
  static String table(Map<?, ?> parts) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
        "one task's step, part by part (%.0f rows, one thread on the driver, median ms):%n", parts.get("rows_per_task")));
    for (Map.Entry<?, ?> e : parts.entrySet()) {
      if (!e.getKey().equals("rows_per_task")) sb.append(String.format(Locale.ROOT, "  %-34s %8.3f%n", e.getKey(), e.getValue()));
    }
    return sb.toString();
  }
}
