package dev.sparkprop.scale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.report.Charts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The report of {@code submit/scaling-demo --emulate}: from one bench JSON per (rate, topology,
 * network, hosts), measured on {@code submit/emulated-cluster} with the compute stand-in
 * ({@code bench.compute=sleep:MS}), it prints a table, writes {@code emulated.csv} and one
 * efficiency chart per network ({@code emulated_NETWORK.png}), and ends with one line
 * {@code JSON {"points": [...]}}. Weak-scaling efficiency is the stand-in's time over the
 * measured median step: what the exchange and the driver leave of the computation.
 *
 * <p>Usage: {@code EmulatedReport OUT_DIR RATE:TOPOLOGY:NETWORK:HOSTS=bench.json ...} (NETWORK
 * with '-' for ','). No Spark needed.
 */
public final class EmulatedReport {
  private EmulatedReport() {}

  /** One measured point. */
  record Point(String rate, String topology, String network, int hosts, String wire, double standInMs, double stepMs,
      double p95Ms, double gradientMb) {
    double efficiency() {
      return standInMs / stepMs;
    }

    double syncMs() {
      return stepMs - standInMs;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: EmulatedReport OUT_DIR RATE:TOPOLOGY:NETWORK:HOSTS=bench.json ...");
      System.exit(ExitCodes.USAGE);
    }
    List<Point> points = new ArrayList<>();
    for (int i = 1; i < args.length; i++) points.add(read(args[i]));
    write(Path.of(args[0]), points);
  }

  /** A {@code RATE:TOPOLOGY:NETWORK:HOSTS=FILE} argument and its bench JSON. */
  static Point read(String arg) throws java.io.IOException {
    int eq = arg.indexOf('=');
    String[] k = eq < 0 ? new String[0] : arg.substring(0, eq).split(":");
    if (k.length != 4) throw new IllegalArgumentException("EmulatedReport: expected RATE:TOPOLOGY:NETWORK:HOSTS=FILE, got " + arg);
    JsonNode b = new ObjectMapper().readTree(Files.readString(Path.of(arg.substring(eq + 1))));
    double standIn = b.path("compute_stand_in_ms").asDouble();
    if (!(standIn > 0)) throw new IllegalArgumentException(arg + ": not measured with a compute stand-in (bench.compute=sleep:MS)");
    return new Point(k[0], k[1], k[2], Integer.parseInt(k[3]), b.path("sync_wire").asText("fp32"), standIn,
        b.path("wall_ms").path("median").asDouble(), b.path("wall_ms").path("p95").asDouble(),
        b.path("gradient_bytes").asDouble() / 1e6);
  }

  /** Projected executor counts. */
  static final int[] PROJECTED = {2, 8, 16, 32, 128, 512};
  /** sync.chunk's default, in MB. */
  static final double CHUNK_MB = 65536 / 1e6;

  /** A rate like "10gbit" or "1gbit" in MB per ms (1 Gbit/s = 0.125 MB/ms); "none" (unshaped links) is infinite. */
  static double mbPerMs(String rate) {
    if (rate.equals(UNSHAPED)) return Double.POSITIVE_INFINITY;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(g|m)bit").matcher(rate);
    if (!m.matches()) throw new IllegalArgumentException("EmulatedReport: a rate like 10gbit or 100mbit, or none, got " + rate);
    return Double.parseDouble(m.group(1)) * (m.group(2).equals("g") ? 0.125 : 0.000125);
  }

  /** The rate of the unshaped pass ({@code submit/emulated-cluster rate none}). */
  static final String UNSHAPED = "none";

  private static String key(Point p) {
    return p.network() + "|" + p.topology() + "|" + p.wire() + "|" + p.hosts();
  }

  static ExchangeModel.Point exchangePoint(Point p, double unshapedMs) {
    return new ExchangeModel.Point(p.topology(), p.hosts(), p.gradientMb() * (p.wire().equals("bf16") ? 0.5 : 1),
        mbPerMs(p.rate()), CHUNK_MB, p.syncMs(), unshapedMs);
  }

  /**
   * Fits {@link ExchangeModel}: its link constants on the shaped points with fewer hosts than the
   * most measured (each with the same point's unshaped sync time), the rest on the unshaped points;
   * validates it on the shaped points held out (the most hosts), writes exchange_validation.csv and
   * exchange_projection.csv and prints both. "" (nothing fitted, said why) without an unshaped pass
   * or with fewer than three host counts.
   */
  static String model(Path out, List<Point> points) throws java.io.IOException {
    java.util.TreeSet<Integer> hosts = new java.util.TreeSet<>();
    Map<String, Point> unshaped = new java.util.HashMap<>();
    for (Point p : points) {
      hosts.add(p.hosts());
      if (p.rate().equals(UNSHAPED)) unshaped.put(key(p), p);
    }
    if (hosts.size() < 3 || unshaped.isEmpty()) {
      System.out.println("exchange model: not fitted (it needs three host counts or more and the unshaped pass, rate none)");
      return "";
    }
    int held = hosts.last();
    List<ExchangeModel.Point> fit = new ArrayList<>();
    List<ExchangeModel.Point> base = new ArrayList<>();
    List<Point> shaped = new ArrayList<>();
    for (Point p : points) {
      Point u = unshaped.get(key(p));
      if (u == null) continue;
      if (p.rate().equals(UNSHAPED)) {
        base.add(exchangePoint(p, p.syncMs()));
      } else {
        shaped.add(p);
        if (p.hosts() < held) fit.add(exchangePoint(p, u.syncMs()));
      }
    }
    ExchangeModel m;
    try {
      m = ExchangeModel.fit(fit, base);
    } catch (IllegalArgumentException e) { // too few or too alike points
      System.out.println("exchange model: not fitted (" + e.getMessage() + ")");
      return "";
    }
    StringBuilder v = new StringBuilder("network,rate,topology,wire,hosts,held_out,sync_ms,unshaped_ms,link_model_ms,model_ms,error\n");
    System.out.printf(Locale.ROOT, "%nexchange model: links fitted on %d shaped points with fewer than %d hosts, the rest on %d unshaped points:%n",
        fit.size(), held, base.size());
    for (String[] c : m.constants()) System.out.printf(Locale.ROOT, "  %-3s = %-10s %-20s %s%n", c[0], c[1], c[2], c[3]);
    System.out.printf(Locale.ROOT, "%-22s %7s %8s %5s %6s %9s %9s %9s %9s %7s%n", "held out", "rate", "topology", "wire", "hosts",
        "sync ms", "unshaped", "+ links", "model", "error");
    double worst = 0;
    for (Point p : shaped) {
      ExchangeModel.Point x = exchangePoint(p, unshaped.get(key(p)).syncMs());
      double pred = m.predict(x);
      double err = (pred - p.syncMs()) / p.syncMs();
      v.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%s,%.3f,%.3f,%.3f,%.3f,%.4f%n", p.network(), p.rate(), p.topology(), p.wire(),
          p.hosts(), p.hosts() == held, p.syncMs(), x.unshapedMs(), m.link(x), pred, err));
      if (p.hosts() == held) {
        worst = Math.max(worst, Math.abs(err));
        System.out.printf(Locale.ROOT, "%-22s %7s %8s %5s %6d %9.2f %9.2f %9.2f %9.2f %6.0f%%%n", p.network(), p.rate(), p.topology(),
            p.wire(), p.hosts(), p.syncMs(), x.unshapedMs(), m.link(x), pred, 100 * err);
      }
    }
    System.out.printf(Locale.ROOT, "held out: the largest error %.0f%%%n", 100 * worst);
    Files.writeString(out.resolve("exchange_validation.csv"), v.toString(), StandardCharsets.UTF_8);
    StringBuilder proj = new StringBuilder("network,rate,topology,wire,executors,compute_ms,sync_ms,efficiency\n");
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-22s %7s %8s %5s", "projected efficiency", "rate", "topology", "wire"));
    for (int e : PROJECTED) head.append(String.format(Locale.ROOT, " %6s", "P=" + e));
    System.out.println(head);
    java.util.Set<String> done = new java.util.HashSet<>();
    for (Point p : shaped) {
      if (!done.add(p.network() + p.rate() + p.topology() + p.wire())) continue;
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-22s %7s %8s %5s", p.network(), p.rate(), p.topology(), p.wire()));
      ExchangeModel.Point x = exchangePoint(p, 0);
      for (int e : PROJECTED) {
        double sync = m.project(p.topology(), e, x.wireMb(), x.mbPerMs(), CHUNK_MB);
        double eff = p.standInMs() / (p.standInMs() + sync);
        proj.append(String.format(Locale.ROOT, "%s,%s,%s,%s,%d,%.3f,%.3f,%.4f%n", p.network(), p.rate(), p.topology(), p.wire(), e,
            p.standInMs(), sync, eff));
        row.append(String.format(Locale.ROOT, " %6.2f", eff));
      }
      System.out.println(row);
    }
    Files.writeString(out.resolve("exchange_projection.csv"), proj.toString(), StandardCharsets.UTF_8);
    return ", exchange_validation.csv, exchange_projection.csv";
  }

  static void write(Path out, List<Point> points) throws java.io.IOException {
    points.sort((a, b) -> {
      int c = a.network().compareTo(b.network());
      if (c == 0) c = a.rate().compareTo(b.rate());
      if (c == 0) c = a.topology().compareTo(b.topology());
      if (c == 0) c = a.wire().compareTo(b.wire());
      return c != 0 ? c : Integer.compare(a.hosts(), b.hosts());
    });
    StringBuilder csv = new StringBuilder("network,gradient_mb,rate,topology,wire,hosts,compute_stand_in_ms,step_ms,step_p95_ms,sync_ms,efficiency\n");
    StringBuilder table = new StringBuilder(String.format(Locale.ROOT, "%-22s %8s %7s %8s %5s %6s %9s %9s %9s %10s%n",
        "network", "grad MB", "rate", "topology", "wire", "hosts", "stand-in", "step ms", "sync ms", "efficiency"));
    StringBuilder json = new StringBuilder("{\"points\": [");
    Map<String, Map<String, List<Point>>> charts = new TreeMap<>(); // network -> series -> points
    for (Point p : points) {
      csv.append(String.format(Locale.ROOT, "%s,%.3f,%s,%s,%s,%d,%.3f,%.3f,%.3f,%.3f,%.4f%n", p.network(), p.gradientMb(),
          p.rate(), p.topology(), p.wire(), p.hosts(), p.standInMs(), p.stepMs(), p.p95Ms(), p.syncMs(), p.efficiency()));
      table.append(String.format(Locale.ROOT, "%-22s %8.2f %7s %8s %5s %6d %9.2f %9.2f %9.2f %10.3f%n", p.network(),
          p.gradientMb(), p.rate(), p.topology(), p.wire(), p.hosts(), p.standInMs(), p.stepMs(), p.syncMs(), p.efficiency()));
      if (json.charAt(json.length() - 1) != '[') json.append(", ");
      json.append(String.format(Locale.ROOT, "{\"network\": \"%s\", \"topology\": \"%s\", \"hosts\": %d, \"rate\": \"%s\", "
          + "\"wire\": \"%s\", \"compute_ms\": %.3f, \"step_ms\": %.3f, \"efficiency\": %.4f}", p.network(), p.topology(),
          p.hosts(), p.rate(), p.wire(), p.standInMs(), p.stepMs(), p.efficiency()));
      charts.computeIfAbsent(p.network(), n -> new LinkedHashMap<>())
          .computeIfAbsent(p.topology() + ", " + p.wire() + ", " + p.rate(), s -> new ArrayList<>()).add(p);
    }
    json.append("]}");
    Files.createDirectories(out);
    Files.writeString(out.resolve("emulated.csv"), csv.toString(), StandardCharsets.UTF_8);
    List<String> pngs = new ArrayList<>();
    for (Map.Entry<String, Map<String, List<Point>>> net : charts.entrySet()) {
      List<Charts.Series> series = new ArrayList<>();
      for (Map.Entry<String, List<Point>> s : net.getValue().entrySet()) {
        List<Point> ps = s.getValue();
        double[] x = new double[ps.size()];
        double[] y = new double[ps.size()];
        for (int i = 0; i < x.length; i++) {
          x[i] = ps.get(i).hosts();
          y[i] = ps.get(i).efficiency();
        }
        series.add(new Charts.Series(s.getKey(), x, y));
      }
      String png = "emulated_" + net.getKey() + ".png";
      Charts.lines(Charts.file(out.resolve(png)), net.getKey() + ": weak-scaling efficiency on emulated hosts",
          "emulated hosts (1 executor each)", "efficiency = compute stand-in / step", series, false, true);
      pngs.add(png);
    }
    System.out.print(table);
    String model = model(out, points);
    System.out.println("wrote " + out.resolve("emulated.csv") + ", " + String.join(", ", pngs) + model);
    System.out.println("JSON " + json);
  }
}
