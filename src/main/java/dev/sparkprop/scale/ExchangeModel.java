package dev.sparkprop.scale;

import java.util.ArrayList;
import java.util.List;

/**
 * A cost model of the barrier exchange's sync time (a step's time beyond its computation),
 * fitted to emulated hosts ({@code submit/scaling-demo --emulate}) and used to project to
 * clusters this machine cannot hold. Times in ms, sizes in MB, a link's rate B in MB/ms.
 *
 * <p>On this machine N emulated hosts share two cores: their threads, and the kernel's work on
 * every byte they send, cost more as N grows, and that cost has no place on a real cluster, where
 * each host has its own cores. It is not modelled but measured: the demo's unshaped pass
 * ({@code rate none}, links without tbf) gives each point's sync time U with the same hosts, the
 * same vectors and no link limit. What shaping adds to it is the links' part, which the model
 * fits:
 *
 * <pre>
 * measured sync = U(N, M)  +  link
 * link, star    = a0 M / B + a N M / B     the driver's link carries N copies in and N out; the
 *                                          tasks' sums come back while the last parameters still
 *                                          go out, so between (N + 1) and 2 N copies a step
 * link, tree    = b f M / B + 2 d (c + sigma M) / B
 *                                          pipelined: the busiest link carries its node's f
 *                                          children's vectors in and out (f = min(2, N - 1), at
 *                                          least 1), plus per hop and way a chunk and the share
 *                                          sigma of a vector the hop holds up (0: fully pipelined)
 * </pre>
 *
 * A projection replaces U by what it costs where the hosts do not share cores, from a fit to the
 * unshaped points: {@code U = s0 (star) | t0 + 2 d l (tree)  +  h N + k N M}, of which h and k
 * (this machine's shared cores) are dropped; so the star's projection leaves out the driver's
 * own adding of N sums, which is small next to its link's N M / B.
 *
 * <p>N hosts (one partition each), M the vector's MB on the wire (halved by {@code sync.wire=bf16}),
 * d the tree's depth (hops from the deepest task to the driver), c the chunk ({@code sync.chunk}).
 * Constants are fitted by non-negative least squares on relative error ({@link LeastSquares}).
 */
public final class ExchangeModel {
  /**
   * One emulated measurement: topology, hosts, the wire's MB a vector, the link's MB/ms
   * ({@code +Infinity} unshaped), the chunk's MB, the sync time measured, and the sync time of the
   * same point unshaped (equal to it for an unshaped point).
   */
  public record Point(String topology, int hosts, double wireMb, double mbPerMs, double chunkMb, double syncMs,
      double unshapedMs) {
    boolean star() {
      return topology.equals("star");
    }

    boolean shaped() {
      return Double.isFinite(mbPerMs);
    }
  }

  final double a0;
  final double a;
  final double b;
  final double sigma;
  final double s0;
  final double t0;
  final double l;
  final double h;
  final double k;

  /** Constants {@code a0, a, b, sigma} (links) and {@code s0, t0, l, h, k} (the unshaped fit). */
  ExchangeModel(double[] link, double[] unshaped) {
    a0 = link[0];
    a = link[1];
    b = link[2];
    sigma = link[3];
    s0 = unshaped[0];
    t0 = unshaped[1];
    l = unshaped[2];
    h = unshaped[3];
    k = unshaped[4];
  }

  /** Hops from the deepest task to the driver in {@code sync.fanin=2}'s tree of {@code partitions} (its reduction tree's depth). */
  public static int depth(int partitions) {
    return partitions <= 1 ? 1 : 1 + depth(partitions / 2); // the larger child's subtree: ceil((P - 1) / 2) = floor(P / 2)
  }

  private static double[] linkFeatures(Point p) {
    double perCopy = p.wireMb() / p.mbPerMs();
    return p.star() ? new double[] {perCopy, p.hosts() * perCopy, 0, 0}
        : new double[] {0, 0, children(p.hosts()) * perCopy, 2 * depth(p.hosts()) * perCopy};
  }

  /** The most vectors one link of {@code sync.fanin=2}'s tree carries each way: a task's two children's, the driver's one. */
  static int children(int partitions) {
    return Math.max(1, Math.min(2, partitions - 1));
  }

  /** The links' part no constant multiplies: a tree's chunk per hop and way. */
  private static double linkKnown(Point p) {
    return p.star() ? 0 : 2 * depth(p.hosts()) * p.chunkMb() / p.mbPerMs();
  }

  private static double[] unshapedFeatures(Point p) {
    boolean star = p.star();
    double n = p.hosts();
    return new double[] {star ? 1 : 0, star ? 0 : 1, star ? 0 : 2 * depth(p.hosts()), n, n * p.wireMb()};
  }

  /**
   * Fits the link constants to the shaped points (each with its unshaped time) and the rest to the
   * unshaped points; both need star and tree points at several host counts.
   */
  public static ExchangeModel fit(List<Point> shaped, List<Point> unshaped) {
    double[][] x = new double[shaped.size()][];
    double[] y = new double[shaped.size()];
    double[] s = new double[shaped.size()];
    for (int i = 0; i < y.length; i++) {
      Point p = shaped.get(i);
      if (!p.shaped()) throw new IllegalArgumentException("ExchangeModel.fit: " + p + " is unshaped; pass it among the unshaped");
      x[i] = linkFeatures(p);
      y[i] = p.syncMs() - p.unshapedMs() - linkKnown(p);
      s[i] = Math.max(1e-3, p.syncMs());
    }
    double[][] xu = new double[unshaped.size()][];
    double[] yu = new double[unshaped.size()];
    for (int i = 0; i < yu.length; i++) {
      xu[i] = unshapedFeatures(unshaped.get(i));
      yu[i] = Math.max(1e-3, unshaped.get(i).syncMs());
    }
    return new ExchangeModel(LeastSquares.nonNegative(x, y, s), LeastSquares.nonNegativeRelative(xu, yu));
  }

  /** The links' part of a shaped point's sync time. */
  public double link(Point p) {
    double[] f = linkFeatures(p);
    return linkKnown(p) + a0 * f[0] + a * f[1] + b * f[2] + sigma * f[3];
  }

  /** The sync time this model gives a shaped point on this machine: its unshaped time measured plus its links'. */
  public double predict(Point p) {
    return p.unshapedMs() + link(p);
  }

  /** The unshaped fit's sync time of a point on this machine (its shared-core terms included). */
  public double unshaped(Point p) {
    double[] f = unshapedFeatures(p);
    return ownCores(f) + h * f[3] + k * f[4];
  }

  /** The unshaped fit without this machine's shared-core terms: what hosts with their own cores pay. */
  private double ownCores(double[] unshapedFeatures) {
    return s0 * unshapedFeatures[0] + t0 * unshapedFeatures[1] + l * unshapedFeatures[2];
  }

  /** The sync time of {@code hosts} machines, each its own cores, on links of {@code mbPerMs}. */
  public double project(String topology, int hosts, double wireMb, double mbPerMs, double chunkMb) {
    Point p = new Point(topology, hosts, wireMb, mbPerMs, chunkMb, 0, 0);
    return ownCores(unshapedFeatures(p)) + link(p);
  }

  /** The constants by name, for reports. */
  public List<String[]> constants() {
    List<String[]> c = new ArrayList<>();
    c.add(new String[] {"a0", fmt(a0), "", "star: copies of M a step carries beyond a N M"});
    c.add(new String[] {"a", fmt(a), "", "star: copies of N M the driver's link carries per step, after overlap"});
    c.add(new String[] {"b", fmt(b), "", "tree: copies of f M the busiest link carries per step, after pipelining"});
    c.add(new String[] {"sigma", fmt(sigma), "", "tree: share of a vector each hop holds up, each way (0: fully pipelined)"});
    c.add(new String[] {"s0", fmt(s0), "ms", "star: a step's exchange beyond its bytes (unshaped fit)"});
    c.add(new String[] {"t0", fmt(t0), "ms", "tree: a step's exchange beyond its bytes and hops (unshaped fit)"});
    c.add(new String[] {"l", fmt(l), "ms per hop and way", "tree: a hop's delay beyond its chunk (unshaped fit)"});
    c.add(new String[] {"h", fmt(h), "ms per host", "this machine: an emulated host's share of two cores (0 in projections)"});
    c.add(new String[] {"k", fmt(k), "ms per host and MB", "this machine: the kernel's work on a host's bytes (0 in projections)"});
    return c;
  }

  private static String fmt(double v) {
    return StepModel.fmt(v);
  }
}
