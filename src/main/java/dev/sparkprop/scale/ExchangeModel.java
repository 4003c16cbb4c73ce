package dev.sparkprop.scale;

import java.util.ArrayList;
import java.util.List;

/**
 * A cost model of the barrier exchange's sync time (a step's time beyond its computation),
 * fitted to emulated hosts ({@code submit/scaling-demo --emulate}) and used to project to
 * clusters this machine cannot hold. Times in ms, sizes in MB, a link's rate B in MB/ms.
 *
 * <pre>
 * star  = s0 + a N M / B                          the driver's link carries N copies each way,
 *                                                  partly overlapped (a between 1 and 2)
 * tree  = t0 + 2 d (l + c / B) + b M / B           pipelined: one copy each way on every link
 *                                                  (b about 2), plus a chunk's delay per hop
 * both  + h N + k N M                              this machine: every emulated host's threads
 *                                                  and every byte through its kernel share two
 *                                                  cores (0 in projections)
 * </pre>
 *
 * N hosts (one partition each), M the vector's bytes on the wire (halved by {@code sync.wire=bf16}),
 * d the tree's depth (hops from the deepest task to the driver), c the chunk ({@code sync.chunk}).
 * The constants are fitted by non-negative least squares on relative error ({@link LeastSquares}).
 */
public final class ExchangeModel {
  /** One emulated measurement: topology, hosts, the wire's MB a vector, the link's MB/ms, the sync time measured. */
  public record Point(String topology, int hosts, double wireMb, double mbPerMs, double chunkMb, double syncMs) {}

  final double s0;
  final double a;
  final double t0;
  final double l;
  final double b;
  final double h;
  final double k;

  ExchangeModel(double[] c) {
    s0 = c[0];
    a = c[1];
    t0 = c[2];
    l = c[3];
    b = c[4];
    h = c[5];
    k = c[6];
  }

  /** Hops from the deepest task to the driver in {@code sync.fanin=2}'s tree of {@code partitions} (its reduction tree's depth). */
  public static int depth(int partitions) {
    return partitions <= 1 ? 1 : 1 + depth(partitions / 2); // the larger child's subtree: ceil((P - 1) / 2) = floor(P / 2)
  }

  private static double[] features(Point p) {
    boolean star = p.topology().equals("star");
    double n = p.hosts();
    double m = p.wireMb();
    int d = depth(p.hosts());
    return new double[] {star ? 1 : 0, star ? n * m / p.mbPerMs() : 0, star ? 0 : 1, star ? 0 : 2 * d, star ? 0 : m / p.mbPerMs(),
        n, n * m};
  }

  /** The part of a point's sync time that no constant multiplies: the tree's chunk transfers per hop. */
  private static double known(Point p) {
    return p.topology().equals("star") ? 0 : 2 * depth(p.hosts()) * p.chunkMb() / p.mbPerMs();
  }

  /** Fits the constants to {@code points} (star and tree, several host counts). */
  public static ExchangeModel fit(List<Point> points) {
    double[][] x = new double[points.size()][];
    double[] y = new double[points.size()];
    for (int i = 0; i < y.length; i++) {
      x[i] = features(points.get(i));
      y[i] = Math.max(1e-3, points.get(i).syncMs() - known(points.get(i)));
    }
    return new ExchangeModel(LeastSquares.nonNegativeRelative(x, y));
  }

  /** The sync time this model gives a measured point (this machine: its shared-core terms included). */
  public double predict(Point p) {
    double[] f = features(p);
    double[] c = {s0, a, t0, l, b, h, k};
    double s = known(p);
    for (int i = 0; i < c.length; i++) s += f[i] * c[i];
    return s;
  }

  /** The sync time of {@code hosts} machines, each its own cores (no shared-core terms). */
  public double project(String topology, int hosts, double wireMb, double mbPerMs, double chunkMb) {
    Point p = new Point(topology, hosts, wireMb, mbPerMs, chunkMb, 0);
    return predict(p) - h * hosts - k * hosts * wireMb;
  }

  /** The constants by name, for reports. */
  public List<String[]> constants() {
    List<String[]> c = new ArrayList<>();
    c.add(new String[] {"s0", fmt(s0), "ms", "star: fixed cost of a step's exchange"});
    c.add(new String[] {"a", fmt(a), "", "star: copies of N M the driver's link carries per step, after overlap"});
    c.add(new String[] {"t0", fmt(t0), "ms", "tree: fixed cost of a step's exchange"});
    c.add(new String[] {"l", fmt(l), "ms per hop and way", "tree: a hop's delay beyond its chunk (thread wake-up, headers)"});
    c.add(new String[] {"b", fmt(b), "", "tree: copies of M a link carries per step, after pipelining"});
    c.add(new String[] {"h", fmt(h), "ms per host", "this machine: an emulated host's share of two cores (0 in projections)"});
    c.add(new String[] {"k", fmt(k), "ms per host and MB", "this machine: the kernel's work on a host's bytes (0 in projections)"});
    return c;
  }

  private static String fmt(double v) {
    return StepModel.fmt(v);
  }
}
