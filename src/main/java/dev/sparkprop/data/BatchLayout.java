package dev.sparkprop.data;

import java.io.Serializable;

/**
 * Where each row of a training set lives when N rows are trained in global batches of B rows on
 * P partitions.
 *
 * <p>Batch k holds rows {@code [kB, min(N, (k+1)B))}, in file order, like the notebook's
 * BatchGenerator. Each batch is cut into P contiguous chunks, chunk p being rows
 * {@code kB + floor(p b_k / P) .. kB + floor((p+1) b_k / P)} of a batch of {@code b_k} rows, and
 * partition p holds its chunk of every batch, one after the other. So with shuffling off, step k
 * on partition p is one contiguous slice of its block, and the P slices together are exactly
 * batch k, for any P.
 */
public final class BatchLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int rows;
  private final int batchSize;
  private final int partitions;

  public BatchLayout(int rows, int batchSize, int partitions) {
    if (rows <= 0) throw new IllegalArgumentException("no rows to train on");
    if (batchSize <= 0) throw new IllegalArgumentException("batch.size must be positive, got " + batchSize);
    if (partitions <= 0) throw new IllegalArgumentException("partitions must be positive, got " + partitions);
    this.rows = rows;
    this.batchSize = batchSize;
    this.partitions = partitions;
  }

  public int rows() {
    return rows;
  }

  public int batchSize() {
    return batchSize;
  }

  public int partitions() {
    return partitions;
  }

  public int numBatches() {
    return (int) ((rows + (long) batchSize - 1) / batchSize);
  }

  /** Rows in batch k (the last one may be short). */
  public int batchRows(int k) {
    return (int) Math.min(batchSize, rows - (long) k * batchSize);
  }

  /** First position within batch k of partition p's chunk. */
  public int chunkBegin(int k, int p) {
    return (int) ((long) p * batchRows(k) / partitions);
  }

  /** Rows of batch k held by partition p. */
  public int chunkRows(int k, int p) {
    return chunkBegin(k, p + 1) - chunkBegin(k, p);
  }

  /** The partition that holds global row g. */
  public int owner(int g) {
    int k = g / batchSize;
    int i = g - k * batchSize;
    long b = batchRows(k);
    // the largest p with floor(p b / P) <= i
    int p = (int) (((long) i * partitions + partitions - 1) / b);
    while (p > 0 && chunkBegin(k, p) > i) p--;
    while (p + 1 < partitions && chunkBegin(k, p + 1) <= i) p++;
    return p;
  }

  /**
   * Local index of every batch's chunk in partition p's block.
   *
   * @return {@code numBatches() + 1} offsets; chunk k is {@code [starts[k], starts[k+1])}
   */
  public int[] chunkStarts(int p) {
    int nb = numBatches();
    int[] starts = new int[nb + 1];
    for (int k = 0; k < nb; k++) starts[k + 1] = starts[k] + chunkRows(k, p);
    return starts;
  }
}
