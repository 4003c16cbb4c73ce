package dev.sparkprop.scale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.config.ConfigException;
import dev.sparkprop.report.Charts;
import dev.sparkprop.scale.StepModel.Net;
import dev.sparkprop.scale.StepModel.Network;
import dev.sparkprop.scale.StepModel.Point;
import dev.sparkprop.scale.StepModel.Sync;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Fits the step cost model ({@link StepModel}) to the scaling demo's measurements, validates it
 * against every measured point (those of the held-out networks were not used in the fit), and
 * projects step time and efficiency to clusters of 1 .. 512 executors on 1 and 10 Gbit/s
 * networks. Writes {@code model.json}, {@code validation.csv}, {@code projection.csv},
 * {@code model_fit.png} and {@code projection_<net>.png}; prints the tables.
 *
 * <p>Usage: {@code ScalingModel out=DIR holdout=HOLDOUT[;...] points=bench.json,...}: each HOLDOUT is a network's
 * layers (for example {@code 784,2048,2048,10}) or {@code executors>N} (every point with more
 * executors); {@code none} fits on everything. No Spark needed.
 */
public final class ScalingModel {
  private ScalingModel() {}

  /** Executor counts of the projection. */
  static final int[] EXECUTORS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  /** The columns of the printed projection table (sorted). */
  static final int[] TABLE_EXECUTORS = {1, 8, 32, 128, 512};
  /** Rows per executor a step in the weak-scaling projection (the demo's weak scaling). */
  static final int ROWS_PER_EXECUTOR = 128;
  /** The networks projected to: 1 and 10 Gbit/s Ethernet, 0.1 ms a message (an assumption, not measured here). */
  static final List<Network> NETWORKS = List.of(new Network("1 Gbit/s", 1, 0.1), new Network("10 Gbit/s", 10, 0.1));
  /** The reference CNN (conf/mnist-cnn.properties), as the demo names it. */
  static final String CNN_NAME = "cnn";
  static final String CNN_LAYERS = "conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax";
  static final List<Net> NETS = List.of(Net.of(784, 512, 10), Net.of(784, 4096, 4096, 10),
      Net.of(dev.sparkprop.nn.NetworkSpec.parse(CNN_LAYERS, new dev.sparkprop.nn.NetworkSpec.Shape(1, 28, 28),
          dev.sparkprop.nn.Activation.RELU), CNN_NAME));

  public static void main(String[] args) throws Exception {
    CommandArgs a;
    try {
      a = CommandArgs.parse("ScalingModel", args, CommandArgs.keys("out", null, "holdout", "none", "points", null));
    } catch (dev.sparkprop.config.ConfigException e) {
      System.err.println("error: " + e.getMessage() + "; usage: ScalingModel out=DIR [holdout=LAYERS[;...]|none] points=bench.json,...");
      System.exit(ExitCodes.USAGE);
      return;
    }
    Path out = Path.of(a.get("out"));
    Set<String> holdout = new TreeSet<>();
    int maxFitExecutors = Integer.MAX_VALUE; // "executors>N": points with more executors are held out
    if (!a.get("holdout").equals("none")) {
      for (String h : a.get("holdout").split(";")) {
        if (h.startsWith("executors>")) maxFitExecutors = Integer.parseInt(h.substring("executors>".length()));
        else holdout.add(h.equals(CNN_NAME) ? CNN_NAME : Net.of(sizes(h)).name());
      }
    }
    ObjectMapper mapper = new ObjectMapper();
    List<Point> all = new ArrayList<>();
    for (String f : a.get("points").split(",")) all.add(point(mapper.readTree(Files.readString(Path.of(f)))));
    List<Point> fitSet = new ArrayList<>();
    final int maxFit = maxFitExecutors;
    java.util.function.Predicate<Point> heldOut = p -> holdout.contains(p.net().name()) || p.executors() > maxFit;
    for (Point p : all) if (!heldOut.test(p)) fitSet.add(p);
    List<String> heldNames = new ArrayList<>(holdout);
    if (maxFit < Integer.MAX_VALUE) heldNames.add("every point with more than " + maxFit + " executors");
    StepModel model;
    try {
      model = StepModel.fit(fitSet);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage()); // e.g. SCALING_NETS with fewer than three networks
      System.exit(ExitCodes.FAILED);
      return;
    }
    Files.createDirectories(out);

    StringBuilder constants = new StringBuilder("fitted constants (" + fitSet.size() + " of " + all.size()
        + " measured points; held out: " + (heldNames.isEmpty() ? "none" : String.join(", ", heldNames)) + ")\n"
        + "| constant | value | unit | what it is |\n|---|---|---|---|\n");
    Map<String, Object> json = new LinkedHashMap<>();
    Map<String, Object> consts = new LinkedHashMap<>();
    for (String[] c : model.constants()) {
      constants.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", c[0], c[1], c[2], c[3]));
      consts.put(c[0], Double.parseDouble(c[1]));
    }
    json.put("constants", consts);
    json.put("held_out", heldNames);
    System.out.print(constants);

    // validation
    StringBuilder csv = new StringBuilder("set,sync,network,executors,global_batch,measured_step_ms,model_step_ms,"
        + "step_error,measured_compute_ms,model_compute_ms,compute_error\n");
    StringBuilder table = new StringBuilder("| set | sync | network | P | batch | step ms | model | error | compute ms | model | error |\n"
        + "|---|---|---|---|---|---|---|---|---|---|---|\n");
    double worstFit = 0;
    double worstHeld = 0;
    List<Double> errors = new ArrayList<>();
    for (Point p : all) {
      boolean held = heldOut.test(p);
      double wall = model.predictWall(p);
      double comp = model.predictCompute(p);
      double e = (wall - p.wallMs()) / p.wallMs();
      double ec = (comp - p.computeMs()) / p.computeMs();
      errors.add(Math.abs(e));
      if (held) worstHeld = Math.max(worstHeld, Math.abs(e));
      else worstFit = Math.max(worstFit, Math.abs(e));
      String set = held ? "held-out" : "fit";
      String sync = p.sync() == Sync.JOB ? "job" : "barrier";
      csv.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%d,%.3f,%.3f,%.4f,%.3f,%.3f,%.4f%n", set, sync, p.net().name(),
          p.executors(), p.batch(), p.wallMs(), wall, e, p.computeMs(), comp, ec));
      table.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %d | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %+.1f%% |%n", set,
          sync, p.net().name(), p.executors(), p.batch(), p.wallMs(), wall, 100 * e, p.computeMs(), comp, 100 * ec));
    }
    errors.sort(null);
    table.append(String.format(Locale.ROOT, "%nstep time error: largest %.1f%% on fitted points, %.1f%% on held-out points, "
        + "median %.1f%% of all %d%n", 100 * worstFit, 100 * worstHeld, 100 * errors.get(errors.size() / 2), errors.size()));
    json.put("largest_error_fit", worstFit);
    json.put("largest_error_held_out", worstHeld);
    json.put("median_error", errors.get(errors.size() / 2));
    System.out.println();
    System.out.print(table);
    Files.writeString(out.resolve("validation.csv"), csv.toString(), StandardCharsets.UTF_8);
    fitChart(out.resolve("model_fit.png"), model, all);

    // projection
    StringBuilder proj = new StringBuilder("variant,network,bandwidth_gbit,sync,sync_every,executors,rows_per_executor,"
        + "compute_ms,step_ms,samples_per_second,efficiency\n");
    Map<String, Object> limits = new LinkedHashMap<>();
    StringBuilder ptable = new StringBuilder();
    project(model, "as fitted", out, proj, ptable, limits, true);
    project(model.withoutPerPeerCosts(), "lower bound: aMsg = jExec = 0", out, proj, ptable, limits, false);
    json.put("executors_at_half_efficiency", limits);
    System.out.print(ptable);
    Files.writeString(out.resolve("projection.csv"), proj.toString(), StandardCharsets.UTF_8);
    Files.writeString(out.resolve("model.json"),
        mapper.enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json) + "\n", StandardCharsets.UTF_8);
    System.out.println("wrote " + out.resolve("model.json") + ", validation.csv, projection.csv, model_fit.png, projection_*.png");
  }

  /** One projection table (Markdown) and, with {@code charts}, its charts; rows appended to {@code proj}. */
  private static void project(StepModel model, String variant, Path out, StringBuilder proj, StringBuilder ptable,
      Map<String, Object> limits, boolean charts) throws java.io.IOException {
    ptable.append(String.format(Locale.ROOT, "%nprojection (%s): weak scaling, %d rows per executor, "
        + "one executor per machine; step ms (efficiency)%n| network | link | sync | K |", variant, ROWS_PER_EXECUTOR));
    for (int e : TABLE_EXECUTORS) ptable.append(" P=").append(e).append(" |");
    ptable.append(" efficiency >= 0.5 up to P |\n|---|---|---|---|");
    for (int i = 0; i <= TABLE_EXECUTORS.length; i++) ptable.append("---|");
    ptable.append('\n');
    for (Net net : NETS) {
      double alone = model.alone(ROWS_PER_EXECUTOR, net);
      for (Network nw : NETWORKS) {
        List<Charts.Series> series = new ArrayList<>();
        for (Sync sync : Sync.values()) {
          for (int every : new int[] {1, 16}) {
            if (every > 1 && sync == Sync.TREE) continue;
            String name = sync.name().toLowerCase(Locale.ROOT);
            ptable.append(String.format(Locale.ROOT, "| %s | %s | %s | %d |", net.name(), nw.name(), name, every));
            double[] x = new double[EXECUTORS.length];
            double[] eff = new double[EXECUTORS.length];
            for (int i = 0; i < EXECUTORS.length; i++) {
              int p = EXECUTORS[i];
              double step = model.project(sync, p, ROWS_PER_EXECUTOR, net, nw, every, 1);
              double sps = p * ROWS_PER_EXECUTOR / (step / 1000);
              x[i] = p;
              eff[i] = alone / step;
              proj.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%d,%d,%.3f,%.3f,%.0f,%.4f%n", variant, net.name(), nw.gbitPerSecond(),
                  name, every, p, ROWS_PER_EXECUTOR, model.compute(sync, p, ROWS_PER_EXECUTOR, net, false), step, sps, eff[i]));
              if (java.util.Arrays.binarySearch(TABLE_EXECUTORS, p) >= 0) {
                ptable.append(String.format(Locale.ROOT, " %s (%.2f) |", step < 10 ? String.format(Locale.ROOT, "%.2f", step)
                    : String.format(Locale.ROOT, "%.0f", step), eff[i]));
              }
            }
            int limit = halfEfficiencyLimit(model, sync, net, nw, every, alone);
            ptable.append(String.format(Locale.ROOT, " %s |%n", limit == 0 ? "never" : limit >= 1 << 20 ? "> 1M" : String.valueOf(limit)));
            limits.put(variant + ": " + net.name() + ", " + nw.name() + ", " + name + ", K=" + every, limit);
            if (every == 1 || sync == Sync.STAR || sync == Sync.RING) {
              series.add(new Charts.Series(name + (every > 1 ? ", sync.every=" + every : ""), x, eff, every > 1));
            }
          }
        }
        if (charts) Charts.lines(Charts.file(out.resolve("projection_" + net.name() + "_" + (int) nw.gbitPerSecond() + "gbit.png")),
            "Projected weak scaling, " + net.name() + ", " + nw.name() + ", " + ROWS_PER_EXECUTOR + " rows per executor",
            "executors (one per machine)", "efficiency (vs one executor computing alone)", series, false, true);
      }
    }
  }

  /** The largest executor count (doubling from 1) whose efficiency is still at least one half; 0 if not even 1. */
  static int halfEfficiencyLimit(StepModel model, Sync sync, Net net, Network nw, int every, double alone) {
    int last = 0;
    for (int p = 1; p <= 1 << 20; p *= 2) {
      if (alone / model.project(sync, p, ROWS_PER_EXECUTOR, net, nw, every, 1) < 0.5) break;
      last = p;
    }
    return last;
  }

  /** Measured step times against executors for each (sync, network, batch rule), with the model's line dashed. */
  private static void fitChart(Path png, StepModel model, List<Point> all) throws java.io.IOException {
    Map<String, TreeMap<Integer, Point>> groups = new TreeMap<>();
    for (Point p : all) {
      boolean weak = p.batch() % p.executors() == 0 && p.batch() / p.executors() == ROWS_PER_EXECUTOR;
      String key = (p.sync() == Sync.JOB ? "job" : "barrier") + " " + p.net().name() + (weak ? " weak" : " batch " + p.batch());
      groups.computeIfAbsent(key, k -> new TreeMap<>()).put(p.executors(), p);
    }
    List<Charts.Series> series = new ArrayList<>();
    for (Map.Entry<String, TreeMap<Integer, Point>> g : groups.entrySet()) {
      if (g.getValue().size() < 2 && groups.size() > 1 && !g.getKey().contains("weak")) continue;
      int n = g.getValue().size();
      double[] x = new double[n];
      double[] y = new double[n];
      double[] f = new double[n];
      int i = 0;
      for (Point p : g.getValue().values()) {
        x[i] = p.executors();
        y[i] = p.wallMs();
        f[i] = model.predictWall(p);
        i++;
      }
      series.add(new Charts.Series(g.getKey() + ", measured", x, y));
      series.add(new Charts.Series(g.getKey() + ", model", x, f, true));
    }
    Charts.lines(Charts.file(png), "Step time on the loopback cluster (weak scaling): measured and model", "executors (1 core each)",
        "step time, ms (median)", series, true);
  }

  static Point point(JsonNode b) {
    String layers = b.path("layers").asText();
    if (layers.isEmpty()) throw new IllegalArgumentException("bench JSON without 'layers': re-run it with this version's submit/bench");
    // "allreduce": bench files of the earlier task-side hub (docs/scaling in git history); a star like the barrier transport's
    Sync sync = List.of("barrier", "allreduce").contains(b.path("sync_mode").asText()) ? Sync.STAR : Sync.JOB;
    Net net;
    if (dev.sparkprop.nn.NetworkSpec.isSizeList(layers)) {
      net = Net.of(sizes(layers));
    } else {
      String shape = b.path("input_shape").asText();
      if (shape.isEmpty()) throw new IllegalArgumentException("bench JSON of a layer list without 'input_shape': re-run it with this version's submit/bench");
      dev.sparkprop.nn.NetworkSpec spec = dev.sparkprop.nn.NetworkSpec.parse(layers, dev.sparkprop.nn.NetworkSpec.Shape.parse(shape),
          dev.sparkprop.nn.Activation.RELU);
      net = Net.of(spec, layers.replaceAll("\\s+", " ").equals(CNN_LAYERS) ? CNN_NAME : "cnn-" + spec.numParams());
    }
    return new Point(sync, b.path("partitions").asInt(), b.path("batch_size").asInt(), net,
        b.path("slowest_task_compute_ms").path("median").asDouble(), b.path("wall_ms").path("median").asDouble());
  }

  private static int[] sizes(String layers) {
    String[] parts = layers.split(",");
    int[] s = new int[parts.length];
    for (int i = 0; i < parts.length; i++) s[i] = Integer.parseInt(parts[i].trim());
    return s;
  }
}
