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
 * compute     = k(P) (c0 + cParam N + cFlop rows F + cConv rows Fconv) + [job] (jc0 + jcParam N) + delta (P - 1)
 *               rows = batch / P, F = GFLOP a row of the dense layers, Fconv of the convolutions
 *               (a convolution's products come with im2col, pooling and layout work of their own,
 *               so they get their own rate; cConv = 0 when no network has convolutions);
 *               [job]: a job's task starts cold every step
 * k(P)        = 1 + gamma (P - 1)    gamma and delta per sync mode: executors sharing this
 *                                    machine's two cores (0 in projections)
 * star        = a0 + aParam N + (P - 1) (aMsg + lambda) + (P - 1) 8 N (aByte + 1/beta)
 *               (star: the hub takes P - 1 gradient sums of 4N MB in, then sends P - 1 out)
 * ring        = a0 + aParam N + 2 (P - 1) (aMsg + lambda) + 2 (P - 1)/P 4 N (2 aByte + 1/beta)
 *               (reduce-scatter + all-gather: 2(P - 1) rounds of 4N/P MB, sent and received at once)
 * job         = j0 + jExec (P - 1) + jParam N + 4 N (P + 1) (jByte + 1/beta) + 2 lambda
 *               (a Spark job: schedule P tasks, broadcast the parameters, collect P gradient sums)
 * tree        = j0 + jExec (P - 1) + jParam N + 4 N (1 + 2 ceil(sqrt P)) (jByte + 1/beta) + 3 lambda
 *               (treeAggregate, depth 2: sqrt P reducers take sqrt P sums each, the driver sqrt P)
 * </pre>
 *
 * The constants (c0 .. jByte, gammas, deltas) are fitted from measured steps ({@link #fit}); {@code beta}
 * (the network's bandwidth, MB/ms) and {@code lambda} (its latency per message, ms) describe the
 * network projected to and are 0 and infinity-free on loopback, where the measured per-byte and
 * per-message costs already hold what the machine spends. With local SGD ({@code sync.every=K})
 * the sync term is paid once per K steps, on a vector of (1 + optimizer arrays) N values.
 */
public final class StepModel {
  /**
   * The synchronisation schemes: sparkprop's job per step (results collected to the driver),
   * the same job with Spark's treeAggregate of depth 2 (projection only), sparkprop's barrier
   * exchange as a star (the driver as the hub; its tree topology is {@link ExchangeModel}'s), and a
   * ring all-reduce (projection only).
   */
  public enum Sync {
    JOB, TREE, STAR, RING;

    /** A Spark job per step (JOB, TREE), as against tasks that exchange among themselves. */
    boolean isJob() {
      return this == JOB || this == TREE;
    }
  }

  /**
   * A network by its size: parameters (millions) and GFLOP of one row's forward and backward
   * pass, in its dense layers and in its convolutions.
   */
  public record Net(String name, double paramsM, double gflopPerRow, double convGflopPerRow) {
    /** From layer sizes (a dense network), named by them. */
    public static Net of(int... sizes) {
      StringBuilder name = new StringBuilder();
      for (int s : sizes) name.append(name.length() == 0 ? "" : "-").append(s);
      return split(dev.sparkprop.nn.NetworkSpec.of(sizes, dev.sparkprop.nn.Activation.RELU), name.toString());
    }

    /**
     * Any network: its training flops ({@link dev.sparkprop.nn.NetworkSpec#trainingFlopsPerRow(int)})
     * split into dense layers and convolutions. Named by its sizes if dense, else {@code name}.
     */
    public static Net of(dev.sparkprop.nn.NetworkSpec spec, String name) {
      return spec.isDense() ? of(spec.sizes()) : split(spec, name);
    }

    private static Net split(dev.sparkprop.nn.NetworkSpec spec, String name) {
      double denseFlops = 0;
      double conv = 0;
      for (int l = 0; l < spec.numLayers(); l++) {
        if (spec.layer(l) instanceof dev.sparkprop.nn.NetworkSpec.Conv) conv += spec.trainingFlopsPerRow(l);
        else denseFlops += spec.trainingFlopsPerRow(l);
      }
      return new Net(name, spec.numParams() / 1e6, denseFlops / 1e9, conv / 1e9);
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
  final double cConv;
  final double deltaStar;
  final double deltaJob;
  final double jc0;
  final double jcParam;
  final double gammaStar;
  final double gammaJob;
  final double a0;
  final double aParam;
  final double aMsg;
  final double aByte;
  final double j0;
  final double jExec;
  final double jParam;
  final double jByte;

  /**
   * @param compute c0, cParam, cFlop, jc0, jcParam, deltaStar, deltaJob, cConv
   * @param k gammaStar, gammaJob
   */
  StepModel(double[] compute, double[] k, double[] star, double[] job) {
    this.c0 = compute[0];
    this.cParam = compute[1];
    this.cFlop = compute[2];
    this.jc0 = compute[3];
    this.jcParam = compute[4];
    this.deltaStar = compute[5];
    this.deltaJob = compute[6];
    this.cConv = compute[7];
    this.gammaStar = k[0];
    this.gammaJob = k[1];
    this.a0 = star[0];
    this.aParam = star[1];
    this.aMsg = star[2];
    this.aByte = star[3];
    this.j0 = job[0];
    this.jExec = job[1];
    this.jParam = job[2];
    this.jByte = job[3];
  }

  /**
   * This model with the per-peer and per-executor costs measured on loopback (aMsg, jExec) set
   * to 0, so that only the network's latency is paid per message: on this machine those costs
   * hold the waiting of executors that share two cores with the driver, which a cluster of
   * separate machines would not have. Projections with both models bracket the truth.
   */
  public StepModel withoutPerPeerCosts() {
    return new StepModel(new double[] {c0, cParam, cFlop, jc0, jcParam, deltaStar, deltaJob, cConv}, new double[] {gammaStar, gammaJob},
        new double[] {a0, aParam, 0, aByte}, new double[] {j0, 0, jParam, jByte});
  }

  /** The constants by name, for reports. */
  public List<String[]> constants() {
    List<String[]> c = new ArrayList<>();
    c.add(new String[] {"c0", fmt(c0), "ms", "fixed compute of a task's step (batch copy, set-up)"});
    c.add(new String[] {"cParam", fmt(cParam), "ms per M parameters", "compute that grows with the parameters (copying them into the network)"});
    c.add(new String[] {"cFlop", fmt(cFlop), "ms per GFLOP", "forward and backward arithmetic of dense layers (" + fmt(1000 / cFlop) + " GFLOP/s)"});
    c.add(new String[] {"cConv", fmt(cConv), "ms per GFLOP", "the same of convolutions, with their im2col, pooling and layout work"
        + (cConv > 0 ? " (" + fmt(1000 / cConv) + " GFLOP/s)" : " (no network with convolutions measured)")});
    c.add(new String[] {"deltaStar", fmt(deltaStar), "ms per extra executor", "star: compute delay per extra executor on this machine's shared cores (0 in projections)"});
    c.add(new String[] {"deltaJob", fmt(deltaJob), "ms per extra executor", "job: the same for a job's tasks (0 in projections)"});
    c.add(new String[] {"gammaStar", fmt(gammaStar), "", "star: compute slow-down per extra executor on this machine's shared cores (0 in projections)"});
    c.add(new String[] {"gammaJob", fmt(gammaJob), "", "job: the same for a job's tasks (0 in projections)"});
    c.add(new String[] {"jc0", fmt(jc0), "ms", "job: extra compute of a task started each step (cold caches, fresh broadcast value)"});
    c.add(new String[] {"jcParam", fmt(jcParam), "ms per M parameters", "job: the same, growing with the parameters"});
    c.add(new String[] {"a0", fmt(a0), "ms", "star: fixed cost of a step (hub bookkeeping)"});
    c.add(new String[] {"aParam", fmt(aParam), "ms per M parameters", "star: scaling and optimizer update"});
    c.add(new String[] {"aMsg", fmt(aMsg), "ms per peer", "star: per message and peer (latency on loopback)"});
    c.add(new String[] {"aByte", fmt(aByte), "ms per MB", "star: per byte through the hub (copy, sum, socket) = " + fmt(1 / aByte) + " MB/ms"});
    c.add(new String[] {"j0", fmt(j0), "ms", "job: fixed cost of a Spark job (schedule, launch, results)"});
    c.add(new String[] {"jExec", fmt(jExec), "ms per executor", "job: per extra executor (task launch, result)"});
    c.add(new String[] {"jParam", fmt(jParam), "ms per M parameters", "job: per parameter and step, not growing with the executors (driver sum and update, broadcast creation)"});
    c.add(new String[] {"jByte", fmt(jByte), "ms per MB", "job: per MB that grows with the executors (broadcast reads, results: serialisation, block manager)"});
    return c;
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4g", v);
  }

  /** Compute time of the slowest task (ms); {@code shared}: executors share this machine's cores (k(P)). */
  public double compute(Sync sync, int executors, double rows, Net net, boolean shared) {
    boolean job = sync.isJob();
    double delay = shared ? (job ? deltaJob : deltaStar) * (executors - 1) : 0;
    return k(sync, executors, shared, gammaStar, gammaJob) * (c0 + cParam * net.paramsM() + cFlop * rows * net.gflopPerRow()
        + cConv * rows * net.convGflopPerRow())
        + (job ? jc0 + jcParam * net.paramsM() : 0) + delay;
  }

  private static double k(Sync sync, int executors, boolean shared, double gammaStar, double gammaJob) {
    boolean job = sync.isJob();
    return shared ? 1 + (job ? gammaJob : gammaStar) * (executors - 1) : 1;
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
      case TREE:
        return j0 + jExec * (p - 1) + jParam * net.paramsM() + mb * (1 + 2 * Math.ceil(Math.sqrt(p))) * (jByte + wire)
            + network.latencyMs() * 3;
      default:
        throw new AssertionError(sync);
    }
  }

  /** A measured point's predicted step time on this machine (loopback, shared cores). */
  public double predictWall(Point m) {
    return predictCompute(m) + sync(m.sync(), m.executors(), m.net(), m.net().paramsM(), LOOPBACK);
  }

  /** A measured point's predicted compute time. */
  public double predictCompute(Point m) {
    return compute(m.sync(), m.executors(), m.rows(), m.net(), true);
  }

  /**
   * Step time (ms) on a cluster of {@code p} machines with one executor each, {@code rows} rows
   * per executor, exchanging every {@code every} steps ({@code stateArrays}: the optimizer's
   * arrays that local SGD averages with the parameters).
   */
  public double project(Sync sync, int p, double rows, Net net, Network network, int every, int stateArrays) {
    double values = every == 1 ? net.paramsM() : net.paramsM() * (1 + stateArrays);
    boolean job = sync.isJob();
    double update = (job ? jParam : aParam) * net.paramsM();
    double exchange = p == 1 && !job ? update : sync(sync, p, net, values, network);
    // local SGD: every step updates locally, the exchange is paid once per K steps
    double perStep = every == 1 ? exchange : update + (exchange - update) / every;
    return compute(sync, p, rows, net, false) + perStep;
  }

  /** The time of one step of a single executor that only computes and updates: the ideal's unit. */
  public double alone(double rows, Net net) {
    return compute(Sync.STAR, 1, rows, net, false) + aParam * net.paramsM();
  }

  /**
   * Fits every constant from measured points: the compute terms from the slowest task's compute
   * time of all points (the multipliers gamma by a pattern search, the linear terms by
   * least squares for each candidate), the star all-reduce terms from the
   * allreduce points' wall minus compute, the job terms from the job points'. Each least squares
   * minimises relative error with non-negative constants ({@link LeastSquares}).
   */
  public static StepModel fit(List<Point> points) {
    try {
      return fitChecked(points);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot fit the cost model to these " + points.size() + " points (" + e.getMessage()
          + "): it needs, in each sync mode, points with one and with more executors and at least three network sizes", e);
    }
  }

  private static StepModel fitChecked(List<Point> points) {
    // the multipliers by a pattern search (Hooke and Jeeves: try a step up and down each
    // coordinate, keep what lowers the error, halve the step when nothing does), the linear
    // constants by least squares for each candidate
    double[] k = {0, 0};
    double best = computeError(points, k);
    for (double step = 0.25; step > 1e-7; ) {
      boolean moved = false;
      for (int j = 0; j < k.length; j++) {
        for (double dir : new double[] {1, -1}) {
          double[] t = k.clone();
          t[j] = Math.max(0, t[j] + dir * step);
          double e = computeError(points, t);
          if (e < best - 1e-15) {
            best = e;
            k = t;
            moved = true;
          }
        }
      }
      if (!moved) step /= 2;
    }
    return new StepModel(computeFit(points, k), k, fitSync(points, Sync.STAR), fitSync(points, Sync.JOB));
  }

  private static double[][] computeFeatures(List<Point> points, double[] k) {
    double[][] x = new double[points.size()][];
    for (int i = 0; i < points.size(); i++) {
      Point p = points.get(i);
      double m = k(p.sync(), p.executors(), true, k[0], k[1]);
      boolean job = p.sync().isJob();
      x[i] = new double[] {m, m * p.net().paramsM(), m * p.rows() * p.net().gflopPerRow(), job ? 1 : 0,
          job ? p.net().paramsM() : 0, job ? 0 : p.executors() - 1, job ? p.executors() - 1 : 0,
          m * p.rows() * p.net().convGflopPerRow()};
    }
    return x;
  }

  private static double[] computes(List<Point> points) {
    double[] y = new double[points.size()];
    for (int i = 0; i < y.length; i++) y[i] = points.get(i).computeMs();
    return y;
  }

  private static double[] computeFit(List<Point> points, double[] k) {
    return fitCompute(computeFeatures(points, k), computes(points));
  }

  private static double computeError(List<Point> points, double[] k) {
    double[][] x = computeFeatures(points, k);
    double[] y = computes(points);
    return relativeSquares(x, y, fitCompute(x, y));
  }

  /** The compute constants; without convolutions among the points, cConv (the last) is 0 and left out of the fit. */
  private static double[] fitCompute(double[][] x, double[] y) {
    int last = x[0].length - 1;
    boolean conv = false;
    for (double[] row : x) conv |= row[last] != 0;
    if (conv) return LeastSquares.nonNegativeRelative(x, y);
    double[][] xd = new double[x.length][];
    for (int i = 0; i < x.length; i++) xd[i] = java.util.Arrays.copyOf(x[i], last);
    return java.util.Arrays.copyOf(LeastSquares.nonNegativeRelative(xd, y), last + 1);
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
