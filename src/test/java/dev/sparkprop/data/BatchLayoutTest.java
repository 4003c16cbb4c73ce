package dev.sparkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The row layout that makes P partitions see exactly the notebook's batches. */
class BatchLayoutTest {
  @Test
  void everyRowBelongsToExactlyOnePartitionAndChunksRebuildEachBatch() {
    int[][] cases = {{1000, 128, 1}, {1000, 128, 3}, {60000, 128, 4}, {97, 10, 7}, {5, 128, 3}, {130, 128, 4}};
    for (int[] c : cases) {
      BatchLayout layout = new BatchLayout(c[0], c[1], c[2]);
      int[] owner = new int[c[0]];
      int[] seen = new int[c[0]];
      ShardReader.Assignment a = ShardReader.batches(layout);
      int total = 0;
      for (int p = 0; p < c[2]; p++) {
        int rows = a.rows(p);
        total += rows;
        boolean[] used = new boolean[rows];
        int[] starts = layout.chunkStarts(p);
        for (int g = 0; g < c[0]; g++) {
          int local = a.localIndex(p, g);
          if (local < 0) continue;
          seen[g]++;
          owner[g] = p;
          assertFalse(used[local], "local index used twice");
          used[local] = true;
          int k = g / c[1];
          assertTrue(local >= starts[k] && local < starts[k + 1], "row " + g + " lies in its batch's chunk");
        }
      }
      assertEquals(c[0], total, Arrays.toString(c));
      for (int g = 0; g < c[0]; g++) {
        assertEquals(1, seen[g], "row " + g + " in " + Arrays.toString(c));
        assertEquals(owner[g], layout.owner(g));
      }
      // chunk p of batch k is contiguous and the chunks are in partition order
      for (int k = 0; k < layout.numBatches(); k++) {
        int g = k * c[1];
        for (int p = 0; p < c[2]; p++) {
          for (int i = 0; i < layout.chunkRows(k, p); i++) assertEquals(p, layout.owner(g++));
        }
        assertEquals(Math.min(c[0], (k + 1) * c[1]), g);
      }
    }
  }

  @Test
  void sixtyThousandRowsGiveTheNotebooksBatches() {
    BatchLayout layout = new BatchLayout(60000, 128, 2);
    assertEquals(469, layout.numBatches());
    assertEquals(96, layout.batchRows(468));
    assertEquals(48, layout.chunkRows(468, 1));
  }

  @Test
  void permutationIsReproduciblePerSeedAndEpoch() {
    int[] a = Permutation.of(1000, 7, 0);
    assertArrayEquals(a, Permutation.of(1000, 7, 0));
    assertFalse(Arrays.equals(a, Permutation.of(1000, 7, 1)));
    assertFalse(Arrays.equals(a, Permutation.of(1000, 8, 0)));
    int[] sorted = a.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < 1000; i++) assertEquals(i, sorted[i]);
  }

  @Test
  void shuffledBatchesOfAllShardsPartitionEachPermutedBatch() {
    BatchLayout layout = new BatchLayout(500, 64, 3);
    int[] perm = Permutation.of(500, 3, 2);
    int[][] batchRows = new int[layout.numBatches()][];
    for (int k = 0; k < layout.numBatches(); k++) {
      batchRows[k] = Arrays.copyOfRange(perm, k * 64, Math.min(500, (k + 1) * 64));
      Arrays.sort(batchRows[k]);
    }
    int[][] got = new int[layout.numBatches()][0];
    for (int p = 0; p < 3; p++) {
      ShardReader.Assignment a = ShardReader.batches(layout);
      int n = a.rows(p);
      int[] global = new int[n];
      for (int g = 0; g < 500; g++) {
        int l = a.localIndex(p, g);
        if (l >= 0) global[l] = g;
      }
      Shard s = new Shard(p, 1, new byte[n], new int[n], global);
      Shard.ShuffledBatches sb = s.shuffled(layout, 3, 2);
      for (int k = 0; k < layout.numBatches(); k++) {
        for (int i = sb.starts[k]; i < sb.starts[k + 1]; i++) {
          got[k] = Arrays.copyOf(got[k], got[k].length + 1);
          got[k][got[k].length - 1] = global[sb.order[i]];
        }
      }
    }
    for (int k = 0; k < layout.numBatches(); k++) {
      Arrays.sort(got[k]);
      assertArrayEquals(batchRows[k], got[k], "batch " + k);
    }
  }
}
