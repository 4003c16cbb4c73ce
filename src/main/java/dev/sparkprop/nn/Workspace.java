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

  private Workspace(NetworkSpec spec) {
    network = new Network(spec);
  }

  /** This thread's workspace for {@code spec} (a new one if the spec changed). */
  public static Workspace get(NetworkSpec spec) {
    Workspace ws = CURRENT.get();
    if (ws == null || !ws.network.spec().equals(spec)) {
      ws = new Workspace(spec);
      CURRENT.set(ws);
    }
    return ws;
  }

  /** A label buffer of at least {@code rows} entries. */
  public int[] labels(int rows) {
    if (labels.length < rows) labels = new int[rows];
    return labels;
  }
}
