package dev.sparkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Column statistics merged over shards, and the scalings made of them, without Spark. */
class FeatureScalingTest {
  private static final int W = 5;

  /** Columns of very different scales (1e-3 .. 1e4, offset from 0), column 3 constant. */
  private static float[] rows(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * W];
    double[] scale = {1e-3, 1, 30, 0, 1e4};
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < W; j++) x[i * W + j] = j == 3 ? 7.25f : (float) ((r.nextGaussian() + 5) * scale[j]);
    }
    return x;
  }

  private static Shard shard(int p, float[] x, int from, int to) {
    float[] part = java.util.Arrays.copyOfRange(x, from * W, to * W);
    int[] labels = new int[to - from];
    int[] ids = new int[to - from];
    for (int i = 0; i < ids.length; i++) ids[i] = from + i;
    return Shard.ofFloats(p, W, part, labels, ids);
  }

  @Test
  void shardsMergedInOrderGiveTheWholeSetsStatistics() {
    int n = 10_001;
    float[] x = rows(n, 1);
    ColumnStats merged = new ColumnStats(W);
    int[] cuts = {0, 1, 2500, 2501, 7000, n};
    for (int k = 0; k + 1 < cuts.length; k++) merged.merge(ColumnStats.of(shard(k, x, cuts[k], cuts[k + 1])));
    ColumnStats whole = ColumnStats.of(shard(0, x, 0, n));
    assertEquals(n, merged.count());
    for (int j = 0; j < W; j++) {
      double mean = 0;
      for (int i = 0; i < n; i++) mean += x[i * W + j];
      mean /= n;
      double m2 = 0;
      for (int i = 0; i < n; i++) m2 += (x[i * W + j] - mean) * (x[i * W + j] - mean);
      double std = Math.sqrt(m2 / n);
      double tol = 1e-12 * Math.max(1, Math.abs(mean));
      assertEquals(mean, merged.mean(j), tol, "mean of column " + j);
      assertEquals(std, merged.std(j), 1e-9 * Math.max(std, 1e-300) + 1e-300, "std of column " + j);
      assertEquals(whole.min(j), merged.min(j), 0.0);
      assertEquals(whole.max(j), merged.max(j), 0.0);
    }
    assertEquals(0.0, merged.std(3), 0.0, "a constant column's deviation is exactly 0");
  }

  @Test
  void theSameMergeOrderGivesTheSameBits() {
    float[] x = rows(3000, 2);
    FeatureScaling a = FeatureScaling.fit(FeatureScaling.Kind.STANDARD,
        new ColumnStats(W).merge(ColumnStats.of(shard(0, x, 0, 1000))).merge(ColumnStats.of(shard(1, x, 1000, 3000))));
    FeatureScaling b = FeatureScaling.fit(FeatureScaling.Kind.STANDARD,
        new ColumnStats(W).merge(ColumnStats.of(shard(0, x, 0, 1000))).merge(ColumnStats.of(shard(1, x, 1000, 3000))));
    assertEquals(a, b);
    assertArrayEquals(a.shift(), b.shift());
  }

  @Test
  void standardScalingGivesMeanZeroAndUnitDeviationAndLeavesAConstantColumn() {
    int n = 4000;
    float[] x = rows(n, 3);
    FeatureScaling s = FeatureScaling.fit(FeatureScaling.Kind.STANDARD, ColumnStats.of(shard(0, x, 0, n)));
    assertArrayEquals(new int[] {3}, s.constantColumns());
    float[] y = x.clone();
    s.apply(y, n, W);
    ColumnStats after = ColumnStats.of(shard(0, y, 0, n));
    for (int j = 0; j < W; j++) {
      if (j == 3) {
        assertEquals(7.25, after.mean(j), 0.0, "the constant column is left as it is");
        continue;
      }
      assertEquals(0, after.mean(j), 1e-5, "mean of column " + j);
      assertEquals(1, after.std(j), 1e-5, "std of column " + j);
    }
    for (int i = 0; i < 50; i++) {
      int j = i % W;
      float want = (x[i * W + j] - s.shift()[j]) / s.scale()[j];
      assertEquals(want, y[i * W + j], 0f, "(x - shift) / scale in float");
    }
  }

  @Test
  void minMaxScalingMapsOntoZeroOne() {
    int n = 500;
    float[] x = rows(n, 4);
    FeatureScaling s = FeatureScaling.fit(FeatureScaling.Kind.MINMAX, ColumnStats.of(shard(0, x, 0, n)));
    s.apply(x, n, W);
    ColumnStats after = ColumnStats.of(shard(0, x, 0, n));
    for (int j = 0; j < W; j++) {
      if (j == 3) continue;
      assertEquals(0, after.min(j), 1e-6);
      assertEquals(1, after.max(j), 1e-6);
    }
  }

  /** Missing values (NaN) are left out of their column's figures and, with features.missing=mean, filled by its mean. */
  @Test
  void missingValuesAreLeftOutAndFilledWithTheMean() {
    float nan = Float.NaN;
    float[] x = {1, 10, nan, 20, 3, nan, nan, 40, 8, 30};
    ColumnStats s = new ColumnStats(2).merge(ColumnStats.of(shard2(0, x, 0, 2))).merge(ColumnStats.of(shard2(1, x, 2, 5)));
    assertEquals(5, s.count());
    assertEquals(3, s.count(0));
    assertEquals(4, s.count(1));
    assertEquals(4.0, s.mean(0), 1e-12, "(1 + 3 + 8) / 3");
    assertEquals(25.0, s.mean(1), 1e-12);
    FeatureScaling f = FeatureScaling.fit(FeatureScaling.Kind.STANDARD, s, true);
    float[] y = x.clone();
    f.apply(y, 5, 2);
    assertEquals(0f, y[2], 0f, "a missing value becomes the mean, which standardizes to 0");
    assertEquals((1 - 4f) / (float) s.std(0), y[0], 0f);
    FeatureScaling only = FeatureScaling.fit(FeatureScaling.Kind.NONE, s, true);
    float[] z = x.clone();
    only.apply(z, 5, 2);
    assertArrayEquals(new float[] {1, 10, 4, 20, 3, 25, 4, 40, 8, 30}, z, "features.scale=none still fills");
  }

  private static Shard shard2(int p, float[] x, int from, int to) {
    float[] part = java.util.Arrays.copyOfRange(x, from * 2, to * 2);
    return Shard.ofFloats(p, 2, part, new int[to - from], new int[to - from]);
  }

  @Test
  void noneLeavesTheValuesAndAStoredScalingIsChecked() {
    float[] x = rows(10, 5);
    float[] y = x.clone();
    FeatureScaling.NONE.apply(y, 10, W);
    assertArrayEquals(x, y);
    FeatureScaling back = FeatureScaling.of(FeatureScaling.Kind.STANDARD, new float[] {1, 2}, new float[] {3, 4});
    assertEquals(2, back.width());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FeatureScaling.of(FeatureScaling.Kind.STANDARD, new float[] {1, 2}, new float[] {3, 0}));
    assertTrue(e.getMessage().contains("column 1"), e.getMessage());
  }
}
