package dev.sparkprop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.report.Charts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The step-breakdown chart: one stacked bar per {@code submit/bench} JSON (median milliseconds of
 * a step: the slowest task's computation, the rest of the transport (with a job per step:
 * scheduling, task launch, result transfer; with {@code sync.mode=barrier}: the transfers and the
 * tasks' own copies), the driver's send, and its add and update), next to the floor of an empty job.
 *
 * <p>Usage: {@code BenchChart OUT.png LABEL=bench.json [LABEL=bench.json ...]}. No Spark needed.
 */
public final class BenchChart {
  private BenchChart() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: bench-chart OUT.png LABEL=bench.json [LABEL=bench.json ...]");
      return ExitCodes.USAGE;
    }
    try {
      List<String> labels = new ArrayList<>();
      List<JsonNode> benches = new ArrayList<>();
      ObjectMapper mapper = new ObjectMapper();
      Map<String, String> files = CommandArgs.read("bench-chart", java.util.Arrays.copyOfRange(args, 1, args.length), false);
      for (Map.Entry<String, String> e : files.entrySet()) {
        labels.add(e.getKey());
        benches.add(mapper.readTree(Files.readString(Path.of(e.getValue()))));
      }
      int n = benches.size();
      Map<String, double[]> parts = new LinkedHashMap<>();
      String[] names = {"task compute (slowest task)", "rest of the transport (job: schedule, launch, results; barrier: transfers)",
          "driver send (job: broadcast)", "driver add + update"};
      for (String name : names) parts.put(name, new double[n]);
      for (int i = 0; i < n; i++) {
        JsonNode b = benches.get(i);
        double compute = median(b, "slowest_task_compute_ms");
        parts.get(names[0])[i] = compute;
        double broadcast = median(b, "driver_send_ms");
        double driver = median(b, "driver_add_ms") + median(b, "driver_update_ms");
        parts.get(names[1])[i] = Math.max(0, median(b, "wall_ms") - compute - broadcast - driver);
        parts.get(names[2])[i] = broadcast;
        parts.get(names[3])[i] = driver;
        labels.set(i, labels.get(i) + String.format(java.util.Locale.ROOT, " (wall %.1f)", median(b, "wall_ms")));
      }
      JsonNode first = benches.get(0);
      // The floor: an empty Spark job over the same cached shards (the last bench's, the newest build).
      Map<String, Double> markers = new LinkedHashMap<>();
      JsonNode floor = benches.get(n - 1).path("floor");
      if (floor.path("a_empty_job_ms").isNumber()) {
        markers.put(String.format(java.util.Locale.ROOT, "empty Spark job: %.1f ms", floor.get("a_empty_job_ms").asDouble()),
            floor.get("a_empty_job_ms").asDouble());
      }
      if (floor.path("c_plus_gradient_results_ms").isNumber()) {
        markers.put(String.format(java.util.Locale.ROOT, "+ broadcast + gradient results, no compute: %.1f ms",
            floor.get("c_plus_gradient_results_ms").asDouble()), floor.get("c_plus_gradient_results_ms").asDouble());
      }
      Charts.stackedBars(Charts.file(Path.of(args[0])), "One training step, median ms (" + first.path("master").asText() + ", "
          + first.path("network").asText() + ", batch " + first.path("batch_size").asText() + ")", "milliseconds",
          labels, parts, markers);
      System.out.println("wrote " + args[0]);
      return ExitCodes.OK;
    } catch (Exception e) {
      System.err.println("bench-chart: " + e.getMessage());
      return ExitCodes.USAGE;
    }
  }

  private static double median(JsonNode b, String field) {
    JsonNode v = b.path(field).path("median");
    if (!v.isNumber()) throw new IllegalArgumentException("bench JSON has no " + field + ".median");
    return v.asDouble();
  }
}
