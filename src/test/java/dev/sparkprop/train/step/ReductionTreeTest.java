package dev.sparkprop.train.step;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.data.BatchLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The one reduction order ({@link ReductionTree}) and the driver's reduce ({@link Reducer})
 * against an independent recursive reference, on values chosen so that another order of the
 * additions gives other bits.
 */
class ReductionTreeTest {
  private static final int N = 257;

  /** The order written out by hand from the class comment's picture, for P = 7. */
  @Test
  void sevenPartitionsFormThePicturedTree() {
    ReductionTree t = new ReductionTree(7);
    int[][] children = {{1, 4}, {2, 3}, {-1, -1}, {-1, -1}, {5, 6}, {-1, -1}, {-1, -1}};
    int[] end = {7, 4, 3, 4, 7, 6, 7};
    for (int a = 0; a < 7; a++) {
      assertEquals(children[a][0], t.first(a), "first child of " + a);
      assertEquals(children[a][1], t.second(a), "second child of " + a);
      assertEquals(end[a], t.end(a), "end of " + a);
    }
    assertEquals(3, t.depth());
    float[][] v = vectors(7, 1, new Random(7));
    float[] expected = new float[N];
    for (int i = 0; i < N; i++) {
      expected[i] = (v[0][i] + ((v[1][i] + v[2][i]) + v[3][i])) + ((v[4][i] + v[5][i]) + v[6][i]);
    }
    assertArrayEquals(expected, sum(t, own(v, rows(7, -1)), N));
  }

  @Test
  void everyNodeCoversItselfAndItsChildrenContiguously() {
    for (int p = 1; p <= 600; p++) {
      ReductionTree t = new ReductionTree(p);
      assertEquals(p, t.end(0));
      for (int a = 0; a < p; a++) {
        int f = t.first(a);
        int s = t.second(a);
        if (f < 0) {
          assertEquals(a + 1, t.end(a), "leaf " + a + " of " + p);
          assertEquals(-1, s);
          continue;
        }
        assertEquals(a + 1, f);
        assertEquals(s < 0 ? t.end(a) : s, t.end(f), "first child of " + a + " of " + p);
        if (s >= 0) assertEquals(t.end(a), t.end(s));
      }
      assertTrue(t.depth() <= 1 + Math.ceil(Math.log(p + 1) / Math.log(2)), "depth " + t.depth() + " for " + p);
    }
  }

  @Test
  void upToThreePartitionsAddInPartitionOrder() {
    for (int p = 1; p <= 3; p++) {
      float[][] v = vectors(p, 3, new Random(p));
      float[] expected = v[0].clone();
      for (int q = 1; q < p; q++) for (int i = 0; i < N; i++) expected[i] += v[q][i];
      assertArrayEquals(expected, sum(new ReductionTree(p), own(v, rows(p, -1)), N));
    }
  }

  /** The property the tree topology rests on: a task's whole subtree value, added on, gives the driver's bits. */
  @Test
  void wholeSubtreesHeldAnywhereGiveTheSameBitsAsEveryPartitionsOwn() {
    Random rnd = new Random(11);
    for (int p = 1; p <= 40; p++) {
      ReductionTree t = new ReductionTree(p);
      for (int trial = 0; trial < 20; trial++) {
        float[][] v = vectors(p, trial, rnd);
        int[] rows = rows(p, trial % 3 == 0 ? -1 : rnd.nextInt(p + 1)); // some trials with an empty partition
        float[] expected = reference(t, 0, v, rows);
        ReductionTree.Parts all = own(v, rows);
        if (expected == null) {
          assertEquals(ReductionTree.EMPTY, t.sum(0, all, new float[N], 0, N, scratch(t), 1f));
          continue;
        }
        assertArrayEquals(expected, sum(t, all, N), "P=" + p);
        // hold a random antichain of whole subtrees (what a tree's tasks forward) and own sums above them
        ReductionTree.Parts cut = ReductionTree.Parts.own(p);
        hold(t, 0, v, rows, cut, rnd);
        assertArrayEquals(expected, sum(t, cut, N), "P=" + p + " with whole subtrees");
        assertEquals(t.rows(0, all), t.rows(0, cut));
      }
    }
  }

  @Test
  void aSumInChunksEqualsTheSumInOnePass() {
    ReductionTree t = new ReductionTree(13);
    float[][] v = vectors(13, 5, new Random(5));
    ReductionTree.Parts parts = own(v, rows(13, 4));
    float[] whole = sum(t, parts, N);
    float[] chunked = new float[N];
    for (int lo = 0; lo < N; lo += 50) t.sum(0, parts, chunked, lo, Math.min(N, lo + 50), scratch(t), 1f);
    assertArrayEquals(whole, chunked);
  }

  /** The order matters in these values: the plain partition order gives other bits for P = 8. */
  @Test
  void theTreeOrderDiffersFromPartitionOrderBeyondThree() {
    float[][] v = vectors(8, 9, new Random(9));
    float[] sequential = v[0].clone();
    for (int q = 1; q < 8; q++) for (int i = 0; i < N; i++) sequential[i] += v[q][i];
    float[] tree = sum(new ReductionTree(8), own(v, rows(8, -1)), N);
    int differ = 0;
    for (int i = 0; i < N; i++) if (Float.floatToRawIntBits(tree[i]) != Float.floatToRawIntBits(sequential[i])) differ++;
    assertNotEquals(0, differ);
  }

  @Test
  void reducerDividesByTheRowsAndAddsLossesInTreeOrder() {
    int p = 6;
    float[][] v = vectors(p, 2, new Random(2));
    int[] rows = {3, 0, 2, 5, 1, 4};
    PartitionSum[] sums = new PartitionSum[p];
    double[] losses = {0.1, 0, 1e17, 3.3, -1e17, 7.7}; // huge terms: the order shows in the double sum
    for (int q = 0; q < p; q++) {
      sums[q] = new PartitionSum(q, 1, v[q]);
      sums[q].rows = rows[q];
      sums[q].stepRows[0] = rows[q];
      sums[q].stepLoss[0] = losses[q];
      sums[q].computeNanos = 10 * q;
    }
    Reducer reducer = new Reducer(p, N, false);
    double[] stepLoss = new double[1];
    int[] stepRows = new int[1];
    BatchLayout layout = new BatchLayout(15, 15, p);
    assertEquals(50, reducer.addSteps(sums, new Round(0, 0, 1, 0), layout, stepLoss, stepRows));
    assertEquals(15, stepRows[0]);
    ReductionTree t = new ReductionTree(p);
    // P = 6: 0 -> (1 -> 2, 3), (4 -> 5)
    double expectedLoss = (losses[0] + ((losses[1] + losses[2]) + losses[3])) + (losses[4] + losses[5]);
    assertEquals(expectedLoss, stepLoss[0]);
    assertEquals(4, t.second(0));
    float[] mean = new float[N];
    assertTrue(reducer.mean(sums, mean, N));
    float[] expected = reference(t, 0, v, rows);
    for (int i = 0; i < N; i++) expected[i] *= 1f / 15;
    assertArrayEquals(expected, mean);
    v[3][7] = Float.NaN;
    assertFalse(reducer.mean(sums, mean, N), "a NaN in one partition's sum");
  }

  // ---- the independent reference and helpers

  /** value(a) = (own + value(first)) + value(second), empty parts skipped; null if no rows. Fresh arrays, no reuse. */
  private static float[] reference(ReductionTree t, int a, float[][] v, int[] rows) {
    float[] acc = rows[a] > 0 ? v[a].clone() : null;
    for (int c : new int[] {t.first(a), t.second(a)}) {
      if (c < 0) continue;
      float[] x = reference(t, c, v, rows);
      if (x == null) continue;
      if (acc == null) {
        acc = x;
      } else {
        for (int i = 0; i < N; i++) acc[i] = acc[i] + x[i];
      }
    }
    return acc;
  }

  /** Holds, at random, either the whole subtree value at a or a's own sum and then recurses. */
  private static void hold(ReductionTree t, int a, float[][] v, int[] rows, ReductionTree.Parts parts, Random rnd) {
    if (rnd.nextInt(3) == 0) {
      float[] whole = reference(t, a, v, rows);
      parts.whole()[a] = true;
      parts.rows()[a] = whole == null ? 0 : t.rows(a, own(v, rows));
      parts.vector()[a] = whole == null ? new float[N] : whole;
      return;
    }
    parts.vector()[a] = v[a];
    parts.rows()[a] = rows[a];
    if (t.first(a) >= 0) hold(t, t.first(a), v, rows, parts, rnd);
    if (t.second(a) >= 0) hold(t, t.second(a), v, rows, parts, rnd);
  }

  private static float[] sum(ReductionTree t, ReductionTree.Parts parts, int n) {
    float[] out = new float[n];
    assertEquals(ReductionTree.FINITE, t.sum(0, parts, out, 0, n, scratch(t), 1f));
    return out;
  }

  private static float[][] scratch(ReductionTree t) {
    return new float[Math.max(0, t.depth() - 1)][N];
  }

  private static ReductionTree.Parts own(float[][] v, int[] rows) {
    ReductionTree.Parts parts = ReductionTree.Parts.own(v.length);
    for (int q = 0; q < v.length; q++) {
      parts.vector()[q] = v[q];
      parts.rows()[q] = rows[q];
    }
    return parts;
  }

  /** One row each, but partition {@code empty} (if in range) has none. */
  private static int[] rows(int p, int empty) {
    int[] r = new int[p];
    for (int q = 0; q < p; q++) r[q] = q == empty ? 0 : 1;
    return r;
  }

  /** Values of mixed magnitudes, so that the order of additions shows in the last bits. */
  private static float[][] vectors(int p, int seed, Random rnd) {
    float[][] v = new float[p][N];
    for (int q = 0; q < p; q++) {
      for (int i = 0; i < N; i++) v[q][i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(7) - 3));
    }
    return v;
  }
}
