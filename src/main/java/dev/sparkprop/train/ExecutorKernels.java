package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import java.io.PrintStream;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/** The matrix kernel every executor resolves before training, and what they chose. */
final class ExecutorKernels {
  private ExecutorKernels() {}

  /**
   * Resolves the matrix kernel on every executor before training (each JVM loads, self-checks
   * and, for {@code kernel=auto}, times the candidates once, on the first layer's products at
   * the rows a task trains on) and logs what they chose. Executors that chose differently would
   * compute other last bits: say so.
   */
  static String resolve(JavaSparkContext jsc, TrainConfig cfg, JavaRDD<Shard> shards, NetworkSpec spec, int rowsPerTask,
      PrintStream log) {
    Kernel kernel = cfg.kernel();
    jsc.setJobDescription("resolve kernel=" + cfg.get("kernel") + " on the executors");
    int[] p = spec.largestProduct(spec.isDense() ? rowsPerTask : Math.min(rowsPerTask, 16)); // a CNN's products are large at 16
    // each executor's kernel, how it runs a pool-blocked first pool and an MLP's mostly-zero input (null: none)
    List<String[]> chosen = shards.mapPartitions(it -> Collections.singletonList(new String[] {
        kernel.describe(p[0], p[1], p[2]), Network.blockedPool(spec), Network.sparseInput(spec, kernel.gemm(p[0], p[1], p[2]))}).iterator())
        .collect();
    jsc.setJobDescription(null);
    Set<String> kernels = new TreeSet<>();
    Set<String> pools = new TreeSet<>();
    Set<String> inputs = new TreeSet<>();
    for (String[] c : chosen) {
      kernels.add(c[0].replaceAll(" [0-9.]+ GFLOP/s.*", ""));
      if (c[1] != null) pools.add(c[1]);
      if (c[2] != null) inputs.add(c[2]);
    }
    log.printf("kernel=%s: %s%n", cfg.get("kernel"), chosen.get(0)[0]);
    // the pool's two forms give the same bits: only the speed differs
    if (!pools.isEmpty()) log.printf("first pool: %s%n", String.join(", ", pools));
    if (!inputs.isEmpty()) log.printf("input layer on mostly-zero batches: %s%n", String.join("; ", inputs));
    if (inputs.size() > 1) {
      log.printf("WARNING: the executors run the input layer differently (%s): some round it otherwise, so runs are not "
          + "bit-for-bit reproducible; start every executor with the jdk.incubator.vector module or none%n",
          String.join("; ", inputs));
    }
    if (kernels.size() > 1) {
      log.printf("WARNING: the executors chose different kernels (%s): their products round differently, so runs are "
          + "not bit-for-bit reproducible; set kernel= to one of them%n", String.join(", ", kernels));
    }
    return String.join(", ", kernels);
  }
}
