package dev.sparkprop.data;

import java.io.Serializable;

/**
 * Per-column count, mean, sum of squared deviations, minimum and maximum of a set of rows, in
 * double: what feature scaling needs. One partition's rows are summarized in two passes (the mean,
 * then the squared deviations from it), which loses nothing to cancellation; partitions are merged
 * with Chan, Golub and LeVeque's pairwise update, in the order the caller gives (partition order:
 * the same bits every run).
 */
public final class ColumnStats implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Rows per pass over a shard: a 64 KiB-ish buffer for narrow rows. */
  private static final int CHUNK = 256;

  private final int width;
  private long count;
  private final double[] mean;
  private final double[] m2;
  private final double[] min;
  private final double[] max;

  /** No rows yet, over {@code width} columns. */
  public ColumnStats(int width) {
    this.width = width;
    mean = new double[width];
    m2 = new double[width];
    min = new double[width];
    max = new double[width];
    java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
    java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
  }

  /** The statistics of every row of {@code shard}, its values as the network reads them (pixels in [0, 1]). */
  public static ColumnStats of(Shard shard) {
    int w = shard.features();
    ColumnStats s = new ColumnStats(w);
    int n = shard.rows();
    if (n == 0) return s;
    float[] buf = new float[Math.min(CHUNK, n) * w];
    double[] sum = new double[w];
    for (int from = 0; from < n; from += CHUNK) {
      int k = Math.min(CHUNK, n - from);
      shard.copyRows(from, k, buf);
      for (int r = 0; r < k; r++) {
        int o = r * w;
        for (int j = 0; j < w; j++) {
          double x = buf[o + j];
          sum[j] += x;
          if (x < s.min[j]) s.min[j] = x;
          if (x > s.max[j]) s.max[j] = x;
        }
      }
    }
    for (int j = 0; j < w; j++) s.mean[j] = sum[j] / n;
    for (int from = 0; from < n; from += CHUNK) {
      int k = Math.min(CHUNK, n - from);
      shard.copyRows(from, k, buf);
      for (int r = 0; r < k; r++) {
        int o = r * w;
        for (int j = 0; j < w; j++) {
          double d = buf[o + j] - s.mean[j];
          s.m2[j] += d * d;
        }
      }
    }
    s.count = n;
    return s;
  }

  /** The statistics of a shard's regression targets ({@code perRow} a row). */
  public static ColumnStats ofTargets(Shard shard, int perRow) {
    int n = shard.rows();
    float[] t = shard.targets();
    int[] labels = new int[n];
    int[] ids = new int[n];
    return of(Shard.ofFloats(shard.partition(), perRow, t == null ? new float[n * perRow] : t, labels, ids));
  }

  /** Adds {@code other}'s rows to these (Chan et al.): this one changes, {@code other} does not. */
  public ColumnStats merge(ColumnStats other) {
    if (other.width != width) throw new IllegalArgumentException("merging statistics of " + other.width + " columns into " + width);
    if (other.count == 0) return this;
    if (count == 0) {
      count = other.count;
      System.arraycopy(other.mean, 0, mean, 0, width);
      System.arraycopy(other.m2, 0, m2, 0, width);
      System.arraycopy(other.min, 0, min, 0, width);
      System.arraycopy(other.max, 0, max, 0, width);
      return this;
    }
    double na = count;
    double nb = other.count;
    double n = na + nb;
    for (int j = 0; j < width; j++) {
      double delta = other.mean[j] - mean[j];
      mean[j] += delta * (nb / n);
      m2[j] += other.m2[j] + delta * delta * (na * nb / n);
      min[j] = Math.min(min[j], other.min[j]);
      max[j] = Math.max(max[j], other.max[j]);
    }
    count += other.count;
    return this;
  }

  public int width() {
    return width;
  }

  public long count() {
    return count;
  }

  public double mean(int j) {
    return mean[j];
  }

  /** The population standard deviation (divided by the count, as scikit-learn's StandardScaler). */
  public double std(int j) {
    return count == 0 ? 0 : Math.sqrt(m2[j] / count);
  }

  public double min(int j) {
    return min[j];
  }

  public double max(int j) {
    return max[j];
  }
}
