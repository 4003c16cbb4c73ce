package dev.sparkprop.data;

import java.io.Serializable;

/**
 * A reproducible split of a data set's first {@code total} rows into training rows and held-out
 * validation rows ({@code validation.fraction}): the held-out rows are the first
 * {@code round(fraction total)} of a permutation drawn from the seed (a stream of its own, apart
 * from the training shuffles). Each side numbers its rows 0.. in the data set's order, so a side
 * is a data set of its own for the batch layout, the shuffle and the shards; {@link #position}
 * maps a row of the files to its number on this side. Shipped inside tasks; the map is built
 * there on first use.
 */
public final class RowSubset implements Serializable {
  private static final long serialVersionUID = 1L;
  /** Mixed into the seed so that the split is not the first epoch's shuffle. */
  private static final long SALT = 0x76616c6964617465L;

  private final int total;
  private final int heldOut;
  private final long seed;
  private final boolean validationSide;
  private transient int[] positions;

  private RowSubset(int total, int heldOut, long seed, boolean validationSide) {
    this.total = total;
    this.heldOut = heldOut;
    this.seed = seed;
    this.validationSide = validationSide;
  }

  /**
   * The two sides of the split: {training, validation}.
   *
   * @throws IllegalArgumentException a fraction outside (0, 1) or one that leaves a side empty
   */
  public static RowSubset[] split(int total, double fraction, long seed) {
    if (!(fraction > 0 && fraction < 1)) {
      throw new IllegalArgumentException("validation.fraction: expected a number between 0 and 1, got " + fraction);
    }
    int k = (int) Math.round(fraction * total);
    if (k == 0 || k == total) {
      throw new IllegalArgumentException("validation.fraction: " + fraction + " of " + total + " rows leaves "
          + (k == 0 ? "no validation row" : "no training row"));
    }
    return new RowSubset[] {new RowSubset(total, k, seed, false), new RowSubset(total, k, seed, true)};
  }

  /** Rows of the data set the split is drawn from. */
  public int total() {
    return total;
  }

  /** Rows on this side. */
  public int size() {
    return validationSide ? heldOut : total - heldOut;
  }

  public boolean isValidation() {
    return validationSide;
  }

  /** This side's number of the data set's row {@code g}, or -1 when the row is on the other side. */
  public int position(int g) {
    if (g < 0 || g >= total) return -1;
    return positions()[g];
  }

  private synchronized int[] positions() {
    if (positions == null) {
      boolean[] held = new boolean[total];
      int[] perm = Permutation.of(total, seed ^ SALT, 0);
      for (int i = 0; i < heldOut; i++) held[perm[i]] = true;
      int[] p = new int[total];
      int next = 0;
      for (int g = 0; g < total; g++) p[g] = held[g] == validationSide ? next++ : -1;
      positions = p;
    }
    return positions;
  }

  @Override
  public String toString() {
    return (validationSide ? "validation: " : "training: ") + size() + " of " + total + " rows (validation.fraction, seed "
        + seed + ")";
  }
}
