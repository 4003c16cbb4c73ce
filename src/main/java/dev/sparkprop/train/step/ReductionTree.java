package dev.sparkprop.train.step;

/**
 * The one order in which the partitions' sums are added, a property of the partition count P
 * alone: the same in every transport ({@code job}, {@code barrier}) and every topology (the
 * driver adding everything, or tasks adding their subtrees on the way up), so that switching
 * between them, or resuming across a switch, changes no bit.
 *
 * <p>The order is a binary tree over the partition indices in preorder. Node {@code a} covers
 * the partitions {@code [a, end(a))}; its first child covers the first half of the rest
 * (rounded up), its second child the other half:
 *
 * <pre>
 *   P = 7:          0                 value(a) = (v_a + value(first)) + value(second)
 *                 /   \
 *                1     4              value(0) = (v0 + ((v1 + v2) + v3)) + ((v4 + v5) + v6)
 *               / \   / \
 *              2   3 5   6
 * </pre>
 *
 * A partition without rows is left out (its part is skipped, not added as zeros). Float
 * addition is not associative, so an exchange that adds in another order gives other bits: a
 * task that adds on the way up must hold the whole value of each subtree it forwards, and the
 * driver adds what it holds with {@link #sum} in the same shape. For P up to 3 the order is the
 * plain partition order.
 *
 * <p>Why one tree of fan-in two and not a tree per fan-in: a task that forwards one vector per
 * step must forward the value of a whole subtree, so the order fixes which sets of partitions a
 * task may forward; an order that also fits a tree whose tasks take three or more children is
 * that tree's, and does not fit this one. A physical tree of higher fan-in is made from this one
 * by letting a task also add the subtrees of some of its children (they then send it their own
 * sums unadded): the additions, and so the bits, stay the same.
 *
 * <p>With {@code sync.wire=bf16} ({@link Bf16}) the value of every subtree is rounded to bfloat16
 * as soon as it is made, wherever it is made and whether or not it then crosses a link (the
 * partitions' own sums are rounded by their tasks): so the tree's tasks, which send subtree values
 * up as bfloat16, and the driver adding everything in the star or the job give the same bits.
 */
public final class ReductionTree implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private final int partitions;
  private final int[] first; // first child, or -1
  private final int[] second; // second child, or -1
  private final int[] end; // node a covers [a, end[a])
  private final int depth; // nodes on the longest path from the root
  private final boolean bf16; // every subtree's value rounded to bfloat16

  public ReductionTree(int partitions) {
    this(partitions, false);
  }

  /** {@code bf16}: every subtree's value rounded to bfloat16 as it is made (sync.wire=bf16). */
  public ReductionTree(int partitions, boolean bf16) {
    if (partitions < 1) throw new IllegalArgumentException("at least one partition, got " + partitions);
    this.partitions = partitions;
    this.bf16 = bf16;
    first = new int[partitions];
    second = new int[partitions];
    end = new int[partitions];
    depth = build(0, partitions);
  }

  /** Builds the subtree of {@code [a, b)} rooted at {@code a}; returns its depth. */
  private int build(int a, int b) {
    end[a] = b;
    int rest = b - a - 1;
    first[a] = second[a] = -1;
    if (rest == 0) return 1;
    int split = a + 1 + (rest + 1) / 2;
    first[a] = a + 1;
    int d = build(a + 1, split);
    if (split < b) {
      second[a] = split;
      d = Math.max(d, build(split, b));
    }
    return d + 1;
  }

  int partitions() {
    return partitions;
  }

  /** The first child of {@code a}, or -1. */
  public int first(int a) {
    return first[a];
  }

  /** The second child of {@code a}, or -1. */
  public int second(int a) {
    return second[a];
  }

  /** Node {@code a} covers the partitions {@code [a, end(a))}. */
  int end(int a) {
    return end[a];
  }

  /** Nodes on the longest path from the root: {@link #sum} needs this many scratch vectors less one. */
  int depth() {
    return depth;
  }

  /**
   * What is held of the partitions' vectors, by partition index: {@code vector[p]} with
   * {@code rows[p]} rows, either p's own sum ({@code whole[p]} false) or the value of p's whole
   * subtree ({@code whole[p]} true; then nothing below p is read). A part with 0 rows is empty.
   */
  public record Parts(float[][] vector, int[] rows, boolean[] whole) {
    /** Every partition's own sum. */
    public static Parts own(int partitions) {
      return new Parts(new float[partitions][], new int[partitions], new boolean[partitions]);
    }
  }

  /** {@link #sum}'s answers. */
  static final int EMPTY = -1;
  static final int FINITE = 0;
  static final int NON_FINITE = 1;

  /**
   * The value of the subtree at {@code a} over the floats {@code [lo, hi)}, multiplied by
   * {@code scale} in the last operation (1 for the plain sum: exact), into {@code dst}, from the
   * parts held, in this tree's order. Returns {@link #EMPTY} (and leaves {@code dst} alone) when
   * the subtree has no rows, else whether every value written is finite. {@code dst} may be the
   * part of {@code a} itself (added in place). Parts are read where they are, not copied;
   * {@code scratch} holds at least {@code depth() - 1} vectors of {@code hi} floats (a task that
   * adds whole subtrees only: one); nothing is allocated.
   */
  public int sum(int a, Parts parts, float[] dst, int lo, int hi, float[][] scratch, float scale) {
    float[] acc = null;
    float[] last = null; // the final operand: acc (op) last, scaled, into dst
    if (parts.whole[a] || (first[a] < 0)) {
      acc = parts.rows[a] > 0 ? parts.vector[a] : null;
    } else {
      acc = value(a, parts, lo, hi, scratch, 0, true);
      for (int l = 1; l < scratch.length; l++) {
        if (acc == scratch[l]) { // handed up from below (a's own part empty): the last child is valued there
          System.arraycopy(acc, lo, scratch[0], lo, hi - lo);
          acc = scratch[0];
        }
      }
      int c = second[a] >= 0 ? second[a] : first[a];
      last = value(c, parts, lo, hi, scratch, 1, false);
      if (acc == null) {
        acc = last;
        last = null;
      }
    }
    if (acc == null) return EMPTY;
    // each pass its own small method: the JIT compiles and vectorizes it alone
    int nonFinite = last == null ? scale(acc, dst, lo, hi, scale)
        : !bf16 ? addScale(acc, last, dst, lo, hi, scale)
        : addRoundScale(acc, last, dst, lo, hi, scale); // the subtree's value is rounded as it is made
    return nonFinite == 0 ? FINITE : NON_FINITE;
  }

  /** {@code dst = a * scale} over {@code [lo, hi)}; 1 if a value written is not finite, else 0. */
  private static int scale(float[] a, float[] dst, int lo, int hi, float scale) {
    int nonFinite = 0;
    for (int i = lo; i < hi; i++) {
      float m = a[i] * scale;
      dst[i] = m;
      nonFinite |= (~Float.floatToRawIntBits(m) & 0x7f800000) == 0 ? 1 : 0;
    }
    return nonFinite;
  }

  /** {@code dst = (a + b) * scale} over {@code [lo, hi)}; 1 if a value written is not finite, else 0. */
  private static int addScale(float[] a, float[] b, float[] dst, int lo, int hi, float scale) {
    int nonFinite = 0;
    for (int i = lo; i < hi; i++) {
      float m = (a[i] + b[i]) * scale;
      dst[i] = m;
      nonFinite |= (~Float.floatToRawIntBits(m) & 0x7f800000) == 0 ? 1 : 0;
    }
    return nonFinite;
  }

  /** {@code dst = bf16(a + b) * scale} over {@code [lo, hi)}; 1 if a value written is not finite, else 0. */
  private static int addRoundScale(float[] a, float[] b, float[] dst, int lo, int hi, float scale) {
    int nonFinite = 0;
    for (int i = lo; i < hi; i++) {
      float m = Bf16.round(a[i] + b[i]) * scale;
      dst[i] = m;
      nonFinite |= (~Float.floatToRawIntBits(m) & 0x7f800000) == 0 ? 1 : 0;
    }
    return nonFinite;
  }

  /**
   * The value of the subtree at {@code a} (with {@code butLast}: of {@code a} and its children
   * but the last one), as an array that holds it over {@code [lo, hi)}: a part itself when
   * there is nothing to add, else {@code scratch[level]}; null when empty. Children are valued
   * at {@code level + 1}.
   */
  private float[] value(int a, Parts parts, int lo, int hi, float[][] scratch, int level, boolean butLast) {
    float[] own = parts.rows[a] > 0 ? parts.vector[a] : null;
    if (parts.whole[a]) return own;
    int n = first[a] < 0 ? 0 : second[a] < 0 ? 1 : 2;
    if (butLast) n--;
    float[] acc = own;
    for (int k = 0; k < n; k++) {
      int c = k == 0 ? first[a] : second[a];
      float[] x = value(c, parts, lo, hi, scratch, level + 1, false);
      if (x == null) continue;
      float[] t = scratch[level];
      if (acc == null) {
        if (k == n - 1) return x; // nothing more at this level: hand it up where it is
        System.arraycopy(x, lo, t, lo, hi - lo); // keep it: the next child is valued in the buffer it is in
      } else if (acc == t) {
        for (int i = lo; i < hi; i++) t[i] += x[i];
      } else {
        for (int i = lo; i < hi; i++) t[i] = acc[i] + x[i];
      }
      acc = t;
    }
    if (bf16 && !butLast && acc != null && level < scratch.length && acc == scratch[level]) Bf16.round(acc, acc, lo, hi); // a subtree's value, made here
    return acc;
  }

  /** The rows of the subtree at {@code a} from the parts held. */
  int rows(int a, Parts parts) {
    if (parts.whole[a]) return parts.rows[a];
    int r = parts.rows[a];
    if (first[a] >= 0) r += rows(first[a], parts);
    if (second[a] >= 0) r += rows(second[a], parts);
    return r;
  }

  /**
   * Adds per-partition doubles (a step's loss sums) in this tree's order: {@code value[p]} is
   * p's own, or with {@code whole[p]} its subtree's.
   */
  public double sum(int a, double[] value, boolean[] whole) {
    double v = value[a];
    if (whole[a]) return v;
    if (first[a] >= 0) v += sum(first[a], value, whole);
    if (second[a] >= 0) v += sum(second[a], value, whole);
    return v;
  }
}
