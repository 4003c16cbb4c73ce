package dev.sparkprop.scale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.report.Charts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The scaling demo's report (see {@code submit/scaling-demo}): from one bench JSON per (mode,
 * workers) it writes {@code scaling.csv}, prints the table and draws {@code scaling.png}
 * (samples per second against workers, with the ideal line) and {@code scaling_efficiency.png}.
 * Efficiency is throughput per worker relative to one worker: {@code sps(W) / (W sps(1))}.
 *
 * <p>Usage: {@code ScalingReport OUT_DIR MODE:WORKERS=bench.json ...}. No Spark needed.
 */
public final class ScalingReport {
  private ScalingReport() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: ScalingReport OUT_DIR MODE:WORKERS=bench.json ...");
      System.exit(ExitCodes.USAGE);
    }
    Path out = Path.of(args[0]);
    ObjectMapper mapper = new ObjectMapper();
    Map<String, TreeMap<Integer, JsonNode>> byMode = new TreeMap<>();
    for (Map.Entry<String, String> e : CommandArgs.read("ScalingReport", java.util.Arrays.copyOfRange(args, 1, args.length),
        false).entrySet()) {
      String[] mw = e.getKey().split(":");
      byMode.computeIfAbsent(mw[0], k -> new TreeMap<>())
          .put(Integer.parseInt(mw[1]), mapper.readTree(Files.readString(Path.of(e.getValue()))));
    }
    StringBuilder csv = new StringBuilder(
        "mode,workers,global_batch,samples_per_second,step_wall_ms,slowest_task_compute_ms,spark_overhead_ms,driver_update_ms,efficiency\n");
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-7s %7s %6s %12s %9s %10s %10s %8s %10s%n",
        "mode", "workers", "batch", "samples/s", "step ms", "compute", "overhead", "update", "efficiency"));
    List<Charts.Series> throughput = new ArrayList<>();
    List<Charts.Series> efficiency = new ArrayList<>();
    for (Map.Entry<String, TreeMap<Integer, JsonNode>> m : byMode.entrySet()) {
      TreeMap<Integer, JsonNode> points = m.getValue();
      double base = points.firstEntry().getValue().path("samples_per_second").asDouble() / points.firstKey();
      int n = points.size();
      double[] w = new double[n];
      double[] sps = new double[n];
      double[] ideal = new double[n];
      double[] eff = new double[n];
      int i = 0;
      for (Map.Entry<Integer, JsonNode> p : points.entrySet()) {
        JsonNode b = p.getValue();
        double s = b.path("samples_per_second").asDouble();
        double wall = b.path("wall_ms").path("median").asDouble();
        double compute = b.path("slowest_task_compute_ms").path("median").asDouble();
        double update = b.path("driver_update_ms").path("median").asDouble();
        double overhead = Math.max(0, wall - compute - update);
        w[i] = p.getKey();
        sps[i] = s;
        ideal[i] = base * p.getKey();
        eff[i] = s / ideal[i];
        csv.append(String.format(Locale.ROOT, "%s,%d,%d,%.1f,%.3f,%.3f,%.3f,%.3f,%.4f%n", m.getKey(), p.getKey(),
            b.path("batch_size").asInt(), s, wall, compute, overhead, update, eff[i]));
        table.append(String.format(Locale.ROOT, "%-7s %7d %6d %12.0f %9.2f %10.2f %10.2f %8.2f %10.3f%n", m.getKey(),
            p.getKey(), b.path("batch_size").asInt(), s, wall, compute, overhead, update, eff[i]));
        i++;
      }
      throughput.add(new Charts.Series(m.getKey() + " scaling, measured", w, sps));
      throughput.add(new Charts.Series(m.getKey() + " scaling, ideal", w, ideal, true));
      efficiency.add(new Charts.Series(m.getKey() + " scaling", w, eff));
    }
    Files.createDirectories(out);
    Files.writeString(out.resolve("scaling.csv"), csv.toString(), StandardCharsets.UTF_8);
    Charts.lines(Charts.file(out.resolve("scaling.png")), "Training throughput on a loopback standalone cluster", "workers (1 core each)",
        "samples per second (log scale)", throughput, true); // job and barrier differ 20-fold
    Charts.lines(Charts.file(out.resolve("scaling_efficiency.png")), "Scaling efficiency: sps(W) / (W sps(1))", "workers (1 core each)",
        "efficiency", efficiency, false);
    System.out.print(table);
    System.out.println("wrote " + out.resolve("scaling.csv") + ", scaling.png, scaling_efficiency.png");
  }
}
