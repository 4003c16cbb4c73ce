package dev.sparkprop.data;

import java.io.IOException;

/**
 * Builds one partition's {@link Shard} by streaming an images/labels IDX pair and keeping the
 * rows the partition owns. Runs inside a Spark task, so a lost cached shard is rebuilt from the
 * files (the RDD's lineage) exactly as it was.
 */
public final class ShardReader {
  private ShardReader() {}

  /** Which rows a partition keeps, and where they go in its block. Shipped inside tasks. */
  public interface Assignment extends java.io.Serializable {
    /** Rows in partition p. */
    int rows(int p);

    /** Local index of global row g in partition p, or -1 if p does not hold it. */
    int localIndex(int p, int g);

    /** The partition that holds global row g, among {@code partitions}. */
    default int owner(int g, int partitions) {
      for (int p = 0; p < partitions; p++) {
        if (localIndex(p, g) >= 0) return p;
      }
      throw new IllegalArgumentException("no partition holds row " + g);
    }
  }

  /** Training rows: each partition holds its chunk of every global batch ({@link BatchLayout}). */
  public static Assignment batches(BatchLayout layout) {
    return new Batches(layout);
  }

  /** Evaluation rows: partition p holds the contiguous range {@code [p N / P, (p+1) N / P)}. */
  public static Assignment ranges(int rows, int partitions) {
    return new Ranges(rows, partitions);
  }

  private static final class Batches implements Assignment {
    private static final long serialVersionUID = 1L;
    private final BatchLayout layout;

    Batches(BatchLayout layout) {
      this.layout = layout;
    }

    @Override
    public int rows(int p) {
      int n = 0;
      for (int k = 0; k < layout.numBatches(); k++) n += layout.chunkRows(k, p);
      return n;
    }

    @Override
    public int localIndex(int p, int g) {
      if (layout.owner(g) != p) return -1;
      int k = g / layout.batchSize();
      // every chunk before the last batch has the full-batch chunk size of p
      int full = k == 0 ? 0 : layout.chunkRows(0, p);
      return k * full + (g - k * layout.batchSize() - layout.chunkBegin(k, p));
    }
  }

  private static final class Ranges implements Assignment {
    private static final long serialVersionUID = 1L;
    private final int total;
    private final int partitions;

    Ranges(int total, int partitions) {
      this.total = total;
      this.partitions = partitions;
    }

    private long begin(int p) {
      return (long) p * total / partitions;
    }

    @Override
    public int rows(int p) {
      return (int) (begin(p + 1) - begin(p));
    }

    @Override
    public int localIndex(int p, int g) {
      return g >= begin(p) && g < begin(p + 1) ? (int) (g - begin(p)) : -1;
    }
  }

  /**
   * @param labelsPath the labels file, or null for unlabelled images (labels read as 0)
   * @param usedRows the first {@code usedRows} rows of the files form the data set
   * @param features expected bytes per image (rows x cols)
   */
  public static Shard read(String imagesPath, String labelsPath, int numClasses, int usedRows,
      int features, int partition, Assignment assignment) throws IOException {
    return read(imagesPath, labelsPath, numClasses, usedRows, features, partition, assignment, null);
  }

  /**
   * @param subset one side of a split of the files' rows (the data set is that side's rows, in
   *     file order, numbered 0..), or null for every row
   */
  public static Shard read(String imagesPath, String labelsPath, int numClasses, int usedRows,
      int features, int partition, Assignment assignment, RowSubset subset) throws IOException {
    // Without a labels file (prediction) every label is 0.
    int[] allLabels = labelsPath == null ? null : IdxFiles.readLabels(labelsPath, numClasses);
    int n = assignment.rows(partition);
    byte[] pixels = new byte[n * features];
    int[] labels = new int[n];
    int[] globalRows = new int[n];
    try (IdxFiles.Opened img = IdxFiles.open(imagesPath, IdxHeader.IMAGES_MAGIC)) {
      DataSpec.checkPair(img.header, labelsPath, allLabels == null ? img.header.count() : allLabels.length, features);
      int fileRows = subset == null ? usedRows : subset.total();
      if (fileRows > img.header.count()) {
        throw new BadInputException(imagesPath + ": " + fileRows + " rows asked for, the file holds "
            + img.header.count());
      }
      byte[] skip = new byte[features];
      for (int g = 0; g < fileRows; g++) {
        int q = subset == null ? g : subset.position(g); // the row's number in the data set
        int local = q < 0 || q >= usedRows ? -1 : assignment.localIndex(partition, q);
        if (local < 0) {
          IdxFiles.readFully(img, skip, 0, features, g);
        } else {
          IdxFiles.readFully(img, pixels, local * features, features, g);
          labels[local] = allLabels == null ? 0 : allLabels[g];
          globalRows[local] = q;
        }
      }
    }
    return new Shard(partition, features, pixels, labels, globalRows);
  }
}
