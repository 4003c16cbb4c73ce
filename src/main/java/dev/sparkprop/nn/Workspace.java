package dev.sparkprop.nn;

/**
 * Per-thread buffers of the executor side, for training and evaluation tasks: one
 * {@link Network} (weights, activations, deltas) and a label buffer, grown to the largest batch
 * and reused by every task this thread runs. A cache, not state: nothing in it carries from one
 * task to the next except allocated memory.
 */
public final class Workspace {
  private static final ThreadLocal<Workspace> CURRENT = new ThreadLocal<>();

  public final Network network;
  private int[] labels = new int[0];
  private float[] targets = new float[0];

  private Workspace(NetworkSpec spec, Gemm gemm) {
    network = new Network(spec, gemm);
  }

  /** This thread's workspace for {@code spec} on {@code kernel} (a new one if either changed). */
  public static Workspace get(NetworkSpec spec, Kernel kernel) {
    Workspace ws = CURRENT.get();
    int[] p = spec.largestProduct(spec.isDense() ? 128 : 16);
    Gemm gemm = kernel.gemm(p[0], p[1], p[2]); // auto: probed on the largest product, once per JVM
    if (ws == null || !ws.network.spec().equals(spec) || ws.network.gemm() != gemm) {
      ws = new Workspace(spec, gemm);
      CURRENT.set(ws);
    }
    return ws;
  }

  /** A label buffer of at least {@code rows} entries. */
  /** A buffer of at least {@code n} regression targets, kept between steps. */
  public float[] targets(int n) {
    if (targets.length < n) targets = new float[n];
    return targets;
  }

  public int[] labels(int rows) {
    if (labels.length < rows) labels = new int[rows];
    return labels;
  }
}
