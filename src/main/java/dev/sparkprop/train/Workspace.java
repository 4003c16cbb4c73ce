package dev.sparkprop.train;

import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;

/**
 * Per-thread buffers of the executor side: one {@link Network} (weights, activations, deltas)
 * and a label buffer, grown to the largest batch and reused by every task this thread runs. A
 * cache, not state: nothing in it carries from one task to the next except allocated memory.
 */
final class Workspace {
  private static final ThreadLocal<Workspace> CURRENT = new ThreadLocal<>();

  final Network network;
  int[] labels = new int[0];

  private Workspace(NetworkSpec spec) {
    network = new Network(spec);
  }

  static Workspace get(NetworkSpec spec) {
    Workspace ws = CURRENT.get();
    if (ws == null || !ws.network.spec().equals(spec)) {
      ws = new Workspace(spec);
      CURRENT.set(ws);
    }
    return ws;
  }

  int[] labels(int rows) {
    if (labels.length < rows) labels = new int[rows];
    return labels;
  }
}
