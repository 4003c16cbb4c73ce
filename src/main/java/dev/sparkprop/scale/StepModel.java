package dev.sparkprop.scale;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A cost model of one synchronous data-parallel training step, fitted to measured steps and
 * used to project to clusters this machine cannot hold. Times in milliseconds, sizes in millions
 * of parameters (N), megabytes and GFLOP.
 *
 * <pre>
 * step        = compute + sync
 * compute     = k(P) (c0 + cParam N + cFlop rows F)          rows = batch / P, F = GFLOP a row
 * k(P)        = 1 + gamma (P - 1)                            executors sharing this machine's cores
 * allreduce   = a0 + aParam N + (P - 1) (aMsg + lambda) + (P - 1) 8 N (aByte + 1/beta)
 *               (star: the hub takes P - 1 gradient sums of 4N MB in, then sends P - 1 out)
 * ring        = a0 + aParam N + 2 (P - 1) (aMsg + lambda) + 2 (P - 1)/P 4 N (2 aByte + 1/beta)
 *               (reduce-scatter + all-gather: 2(P - 1) rounds of 4N/P MB, sent and received at once)
 * job         = j0 + jExec (P - 1) + jParam N + 4 N (P + 1) (jByte + 1/beta)
 *               (a Spark job: schedule P tasks, broadcast the parameters, collect P gradient sums)
 * </pre>
 *
 * The constants (c0 .. jByte, gamma) are fitted from measured steps ({@link #fit}); {@code beta}
 * (the network's bandwidth, MB/ms) and {@code lambda} (its latency per message, ms) describe the
 * network projected to and are 0 and infinity-free on loopback, where the measured per-byte and
 * per-message costs already hold what the machine spends. With local SGD ({@code sync.every=K})
 * the sync term is paid once per K steps, on a vector of (1 + optimizer arrays) N values.
 */
public final class StepModel {
  /** The synchronisation schemes: Spark's job per step, sparkprop's star all-reduce, a ring. */
  public enum Sync { JOB, STAR, RING }

  /** A network by its size: parameters (millions) and dense GFLOP of one row's forward and backward pass. */
  public record Net(String name, double paramsM, double gflopPerRow) {
    /** From layer sizes: forward and dW for every layer, dX for all but the first. */
    public static Net of(int... sizes) {
      double params = 0;
      double macs = 0;
      StringBuilder name = new StringBuilder();
      for (int l = 0; l + 1 < sizes.length; l++) {
        params += (double) sizes[l] * sizes[l + 1] + sizes[l + 1];
        macs += (l == 0 ? 2 : 3) * (double) sizes[l] * sizes[l + 1];
      }
      for (int s : sizes) name.append(name.length() == 0 ? "" : "-").append(s);
      return new Net(name.toString(), params / 1e6, 2 * macs / 1e9);
    }
  }

  /** One measured step (medians): the scheme, executors, global batch, network, and its times. */
  public record Point(Sync sync, int executors, int batch, Net net, double computeMs, double wallMs) {
    double rows() {
      return Math.ceil(batch / (double) executors);
    }
  }

  /** The network a projection assumes: bandwidth in Gbit/s, latency per message in ms. */
  public record Network(String name, double gbitPerSecond, double latencyMs) {
    /** ms per MB. */
    double msPerMb() {
      return gbitPerSecond <= 0 ? 0 : 8.0 / gbitPerSecond; // 1 Gbit/s = 125 MB/s = 8 ms a MB
    }
  }

  /** Loopback: the measured per-byte and per-message costs hold everything. */
  public static final Network LOOPBACK = new Network("loopback", 0, 0);

  // fitted constants (ms, per million parameters, per GFLOP, per MB)
  final double c0;
  final double cParam;
  final double cFlop;
  final double gamma;
  final double a0;
  final double aParam;
  final double aMsg;
  final double aByte;
  final double j0;
  final double jExec;
  final double jParam;
  final double jByte;

  StepModel(double[] compute, double gamma, double[] star, double[] job) {
    this.c0 = compute[0];
    this.cParam = compute[1];
    this.cFlop = compute[2];
    this.gamma = gamma;
    this.a0 = star[0];
    this.aParam = star[1];
    this.aMsg = star[2];
    this.aByte = star[3];
    this.j0 = job[0];
    this.jExec = job[1];
    this.jParam = job[2];
    this.jByte = job[3];
  }

  /** The constants by name, for reports. */
  public List<String[]> constants() {
    List<String[]> c = new ArrayList<>();
    c.add(new String[] {"c0", fmt(c0), "ms", "fixed compute of a task's step (batch copy, set-up)"});
    c.add(new String[] {"cParam", fmt(cParam), "ms per M parameters", "compute that grows with the parameters (copying them into the network)"});
    c.add(new String[] {"cFlop", fmt(cFlop), "ms per GFLOP", "forward and backward arithmetic (" + fmt(1000 / cFlop) + " GFLOP/s)"});
    c.add(new String[] {"gamma", fmt(gamma), "", "slow-down per extra executor on this machine's shared cores (0 in projections)"});
    c.add(new String[] {"a0", fmt(a0), "ms", "allreduce: fixed cost of a step (hub bookkeeping)"});
    c.add(new String[] {"aParam", fmt(aParam), "ms per M parameters", "allreduce: scaling and optimizer update"});
    c.add(new String[] {"aMsg", fmt(aMsg), "ms per peer", "allreduce: per message and peer (latency on loopback)"});
    c.add(new String[] {"aByte", fmt(aByte), "ms per MB", "allreduce: per byte through the hub (copy, sum, socket) = " + fmt(1 / aByte) + " MB/ms"});
    c.add(new String[] {"j0", fmt(j0), "ms", "job: fixed cost of a Spark job (schedule, launch, results)"});
    c.add(new String[] {"jExec", fmt(jExec), "ms per executor", "job: per extra executor (task launch, result)"});
    c.add(new String[] {"jParam", fmt(jParam), "ms per M parameters", "job: driver sum and optimizer update"});
    c.add(new String[] {"jByte", fmt(jByte), "ms per MB", "job: per byte of broadcast and results (serialisation, block manager)"});
    return c;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }

  /** Compute time of the slowest task (ms); {@code shared}: executors share this machine's cores (k(P)). */
  public double compute(int executors, double rows, Net net, boolean shared) {
    double k = shared ? 1 + gamma * (executors - 1) : 1;
    return k * (c0 + cParam * net.paramsM() + cFlop * rows * net.gflopPerRow());
  }

  /**
   * Sync time of one exchange (ms) among {@code p} executors of {@code valuesM} million floats
   * (the gradient, or with local SGD the parameters and optimizer state), over {@code network}.
   */
  public double sync(Sync sync, int p, Net net, double valuesM, Network network) {
    double mb = 4 * valuesM;
    double wire = network.msPerMb();
    switch (sync) {
      case STAR:
        return a0 + aParam * net.paramsM() + (p - 1) * (aMsg + network.latencyMs()) + (p - 1) * 2 * mb * (aByte + wire);
      case RING:
        return a0 + aParam * net.paramsM() + 2.0 * (p - 1) * (aMsg + network.latencyMs())
            + 2.0 * (p - 1) / p * mb * (2 * aByte + wire);
      case JOB:
        return j0 + jExec * (p - 1) + jParam * net.paramsM() + mb * (p + 1) * (jByte + wire)
            + network.latencyMs() * 2;
      default:
        throw new AssertionError(sync);
    }
  }

  /** A measured point's predicted step time on this machine (loopback, shared cores). */
  public double predictWall(Point m) {
    return compute(m.executors(), m.rows(), m.net(), true) + sync(m.sync(), m.executors(), m.net(), m.net().paramsM(), LOOPBACK);
  }

  /** A measured point's predicted compute time. */
  public double predictCompute(Point m) {
    return compute(m.executors(), m.rows(), m.net(), true);
  }

  /**
   * Step time (ms) on a cluster of {@code p} machines with one executor each, {@code rows} rows
   * per executor, exchanging every {@code every} steps ({@code stateArrays}: the optimizer's
   * arrays that local SGD averages with the parameters).
   */
  public double project(Sync sync, int p, double rows, Net net, Network network, int every, int stateArrays) {
    double values = every == 1 ? net.paramsM() : net.paramsM() * (1 + stateArrays);
    double update = (sync == Sync.JOB ? jParam : aParam) * net.paramsM();
    double exchange = p == 1 && sync != Sync.JOB ? update : sync(sync, p, net, values, network);
    // local SGD: every step updates locally, the exchange is paid once per K steps
    double perStep = every == 1 ? exchange : update + (exchange - update) / every;
    return compute(p, rows, net, false) + perStep;
  }

  /** The time of one step of a single executor that only computes and updates: the ideal's unit. */
  public double alone(double rows, Net net) {
    return compute(1, rows, net, false) + aParam * net.paramsM();
  }

  /**
   * Fits every constant from measured points: the compute terms from the slowest task's compute
   * time of all points (gamma by a scan over [0, 1]), the star all-reduce terms from the
   * allreduce points' wall minus compute, the job terms from the job points'. Each least squares
   * minimises relative error with non-negative constants ({@link LeastSquares}).
   */
  public static StepModel fit(List<Point> points) {
    double bestGamma = 0;
    double bestErr = Double.POSITIVE_INFINITY;
    double[] bestCompute = null;
    for (int g = 0; g <= 200; g++) {
      double gamma = g / 200.0;
      double[][] x = new double[points.size()][];
      double[] y = new double[points.size()];
      for (int i = 0; i < points.size(); i++) {
        Point p = points.get(i);
        double k = 1 + gamma * (p.executors() - 1);
        x[i] = new double[] {k, k * p.net().paramsM(), k * p.rows() * p.net().gflopPerRow()};
        y[i] = p.computeMs();
      }
      double[] c = LeastSquares.nonNegativeRelative(x, y);
      double err = relativeSquares(x, y, c);
      if (err < bestErr - 1e-12) {
        bestErr = err;
        bestGamma = gamma;
        bestCompute = c;
      }
    }
    return new StepModel(bestCompute, bestGamma, fitSync(points, Sync.STAR), fitSync(points, Sync.JOB));
  }

  private static double[] fitSync(List<Point> points, Sync sync) {
    List<double[]> x = new ArrayList<>();
    List<Double> y = new ArrayList<>();
    for (Point p : points) {
      if (p.sync() != sync) continue;
      double n = p.net().paramsM();
      int e = p.executors();
      x.add(sync == Sync.STAR ? new double[] {1, n, e - 1, (e - 1) * 8 * n} : new double[] {1, e - 1, n, 4 * n * (e + 1)});
      y.add(Math.max(1e-3, p.wallMs() - p.computeMs()));
    }
    if (x.isEmpty()) return new double[4];
    double[] yy = new double[y.size()];
    for (int i = 0; i < yy.length; i++) yy[i] = y.get(i);
    return LeastSquares.nonNegativeRelative(x.toArray(new double[0][]), yy);
  }

  private static double relativeSquares(double[][] x, double[] y, double[] c) {
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      double f = 0;
      for (int j = 0; j < c.length; j++) f += x[i][j] * c[j];
      s += Math.pow((f - y[i]) / y[i], 2);
    }
    return s;
  }
}
