package dev.sparkprop.data;

import java.io.IOException;

/**
 * A checked data set: an IDX images/labels pair (file paths, row count and image size, validated
 * on the driver before Spark starts: headers and lengths, every label in range, so bad files are
 * refused with their name before any task runs), or a Parquet/CSV table ({@link #format} not
 * {@code IDX}; {@link #imagesPath} is the table's path, inspected through Spark SQL).
 */
public final class DataSpec implements java.io.Serializable {
  private static final long serialVersionUID = 5L;

  public final String imagesPath;
  public final String labelsPath;
  /** Rows in the files. */
  public final int count;
  /** Bytes per image (rows x cols), or features per row of a table. */
  public final int features;
  /** An IDX image's rows and columns (0 for a table, whose rows are flat). */
  public final int height;
  public final int width;
  /** IDX files, a Parquet or CSV table, or a Spark application's DataFrame (registered as a temporary view). */
  public final DataFormat format;
  /** For tables: whether a {@code row} column gives each row's place (else Spark's scan order). */
  public final boolean hasRowColumn;
  /**
   * Where a row's features come from: {@link Features#IMAGE} (IDX images, a binary {@code image}
   * column or CSV {@code pixel0..N}: bytes read as b / 255), {@link Features#ARRAY} (an
   * array column {@code features}), {@link Features#VECTOR} (a Spark ML vector column
   * {@code features}) or {@link Features#COLUMNS} (the numeric columns {@link #columns}).
   */
  public final Features layout;
  /** {@link Features#COLUMNS}: the feature columns' names, in the order the network reads them (else empty). */
  public final java.util.List<String> columns;

  /**
   * String labels: the class names, class k being {@code labelNames.get(k)} (sorted, from the
   * training rows); empty for integer labels 0..classes-1.
   */
  public final java.util.List<String> labelNames;
  /** Regression: the target columns, read as real numbers ({@code label}, or {@code label.columns}); empty for classes. */
  public final java.util.List<String> targetColumns;

  /** See {@link #layout}. */
  public enum Features { IMAGE, ARRAY, VECTOR, COLUMNS }

  /** One side of a {@code validation.fraction} split of the data set (its rows, numbered 0..), or null: every row. */
  public final RowSubset subset;

  private DataSpec(String imagesPath, String labelsPath, int count, int features, DataFormat format, boolean hasRowColumn,
      int height, int width, Features layout, java.util.List<String> columns) {
    this(imagesPath, labelsPath, count, features, format, hasRowColumn, height, width, null, layout, columns,
        java.util.List.of(), java.util.List.of());
  }

  private DataSpec(String imagesPath, String labelsPath, int count, int features, DataFormat format, boolean hasRowColumn,
      int height, int width, RowSubset subset, Features layout, java.util.List<String> columns,
      java.util.List<String> labelNames, java.util.List<String> targetColumns) {
    this.targetColumns = java.util.List.copyOf(targetColumns);
    this.labelNames = java.util.List.copyOf(labelNames);
    this.layout = layout;
    this.columns = java.util.List.copyOf(columns);
    this.subset = subset;
    this.height = height;
    this.width = width;
    this.imagesPath = imagesPath;
    this.labelsPath = labelsPath;
    this.count = count;
    this.features = features;
    this.format = format;
    this.hasRowColumn = hasRowColumn;
  }

  private DataSpec(String imagesPath, String labelsPath, IdxHeader images) {
    this(imagesPath, labelsPath, images.count(), images.itemSize(), DataFormat.IDX, true, images.dim(1), images.dim(2),
        Features.IMAGE, java.util.List.of());
  }

  /**
   * A Parquet or CSV table (or a DataFrame's view), inspected by the caller: its schema, row
   * count, feature count and where the features come from ({@code columns}: their names for
   * {@link Features#COLUMNS}, else empty).
   */
  public static DataSpec table(DataFormat format, String path, int count, int features, boolean hasRowColumn, Features layout,
      java.util.List<String> columns) {
    return new DataSpec(path, null, count, features, format, hasRowColumn, 0, 0, layout, columns);
  }

  /** A table with string labels, {@code labelNames} being its distinct labels in sorted order (empty: integer labels). */
  public static DataSpec table(DataFormat format, String path, int count, int features, boolean hasRowColumn, Features layout,
      java.util.List<String> columns, java.util.List<String> labelNames) {
    return new DataSpec(path, null, count, features, format, hasRowColumn, 0, 0, null, layout, columns, labelNames,
        java.util.List.of());
  }

  /** A table of regression targets: the columns {@code targets} read as real numbers. */
  public static DataSpec regressionTable(DataFormat format, String path, int count, int features, boolean hasRowColumn,
      Features layout, java.util.List<String> columns, java.util.List<String> targets) {
    return new DataSpec(path, null, count, features, format, hasRowColumn, 0, 0, null, layout, columns, java.util.List.of(),
        targets);
  }

  /** Whether the rows carry real-valued regression targets. */
  public boolean regression() {
    return !targetColumns.isEmpty();
  }

  /** This data set with its string labels read as the classes {@code names} name (the training set's). */
  public DataSpec withLabelNames(java.util.List<String> names) {
    return new DataSpec(imagesPath, labelsPath, count, features, format, hasRowColumn, height, width, subset, layout, columns,
        names, targetColumns);
  }

  /** Whether the labels are strings (mapped to classes by {@link #labelNames}). */
  public boolean stringLabels() {
    return !labelNames.isEmpty();
  }

  /** Whether the rows are byte images, which the network reads as b / 255 ({@code features.scale=auto} scales nothing more). */
  public boolean byteImages() {
    return layout == Features.IMAGE;
  }

  /** One side of a split of this data set's first {@code side.total()} rows; {@link #count} is the side's. */
  public DataSpec withSubset(RowSubset side) {
    if (subset != null) throw new IllegalStateException("already a subset: " + subset);
    if (side.total() > count) throw new IllegalArgumentException("a split of " + side.total() + " rows of " + count);
    return new DataSpec(imagesPath, labelsPath, side.size(), features, format, hasRowColumn, height, width, side, layout,
        columns, labelNames, targetColumns);
  }

  public boolean isTable() {
    return format != DataFormat.IDX;
  }

  /** Where the data is, for messages and model info. */
  public String describe() {
    String where = isTable() ? format.key() + " " + imagesPath : imagesPath + (labelsPath == null ? "" : " + " + labelsPath);
    if (layout == Features.COLUMNS) {
      where += " (" + columns.size() + " feature columns: " + (columns.size() <= 6 ? String.join(", ", columns)
          : String.join(", ", columns.subList(0, 4)) + ", ..., " + columns.get(columns.size() - 1)) + ")";
    }
    return subset == null ? where : where + ", " + subset;
  }

  /** Reads both headers and the labels, and checks the pair against each other. */
  public static DataSpec check(String imagesPath, String labelsPath, int numClasses) throws IOException {
    IdxHeader images = IdxFiles.header(imagesPath, IdxHeader.IMAGES_MAGIC);
    int[] labels = IdxFiles.readLabels(labelsPath, numClasses);
    checkPair(images, labelsPath, labels.length, images.itemSize());
    IdxFiles.verifyWhole(imagesPath, IdxHeader.IMAGES_MAGIC);
    return new DataSpec(imagesPath, labelsPath, images);
  }

  /** Images without labels (for prediction). */
  public static DataSpec imagesOnly(String imagesPath) throws IOException {
    IdxHeader images = IdxFiles.header(imagesPath, IdxHeader.IMAGES_MAGIC);
    return new DataSpec(imagesPath, null, images);
  }

  static void checkPair(IdxHeader images, String labelsPath, int labelCount, int features) {
    if (images.count() != labelCount) {
      throw new BadInputException(images.file() + " holds " + images.count() + " images but "
          + labelsPath + " holds " + labelCount + " labels; expected the same count");
    }
    if (images.itemSize() != features) {
      throw new BadInputException(images.file() + ": images are " + images.dim(1) + "x" + images.dim(2)
          + " = " + images.itemSize() + " pixels, expected " + features);
    }
  }
}
