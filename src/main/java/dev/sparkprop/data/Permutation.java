package dev.sparkprop.data;

import java.util.SplittableRandom;

/** The reproducible per-epoch shuffle: a permutation of the rows drawn from (seed, epoch). */
public final class Permutation {
  private Permutation() {}

  /** Fisher-Yates over {@code 0..n-1}; the same (n, seed, epoch) gives the same array on any JVM. */
  public static int[] of(int n, long seed, int epoch) {
    SplittableRandom rnd = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (epoch + 1L)));
    int[] perm = new int[n];
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return perm;
  }
}
