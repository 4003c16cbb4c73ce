package dev.sparkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import org.junit.jupiter.api.Test;

/** The validation.fraction split: disjoint sides that cover the rows, drawn from the seed, read from IDX files. */
class RowSubsetTest {
  @Test
  void theSidesAreDisjointCoverTheRowsAndNumberThemInOrder() {
    RowSubset[] s = RowSubset.split(1000, 0.15, 7);
    assertEquals(850, s[0].size());
    assertEquals(150, s[1].size());
    int[] next = new int[2];
    for (int g = 0; g < 1000; g++) {
      int a = s[0].position(g);
      int b = s[1].position(g);
      assertTrue((a >= 0) != (b >= 0), "row " + g + " is on exactly one side");
      if (a >= 0) assertEquals(next[0]++, a, "training rows numbered in file order");
      if (b >= 0) assertEquals(next[1]++, b, "validation rows numbered in file order");
    }
    assertEquals(-1, s[0].position(1000));
    int[] again = new int[1000];
    int[] other = new int[1000];
    for (int g = 0; g < 1000; g++) {
      again[g] = RowSubset.split(1000, 0.15, 7)[1].position(g);
      other[g] = RowSubset.split(1000, 0.15, 8)[1].position(g);
    }
    int[] first = new int[1000];
    for (int g = 0; g < 1000; g++) first[g] = s[1].position(g);
    assertArrayEquals(first, again, "the same seed, the same rows");
    assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(other), "another seed, other rows");
    assertThrows(IllegalArgumentException.class, () -> RowSubset.split(10, 0.01, 1), "no validation row");
    assertThrows(IllegalArgumentException.class, () -> RowSubset.split(10, 1.0, 1));
  }

  @Test
  void aShardOfOneSideHoldsThatSidesRowsOfTheFile() throws Exception {
    DataSpec train = TestData.mnist("train");
    RowSubset side = RowSubset.split(500, 0.2, 3)[1];
    Shard all = ShardReader.read(train.imagesPath, train.labelsPath, 10, 500, train.features, 0, ShardReader.ranges(500, 1));
    Shard v = ShardReader.read(train.imagesPath, train.labelsPath, 10, side.size(), train.features, 0,
        ShardReader.ranges(side.size(), 1), side);
    assertEquals(100, v.rows());
    float[] a = new float[train.features];
    float[] b = new float[train.features];
    for (int g = 0; g < 500; g++) {
      int q = side.position(g);
      if (q < 0) continue;
      all.copyRows(g, 1, a);
      v.copyRows(q, 1, b);
      assertArrayEquals(a, b, "row " + g + " of the file is row " + q + " of the side");
      assertEquals(all.labels()[g], v.labels()[q]);
      assertEquals(q, v.globalRow(q));
    }
  }
}
