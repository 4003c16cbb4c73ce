package dev.sparkprop.data;

import java.io.Serializable;

/**
 * Per-column count, mean, sum of squared deviations, minimum and maximum of a set of rows, in
 * double: what feature scaling needs. A NaN is a missing value ({@code features.missing=mean}) and
 * is left out of its column's figures, so each column has its own count. One partition's rows are
 * summarized in two passes (the mean, then the squared deviations from it), which loses nothing
 * to cancellation; partitions are merged with Chan, Golub and LeVeque's pairwise update, in the
 * order the caller gives (partition order: the same bits every run).
 */
public final class ColumnStats implements Serializable {
  private static final long serialVersionUID = 2L;
  /** Rows per pass over a shard: a 64 KiB-ish buffer for narrow rows. */
  private static final int CHUNK = 256;

  private final int width;
  private long rows;
  private final long[] count;
  private final double[] mean;
  private final double[] m2;
  private final double[] min;
  private final double[] max;

  /** No rows yet, over {@code width} columns. */
  public ColumnStats(int width) {
    this.width = width;
    count = new long[width];
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
          if (x != x) continue; // missing
          s.count[j]++;
          sum[j] += x;
          if (x < s.min[j]) s.min[j] = x;
          if (x > s.max[j]) s.max[j] = x;
        }
      }
    }
    for (int j = 0; j < w; j++) s.mean[j] = s.count[j] == 0 ? 0 : sum[j] / s.count[j];
    for (int from = 0; from < n; from += CHUNK) {
      int k = Math.min(CHUNK, n - from);
      shard.copyRows(from, k, buf);
      for (int r = 0; r < k; r++) {
        int o = r * w;
        for (int j = 0; j < w; j++) {
          double d = buf[o + j] - s.mean[j];
          if (d == d) s.m2[j] += d * d;
        }
      }
    }
    s.rows = n;
    return s;
  }

  /** The statistics of a shard's regression targets ({@code perRow} a row). */
  public static ColumnStats ofTargets(Shard shard, int perRow) {
    int n = shard.rows();
    float[] t = shard.targets();
    return of(Shard.ofFloats(shard.partition(), perRow, t == null ? new float[n * perRow] : t, new int[n], new int[n]));
  }

  /** Adds {@code other}'s rows to these (Chan et al., column by column): this one changes, {@code other} does not. */
  public ColumnStats merge(ColumnStats other) {
    if (other.width != width) throw new IllegalArgumentException("merging statistics of " + other.width + " columns into " + width);
    rows += other.rows;
    for (int j = 0; j < width; j++) {
      if (other.count[j] == 0) continue;
      if (count[j] == 0) {
        count[j] = other.count[j];
        mean[j] = other.mean[j];
        m2[j] = other.m2[j];
        min[j] = other.min[j];
        max[j] = other.max[j];
        continue;
      }
      double na = count[j];
      double nb = other.count[j];
      double n = na + nb;
      double delta = other.mean[j] - mean[j];
      mean[j] += delta * (nb / n);
      m2[j] += other.m2[j] + delta * delta * (na * nb / n);
      min[j] = Math.min(min[j], other.min[j]);
      max[j] = Math.max(max[j], other.max[j]);
      count[j] += other.count[j];
    }
    return this;
  }

  public int width() {
    return width;
  }

  /** Rows seen (a column's own count leaves its missing values out: {@link #count(int)}). */
  public long count() {
    return rows;
  }

  /** Values of column {@code j} present (not missing). */
  public long count(int j) {
    return count[j];
  }

  public double mean(int j) {
    return mean[j];
  }

  /** The population standard deviation (divided by the count, as scikit-learn's StandardScaler). */
  public double std(int j) {
    return count[j] == 0 ? 0 : Math.sqrt(m2[j] / count[j]);
  }

  public double min(int j) {
    return min[j];
  }

  public double max(int j) {
    return max[j];
  }
}
