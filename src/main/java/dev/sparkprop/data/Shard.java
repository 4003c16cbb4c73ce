package dev.sparkprop.data;

import java.io.Serializable;

/**
 * One partition's rows, packed: pixels as unsigned bytes {@code (rows, features)} row-major, the
 * labels, and each row's index in the whole data set. This is the object cached on an executor
 * (one per partition); a step reads a slice or a gather of it and never re-reads the file.
 *
 * <p>Bytes, not floats: the cached MNIST training set takes 47 MB instead of 188 MB; a batch is
 * scaled to [0, 1] as it is copied into the network's input buffer, exactly like the notebook's
 * {@code astype("float32") / 255}. Feature tables whose values are not all of the form b / 255
 * are held as floats instead ({@link #ofFloats}).
 */
public final class Shard implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int partition;
  private final int features;
  private final byte[] pixels; // null when the shard holds floats
  private final float[] values; // null when the shard holds bytes
  private final int[] labels;
  private final int[] globalRows;
  private float[] targets; // regression: (rows, targetsPerRow) row-major, else null
  private int targetsPerRow;
  private transient ShuffledBatches shuffled;

  public Shard(int partition, int features, byte[] pixels, int[] labels, int[] globalRows) {
    this(partition, features, pixels, null, labels, globalRows);
  }

  /** Exactly one of {@code pixels} and {@code values} is given. */
  private Shard(int partition, int features, byte[] pixels, float[] values, int[] labels, int[] globalRows) {
    long held = pixels != null ? pixels.length : values.length;
    if (held != (long) labels.length * features || globalRows.length != labels.length) {
      throw new IllegalArgumentException("shard " + partition + ": " + labels.length + " labels, "
          + globalRows.length + " row ids and " + held + (pixels != null ? " pixel bytes" : " feature values")
          + " do not match " + features + " features per row");
    }
    this.partition = partition;
    this.features = features;
    this.pixels = pixels;
    this.values = values;
    this.labels = labels;
    this.globalRows = globalRows;
  }

  /** A shard of float features, used as they are (no scaling). */
  public static Shard ofFloats(int partition, int features, float[] values, int[] labels, int[] globalRows) {
    return new Shard(partition, features, null, values, labels, globalRows);
  }

  /**
   * This shard with real-valued regression targets, {@code perRow} a row, row-major (the same
   * rows; set once, while the shard is built).
   */
  public Shard withTargets(float[] targets, int perRow) {
    if ((long) perRow * labels.length != targets.length) {
      throw new IllegalArgumentException("shard " + partition + ": " + targets.length + " targets for " + labels.length
          + " rows of " + perRow);
    }
    Shard s = new Shard(partition, features, pixels, values, labels, globalRows);
    s.targets = targets;
    s.targetsPerRow = perRow;
    return s;
  }

  /** Regression targets of all rows, (rows, targetsPerRow) row-major, read only; null for classes. */
  public float[] targets() {
    return targets;
  }

  /** Copies the listed local rows' targets, in order, into {@code out}. */
  public void gatherTargets(int[] local, int off, int n, float[] out) {
    for (int r = 0; r < n; r++) System.arraycopy(targets, local[off + r] * targetsPerRow, out, r * targetsPerRow, targetsPerRow);
  }

  public int partition() {
    return partition;
  }

  public int rows() {
    return labels.length;
  }

  public int features() {
    return features;
  }

  /** Labels of all rows, read only. */
  public int[] labels() {
    return labels;
  }

  /** Global row id of local row i. */
  public int globalRow(int i) {
    return globalRows[i];
  }

  /**
   * Local rows of each batch of one shuffled epoch, in the order of the epoch's permutation:
   * batch k's rows held here are {@code order[starts[k]] .. order[starts[k+1]-1]}. Computed once
   * per (seed, epoch) and kept, since every step of the epoch needs it; it is derived data, so a
   * recomputed shard gives the same answer.
   */
  public synchronized ShuffledBatches shuffled(BatchLayout layout, long seed, int epoch) {
    ShuffledBatches s = shuffled;
    if (s != null && s.seed == seed && s.epoch == epoch && s.batchSize == layout.batchSize()) return s;
    int n = layout.rows();
    int[] localOf = new int[n];
    java.util.Arrays.fill(localOf, -1);
    for (int i = 0; i < globalRows.length; i++) localOf[globalRows[i]] = i;
    int[] perm = Permutation.of(n, seed, epoch);
    int nb = layout.numBatches();
    int[] order = new int[globalRows.length];
    int[] starts = new int[nb + 1];
    int m = 0;
    for (int j = 0; j < n; j++) {
      int local = localOf[perm[j]];
      if (local >= 0) {
        order[m++] = local;
        starts[j / layout.batchSize() + 1]++;
      }
    }
    for (int k = 0; k < nb; k++) starts[k + 1] += starts[k];
    shuffled = s = new ShuffledBatches(seed, epoch, layout.batchSize(), order, starts);
    return s;
  }

  /** See {@link #shuffled}. */
  public static final class ShuffledBatches {
    final long seed;
    final int epoch;
    final int batchSize;
    public final int[] order;
    public final int[] starts;

    ShuffledBatches(long seed, int epoch, int batchSize, int[] order, int[] starts) {
      this.seed = seed;
      this.epoch = epoch;
      this.batchSize = batchSize;
      this.order = order;
      this.starts = starts;
    }
  }

  /** Whether the shard holds bytes (0..255 pixels), as read from IDX files or image columns. */
  public boolean holdsBytes() {
    return pixels != null;
  }

  /** Copies local row i's raw bytes into {@code dst} (byte shards only). */
  public void rawRow(int i, byte[] dst) {
    if (pixels == null) throw new IllegalStateException("shard " + partition + " holds floats, not bytes");
    System.arraycopy(pixels, i * features, dst, 0, features);
  }

  /** Bytes held, for storage reports. */
  public long sizeInBytes() {
    return (pixels != null ? pixels.length : 4L * values.length) + 8L * labels.length
        + (targets == null ? 0 : 4L * targets.length);
  }

  /**
   * Copies local rows {@code [from, from + n)} scaled to [0, 1] into {@code dst} (row-major, from 0).
   */
  public void copyRows(int from, int n, float[] dst) {
    int len = n * features;
    int src = from * features;
    if (pixels == null) {
      System.arraycopy(values, src, dst, 0, len);
      return;
    }
    for (int i = 0; i < len; i++) dst[i] = (pixels[src + i] & 0xff) / 255f;
  }

  /** Copies the listed local rows, in order, scaled to [0, 1] into {@code dst}; their labels into {@code labelsOut}. */
  public void gatherRows(int[] local, int off, int n, float[] dst, int[] labelsOut) {
    for (int r = 0; r < n; r++) {
      int row = local[off + r];
      int src = row * features;
      int d = r * features;
      if (pixels == null) {
        System.arraycopy(values, src, dst, d, features);
      } else {
        for (int j = 0; j < features; j++) dst[d + j] = (pixels[src + j] & 0xff) / 255f;
      }
      labelsOut[r] = labels[row];
    }
  }
}
