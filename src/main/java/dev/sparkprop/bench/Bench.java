package dev.sparkprop.bench;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.CommandSession;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.command.MasterCheck;
import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.run.StepStats;
import dev.sparkprop.train.DataFit;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.sync.TaskSlots;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.RDDInfo;

/**
 * {@code Bench [--config FILE] [bench.warmup=20] [bench.steps=100] [bench.json=FILE] [key=value ...] [-- key=value ... ...]}:
 * runs the training step of the configured recipe, skips the warm-up steps, and reports per step
 * the median and 95th percentile of: wall time, broadcast creation, the Spark job, the driver's
 * sum and update, the slowest task's computation and broadcast read (measured in the tasks),
 * Spark's own task metrics (run time, deserialisation, result serialisation, result size), the
 * Spark overhead (wall minus slowest task compute), samples per second, the kernel's effective
 * GFLOP/s and the executors' storage memory; then the floor under the step ({@link BenchFloor};
 * {@code bench.floor=false} skips it); for a network with convolutions, one task's step part by
 * part ({@link StepBreakdown}). Prints a table and a JSON line. {@code bench.compute=sleep:MS}
 * measures the exchange alone: the tasks sleep MS instead of computing (see
 * {@link DistributedTrainer#computeStandIn}).
 */
public final class Bench {
  private Bench() {}

  /** The bench's own keys, with their defaults; every other key is a training key. */
  private static final Map<String, String> BENCH_KEYS = CommandArgs.keys(
      "bench.warmup", "20",
      "bench.steps", "100",
      "bench.json", "",
      "bench.floor", "true",
      "bench.compute", "real",
      "bench.await", "");

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** One measured configuration: its recipe, data, and the bench's own settings. */
  private record Point(TrainConfig cfg, DataSpec train, DataSpec test, int warmup, int measured, String json, boolean floor,
      double standInMillis, String await) {}

  /** How long {@code bench.await} waits for its file. */
  private static final long AWAIT_MILLIS = 600_000;

  /**
   * {@code args} may hold several points separated by {@code --}: the arguments before the
   * first {@code --} apply to all, each group after it is one point (for example its layers,
   * batch size and bench.json), measured one after the other in the same application, which
   * saves a Spark application's start per point. A point that fails is reported and the next
   * one runs; the exit code is that of the last failure (0 if none).
   */
  public static int run(String[] args, PrintStream out) {
    List<List<String>> groups = new ArrayList<>();
    groups.add(new ArrayList<>());
    for (String a : args) {
      if (a.equals("--")) groups.add(new ArrayList<>());
      else groups.get(groups.size() - 1).add(a);
    }
    List<Point> points = new ArrayList<>();
    try {
      List<List<String>> each = groups.size() > 1 ? groups.subList(1, groups.size()) : List.of(List.of());
      for (List<String> g : each) {
        List<String> all = new ArrayList<>(groups.get(0));
        all.addAll(g);
        points.add(plan(all));
      }
      MasterCheck.check(new org.apache.spark.SparkConf());
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    CommandSession session = CommandSession.open("sparkprop bench");
    SparkSession spark = session.spark();
    java.util.concurrent.atomic.AtomicReference<ConcurrentLinkedQueue<long[]>> tasks = new java.util.concurrent.atomic.AtomicReference<>();
    SparkListener taskEnds = new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd e) {
        ConcurrentLinkedQueue<long[]> q = tasks.get();
        if (e.taskMetrics() == null || q == null) return;
        q.add(new long[] {e.stageId(), e.taskMetrics().executorRunTime(), e.taskMetrics().executorDeserializeTime(),
            e.taskMetrics().resultSerializationTime(), e.taskMetrics().resultSize(), e.taskMetrics().jvmGCTime()});
      }
    };
    int status = ExitCodes.OK;
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      jsc.sc().addSparkListener(taskEnds); // removed at the end: the session may be the caller's and outlive the bench
      for (Point p : points) {
        if (points.size() > 1) out.println("== " + p.cfg().spec() + ", batch " + p.cfg().batchSize() + ", sync.mode=" + p.cfg().get("sync.mode"));
        try {
          if (!p.await().isEmpty()) await(java.nio.file.Path.of(p.await()), out);
          tasks.set(new ConcurrentLinkedQueue<>()); // stage id, run ms, deser ms, result ser ms, result bytes, GC ms
          measure(jsc, p, tasks.get(), out);
        } catch (Exception e) {
          status = Failures.report(e);
          if (jsc.sc().isStopped()) return status;
        } finally {
          settle(jsc);
        }
      }
      return status;
    } finally {
      if (!spark.sparkContext().isStopped()) spark.sparkContext().removeSparkListener(taskEnds);
      session.close();
    }
  }

  private static Point plan(List<String> args) throws java.io.IOException {
    Map<String, String> all = CommandArgs.read("bench", args.toArray(new String[0]), true);
    Map<String, String> own = new LinkedHashMap<>();
    for (String k : List.copyOf(all.keySet())) if (k.startsWith("bench.")) own.put(k, all.remove(k));
    CommandArgs b = CommandArgs.check("bench", own, BENCH_KEYS);
    int warmup = b.nonNegative("bench.warmup");
    int measured = b.nonNegative("bench.steps");
    if (measured < 1) throw new ConfigException("bench.steps: at least 1, got " + measured);
    String json = b.get("bench.json");
    boolean floor = b.bool("bench.floor");
    double standIn = standIn(b.get("bench.compute"));
    TrainConfig cfg = TrainConfig.of(all);
    String[] tr = MnistFiles.locate(cfg.get("train.path"), "train");
    String[] te = MnistFiles.locate(cfg.get("test.path"), "t10k");
    DataSpec train = DataSpec.check(tr[0], tr[1], cfg.classes());
    DataSpec test = DataSpec.check(te[0], te[1], cfg.classes());
    long stepsPerEpoch = (train.count + cfg.batchSize() - 1) / cfg.batchSize();
    int epochs = (int) Math.max(1, (warmup + measured + stepsPerEpoch - 1) / stepsPerEpoch);
    cfg = DataFit.withInputFrom(cfg, train.height, train.width, train.features, cfg.get("train.path"));
    cfg = cfg.with("epochs", String.valueOf(epochs), "test.limit", "1000", "eval.every", "1000000", "log.every", "1000000");
    cfg.spec(); // a layer list that does not fit the images: refused before Spark starts
    return new Point(cfg, train, test, warmup, measured, json, floor, standIn, b.get("bench.await"));
  }

  /**
   * {@code bench.await=FILE}: the point starts once FILE exists, so that a script can change the
   * world between points of one application (submit/scaling-emulated reshapes the emulated links
   * when it reads the line printed here) without starting another.
   */
  private static void await(java.nio.file.Path file, PrintStream out) throws InterruptedException {
    out.println("bench.await: waiting for " + file);
    out.flush();
    long end = System.currentTimeMillis() + AWAIT_MILLIS;
    while (!java.nio.file.Files.exists(file)) {
      if (System.currentTimeMillis() > end) {
        throw new ConfigException("bench.await: " + file + " did not appear within " + AWAIT_MILLIS / 1000
            + " s; whoever was to create it did not (the point is skipped)");
      }
      Thread.sleep(50);
    }
  }

  /**
   * {@code bench.compute}: {@code real} (0), or {@code sleep:MS}: the tasks sleep MS instead of
   * computing (a stand-in for measuring the exchange alone, e.g. many emulated hosts on two cores).
   */
  static double standIn(String v) {
    if (v.equals("real")) return 0;
    double ms = Double.NaN;
    if (v.startsWith("sleep:")) {
      try {
        ms = Double.parseDouble(v.substring("sleep:".length()));
      } catch (NumberFormatException e) {
        // named below
      }
    }
    if (!(ms > 0) || ms > 3_600_000) {
      throw new ConfigException("bench.compute: real, or sleep:MS with 0 < MS <= 3600000 (milliseconds a task sleeps "
          + "instead of computing its step), got '" + v + "'");
    }
    return ms;
  }

  private static void measure(JavaSparkContext jsc, Point p, ConcurrentLinkedQueue<long[]> tasks, PrintStream out) throws Exception {
    TrainConfig cfg = p.cfg();
    List<StepStats> stats = new ArrayList<>();
    long[] cached = {0};
    int total = p.warmup() + p.measured();
    DistributedTrainer trainer = new DistributedTrainer(jsc, cfg, new PrintStream(PrintStream.nullOutputStream()))
        .onStep(s -> {
          stats.add(s);
          if (stats.size() == 1) {
            long c = 0;
            for (RDDInfo info : jsc.sc().getRDDStorageInfo()) c += info.memSize(); // while the shards are cached
            cached[0] = c;
          }
        })
        .stopAfter(total);
    if (p.standInMillis() > 0) trainer.computeStandIn(p.standInMillis());
    // On a cluster, measure with every executor: wait (up to 60 s) until their task slots
    // cover the partitions, so the first steps do not run on the executors registered so far.
    TaskSlots.await(jsc, cfg.partitions() > 0 ? cfg.partitions() : jsc.defaultParallelism(), 60_000);
    long t0 = System.nanoTime();
    trainer.fit(p.train(), p.test(), null);
    double seconds = (System.nanoTime() - t0) / 1e9;
    jsc.sc().listenerBus().waitUntilEmpty(); // the last tasks' ends reach the listener
    List<StepStats> m = stats.subList(Math.min(p.warmup(), stats.size()), stats.size());
    Map<String, Object> report = report(cfg, m, tasks, p.warmup(), jsc, cached[0]);
    report.put("run_seconds", seconds);
    report.put("compute_stand_in_ms", p.standInMillis());
    if (p.floor()) {
      Map<String, Double> f = BenchFloor.measure(jsc, cfg, p.train(), p.warmup(), p.measured(), new PrintStream(PrintStream.nullOutputStream()));
      report.put("floor", f);
    }
    if (p.standInMillis() == 0 && StepBreakdown.applies(cfg, p.train())) {
      int parts = cfg.partitions() > 0 ? cfg.partitions() : jsc.defaultParallelism();
      report.put("parts", StepBreakdown.measure(cfg, p.train(), parts, p.warmup(), p.measured()));
    }
    out.print(table(report));
    String line = toJson(report);
    out.println("JSON " + line);
    if (!p.json().isEmpty()) Files.writeString(Path.of(p.json()), line + "\n", StandardCharsets.UTF_8);
  }

  /** Waits (up to 30 s) until no job of the point before runs, so that the next one finds every task slot free. */
  private static void settle(JavaSparkContext jsc) {
    if (jsc.sc().isStopped()) return;
    jsc.cancelAllJobs();
    long end = System.currentTimeMillis() + 30_000;
    while (jsc.statusTracker().getActiveJobIds().length > 0 && System.currentTimeMillis() < end) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static Map<String, Object> report(TrainConfig cfg, List<StepStats> m, ConcurrentLinkedQueue<long[]> tasks,
      int warmup, JavaSparkContext jsc, long cachedBytes) {
    NetworkSpec spec = cfg.spec();
    int parts = cfg.partitions() > 0 ? cfg.partitions() : jsc.defaultParallelism();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("master", jsc.master());
    r.put("partitions", parts);
    r.put("network", spec.toString());
    r.put("layers", cfg.get("layers"));
    r.put("input_shape", cfg.get("input.shape"));
    r.put("sync_mode", cfg.get("sync.mode"));
    r.put("sync_every", cfg.syncEvery());
    r.put("sync_wire", cfg.get("sync.wire"));
    r.put("sync_topology", cfg.get("sync.topology"));
    r.put("optimizer", cfg.get("optimizer"));
    r.put("batch_size", cfg.batchSize());
    r.put("gradient_bytes", 4L * spec.numParams());
    r.put("warmup_steps", warmup);
    r.put("measured_steps", m.size());
    r.put("wall_ms", dist(m, StepStats::wall));
    r.put("driver_send_ms", dist(m, StepStats::send));
    r.put("driver_receive_ms", dist(m, StepStats::receive));
    r.put("driver_add_ms", dist(m, StepStats::add));
    r.put("driver_update_ms", dist(m, StepStats::update));
    r.put("slowest_task_compute_ms", dist(m, StepStats::slowestCompute));
    r.put("sync_overhead_ms", dist(m, StepStats::overhead));
    // Spark's task metrics of the training stages (one task per partition per step), after the warm-up
    List<long[]> t = new ArrayList<>(tasks);
    t.sort((a, b) -> Long.compare(a[0], b[0]));
    int skip = Math.min(t.size(), (warmup + 2) * parts); // warm-up steps and the two loading jobs
    List<long[]> tm = t.subList(skip, t.size());
    r.put("task_run_time_ms", distLong(tm, 1));
    r.put("task_deserialize_ms", distLong(tm, 2));
    r.put("task_result_serialize_ms", distLong(tm, 3));
    r.put("task_result_bytes", distLong(tm, 4));
    r.put("task_jvm_gc_ms", distLong(tm, 5));
    double wallMedian = median(m, StepStats::wall);
    r.put("samples_per_second", cfg.batchSize() / (wallMedian / 1e9));
    // flops of one task's products: forward and dW for every layer, dX for all but the first
    double rowsPerTask = cfg.batchSize() / (double) parts;
    double flops = rowsPerTask * spec.trainingFlopsPerRow();
    r.put("kernel_gflops_per_core", flops / median(m, StepStats::slowestCompute));
    // What the executors resolved the kernel to (each JVM resolves it itself).
    dev.sparkprop.nn.Kernel kernel = cfg.kernel();
    List<Integer> ids = new ArrayList<>();
    for (int i = 0; i < parts; i++) ids.add(i);
    int[] p = spec.largestProduct(spec.isDense() ? 128 : 16); // what Workspace probes on
    r.put("kernel", String.join(", ", jsc.parallelize(ids, parts)
        .map(i -> kernel.describe(p[0], p[1], p[2])).distinct().collect()));
    r.put("cached_bytes", cachedBytes);
    long maxMem = 0;
    for (scala.Tuple2<Object, Object> v : scala.jdk.javaapi.CollectionConverters.asJava(jsc.sc().getExecutorMemoryStatus()).values()) {
      maxMem += (Long) v._1();
    }
    r.put("executor_storage_memory_bytes", maxMem);
    return r;
  }

  interface Field {
    long of(StepStats s);
  }

  private static double median(List<StepStats> m, Field f) {
    long[] v = m.stream().mapToLong(f::of).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  private static Map<String, Double> dist(List<StepStats> m, Field f) {
    long[] v = m.stream().mapToLong(f::of).sorted().toArray();
    return percentiles(v, 1e-6);
  }

  private static Map<String, Double> distLong(List<long[]> rows, int col) {
    long[] v = rows.stream().mapToLong(a -> a[col]).sorted().toArray();
    return percentiles(v, 1);
  }

  private static Map<String, Double> percentiles(long[] sorted, double scale) {
    Map<String, Double> d = new LinkedHashMap<>();
    if (sorted.length == 0) return d;
    d.put("median", sorted[sorted.length / 2] * scale);
    d.put("p95", sorted[Math.min(sorted.length - 1, (int) Math.ceil(0.95 * sorted.length) - 1)] * scale);
    return d;
  }

  private static String table(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%s, %s partitions, %s, batch %s: %s measured steps after %s warm-up%n",
        r.get("master"), r.get("partitions"), r.get("network"), r.get("batch_size"), r.get("measured_steps"), r.get("warmup_steps")));
    sb.append(String.format(Locale.ROOT, "%-34s %10s %10s%n", "per step", "median", "p95"));
    for (Map.Entry<String, Object> e : r.entrySet()) {
      if (e.getValue() instanceof Map<?, ?> d && d.containsKey("median")) {
        sb.append(String.format(Locale.ROOT, "%-34s %10.2f %10.2f%n", e.getKey(), d.get("median"), d.get("p95")));
      }
    }
    if (r.get("floor") instanceof Map<?, ?> f) {
      sb.append("floor (median wall of a job over the same cached shards, no computation):\n");
      for (Map.Entry<?, ?> e : f.entrySet()) sb.append(String.format(Locale.ROOT, "  %-32s %10.2f%n", e.getKey(), e.getValue()));
    }
    if (r.get("parts") instanceof Map<?, ?> parts) sb.append(StepBreakdown.table(parts));
    sb.append("kernel ").append(r.get("kernel")).append('\n');
    sb.append(String.format(Locale.ROOT, "samples/s %.0f, kernel %.1f GFLOP/s per core (dense-equivalent), cached data %.1f MB, "
        + "executor storage memory %.0f MB%n", r.get("samples_per_second"), r.get("kernel_gflops_per_core"),
        ((Long) r.get("cached_bytes")) / 1e6, ((Long) r.get("executor_storage_memory_bytes")) / 1e6));
    return sb.toString();
  }

  private static String toJson(Map<String, Object> r) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(r);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
