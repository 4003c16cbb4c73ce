package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.ReductionTree;
import java.util.ArrayList;
import java.util.List;

/**
 * Who sends to whom in {@code sync.topology=tree}: a physical tree over the tasks, made from the
 * {@link ReductionTree} so that the additions (and so the bits) are the reduction tree's. With
 * fan-in 2 it is the reduction tree itself: task {@code a} receives the whole sums of the
 * subtrees of its two children, adds them to its own and sends the result to its parent; task 0
 * sends the whole sum to the driver, the driver's only child. With fan-in F > 2 a node also
 * takes on the additions of some of its children that have two children (greedily, in
 * preorder, while its inbound vectors stay at most F; each saves two subtrees a hop): such a child sends its own sum unadded and becomes a leaf, and its
 * children send their subtrees' sums to the node instead. Parameters travel the same tree down.
 *
 * <pre>
 *   P = 7, fan-in 2:  driver <- 0 <- {1 <- {2, 3}, 4 <- {5, 6}}
 *   P = 7, fan-in 4:  driver <- {0 (own), 1 <- {2, 3}, 4 <- {5, 6}}  (the driver adds v0 and
 *                     the sums of 1's and 4's subtrees, in the reduction tree's order)
 * </pre>
 *
 * The driver is node {@link #DRIVER}. No Spark; the same object on the driver and every task.
 */
final class TreeTopology implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  static final int DRIVER = -1;
  private final int partitions;
  private final int fanIn;
  private final int[] parent; // by partition: the physical parent (DRIVER for the driver's children)
  private final boolean[] own; // by partition: sends its own sum unadded (its parent does its additions)
  private final int[][] children; // by partition: physical children, in preorder
  private final int[] driverChildren;
  private final ReductionTree order;
  private final boolean bf16;

  TreeTopology(int partitions, int fanIn) {
    this(partitions, fanIn, false);
  }

  /** {@code bf16}: sync.wire=bf16, whose reduction order rounds every subtree's value ({@link ReductionTree}). */
  TreeTopology(int partitions, int fanIn, boolean bf16) {
    if (fanIn < 2) throw new IllegalArgumentException("sync.fanin: at least 2, got " + fanIn);
    this.partitions = partitions;
    this.fanIn = fanIn;
    this.bf16 = bf16;
    ReductionTree t = new ReductionTree(partitions, bf16);
    this.order = t;
    parent = new int[partitions];
    own = new boolean[partitions];
    children = new int[partitions][];
    List<List<Integer>> kids = new ArrayList<>();
    for (int p = 0; p < partitions; p++) kids.add(new ArrayList<>());
    List<Integer> top = new ArrayList<>();
    // the driver first, then every task that still adds (preorder): each takes on children's additions while it can
    absorb(t, DRIVER, top);
    for (int p = 0; p < partitions; p++) {
      if (own[p]) continue;
      absorb(t, p, kids.get(p));
    }
    driverChildren = toArray(top);
    for (int q : driverChildren) parent[q] = DRIVER;
    for (int p = 0; p < partitions; p++) {
      children[p] = toArray(kids.get(p));
      for (int q : children[p]) parent[q] = p;
    }
  }

  /**
   * The inputs of node {@code x} (the driver or a task) start as its reduction-tree children,
   * each sending its whole subtree; a child with two children that fit within the fan-in is
   * taken on (a child with one is not: that would save one leaf a hop for one more input).
   */
  private void absorb(ReductionTree t, int x, List<Integer> in) {
    List<Integer> queue = new ArrayList<>();
    if (x == DRIVER) {
      queue.add(0);
    } else {
      if (t.first(x) >= 0) queue.add(t.first(x));
      if (t.second(x) >= 0) queue.add(t.second(x));
    }
    int inputs = queue.size();
    for (int i = 0; i < queue.size(); i++) {
      int c = queue.get(i);
      int grand = (t.first(c) >= 0 ? 1 : 0) + (t.second(c) >= 0 ? 1 : 0);
      if (grand == 2 && inputs + grand <= fanIn) {
        own[c] = true; // c sends its own sum; its children send theirs to x
        inputs += grand;
        if (t.first(c) >= 0) queue.add(t.first(c));
        if (t.second(c) >= 0) queue.add(t.second(c));
      }
    }
    queue.sort(null); // preorder
    in.addAll(queue);
  }

  private static int[] toArray(List<Integer> l) {
    int[] a = new int[l.size()];
    for (int i = 0; i < a.length; i++) a[i] = l.get(i);
    return a;
  }

  int partitions() {
    return partitions;
  }

  /** Whether vectors cross this tree's links as bfloat16 (sync.wire=bf16). */
  boolean bf16() {
    return bf16;
  }

  /** The reduction order this tree was made from. */
  ReductionTree order() {
    return order;
  }

  int fanIn() {
    return fanIn;
  }

  /** The physical parent of partition p: another partition, or {@link #DRIVER}. */
  int parent(int p) {
    return parent[p];
  }

  /** Whether partition p sends its own sum, unadded (its parent adds its children's). */
  boolean sendsOwn(int p) {
    return own[p];
  }

  /** The partitions that send to p ({@link #DRIVER}: to the driver), in preorder. */
  int[] children(int p) {
    return p == DRIVER ? driverChildren : children[p];
  }

  /**
   * Scratch vectors {@link ReductionTree#sum} needs at partition p: one for each level of the
   * additions p does (a whole child's sum is one level; a child that sends its own adds the
   * levels of its children's).
   */
  int scratchLevels(int p) {
    return levels(order, p);
  }

  private int levels(ReductionTree t, int x) {
    int l = 0;
    for (int c : new int[] {t.first(x), t.second(x)}) {
      if (c < 0) continue;
      l = Math.max(l, own[c] ? 1 + levels(t, c) : 1);
    }
    return l;
  }

  /** Edges from the driver to the deepest task. */
  int depth() {
    int d = 0;
    for (int p = 0; p < partitions; p++) {
      int k = 1;
      for (int q = parent[p]; q != DRIVER; q = parent[q]) k++;
      d = Math.max(d, k);
    }
    return d;
  }

  /** "driver <- 0 <- {1 <- {2, 3}, 4}" (own sums marked). */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("driver");
    describe(DRIVER, sb);
    return sb.toString();
  }

  private void describe(int x, StringBuilder sb) {
    int[] c = children(x);
    if (c.length == 0) return;
    sb.append(" <- ");
    if (c.length > 1) sb.append('{');
    for (int i = 0; i < c.length; i++) {
      if (i > 0) sb.append(", ");
      sb.append(c[i]);
      if (own[c[i]]) sb.append(" (own)");
      describe(c[i], sb);
    }
    if (c.length > 1) sb.append('}');
  }
}
