package dev.sparkprop.table;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Training and test data from tables, read with Spark's DataFrameReader from any Hadoop
 * FileSystem URI, checked row by row and packed into the same cached {@link Shard}s as IDX data.
 *
 * <p>Layouts (README, "Data formats"):
 * <ul>
 *   <li>Parquet: an integer {@code label} column and either {@code image} (binary, one byte 0..255
 *       per pixel) or {@code features} (array of float or double, values in [0, 1]).
 *   <li>CSV with a header: {@code label,pixel0,...,pixelN} with integer pixels 0..255 (Kaggle's
 *       MNIST layout).
 *   <li>Both: an optional integer {@code row} column numbering the rows 0..N-1 gives the data set
 *       its order (what {@code shuffle=false}, {@code train.limit} and the batch layout use);
 *       without it the order is Spark's scan order of the files, the same for the same files.
 * </ul>
 * Feature values that are all of the form b / 255 are cached as bytes, so a table made from IDX
 * files trains to exactly the parameters of the IDX files; other values are cached as floats.
 */
public final class TableInput {
  private TableInput() {}

  private static final Pattern PIXEL = Pattern.compile("pixel(\\d+)");
  private static final String CORRUPT = "_corrupt_record";

  /** Reads the table's schema and row count; refuses a missing or mistyped column by name. */
  public static DataSpec inspect(SparkSession spark, DataFormat format, String path, String key) throws IOException {
    return inspect(spark, format, path, key, true, List.of());
  }

  /**
   * {@code needLabels} false (prediction): a table without a {@code label} column is read with
   * every label 0.
   */
  public static DataSpec inspect(SparkSession spark, DataFormat format, String path, String key, boolean needLabels)
      throws IOException {
    return inspect(spark, format, path, key, needLabels, List.of());
  }

  /**
   * @param featureColumns {@code features.columns}: the feature columns by name, or empty for the
   *     table's own layout (README, "Data formats")
   */
  public static DataSpec inspect(SparkSession spark, DataFormat format, String path, String key, boolean needLabels,
      List<String> featureColumns) throws IOException {
    return inspect(spark, format, path, key, needLabels, featureColumns, null);
  }

  /**
   * @param targets regression ({@code loss=mse}): the target columns ({@code label.columns}, or
   *     empty for {@code label}), read as real numbers; null for classes
   */
  public static DataSpec inspect(SparkSession spark, DataFormat format, String path, String key, boolean needLabels,
      List<String> featureColumns, List<String> targets) throws IOException {
    String qualified = qualify(path);
    Dataset<Row> df = raw(spark, format, qualified);
    StructType schema = df.schema();
    List<String> names = new ArrayList<>(Arrays.asList(df.columns()));
    names.remove(CORRUPT);
    String layout = format == DataFormat.PARQUET
        ? "a Parquet table needs an integer 'label' column and its features: 'image' (binary), 'features' (an array or "
            + "a Spark ML vector) or numeric columns (all of them, or those features.columns names)"
        : "a CSV table needs a header line naming 'label' and numeric feature columns ('label,pixel0,...,pixelN' for "
            + "images; features.columns chooses some)";
    List<String> targetColumns = targets == null ? List.of() : targets.isEmpty() ? List.of("label") : targets;
    for (String t : targetColumns) {
      if (!names.contains(t) && needLabels) {
        throw new BadInputException(key + ": " + path + " has no column '" + t + "' for the regression target (columns: "
            + preview(names) + "); name the targets with label.columns");
      }
      if (names.contains(t) && format != DataFormat.CSV && !numeric(type(schema, t))) {
        throw new BadInputException(key + ": " + path + ": the regression target '" + t + "' is "
            + type(schema, t).simpleString() + ", expected a numeric type");
      }
      if (featureColumns.contains(t)) throw new BadInputException("features.columns: '" + t + "' is a regression target");
    }
    boolean labelled = names.contains("label");
    if (!labelled && needLabels && targets == null) {
      throw new BadInputException(key + ": " + path + " has no 'label' column (columns: " + preview(names) + "); " + layout);
    }
    List<String> labelNames = labelled && targets == null ? labelNames(df, format, "label", key + ": " + path) : List.of();
    if (format == DataFormat.PARQUET && names.contains("row")) requireInteger(schema, "row", path);
    List<String> candidates = new ArrayList<>(names);
    candidates.removeAll(targetColumns); // a target is never a feature
    if (targets != null) candidates.remove("label");
    Picked f = features(df, format, candidates, path, key, featureColumns, layout);
    long rows = df.count();
    if (rows == 0) throw new BadInputException(key + ": " + path + " holds no rows");
    if (rows > Integer.MAX_VALUE) throw new BadInputException(path + ": " + rows + " rows; at most " + Integer.MAX_VALUE);
    boolean hasRow = names.contains("row");
    if (hasRow) checkRowColumn(df, rows, path);
    if (targets != null) {
      return DataSpec.regressionTable(format, qualified, (int) rows, f.width, hasRow, f.layout, f.columns, targetColumns);
    }
    return DataSpec.table(format, qualified, (int) rows, f.width, hasRow, f.layout, f.columns, labelNames);
  }

  /** The most distinct string labels a table may hold: more is not a column of classes. */
  public static final int MAX_LABELS = 10_000;

  /**
   * A label column's class names when it holds strings: its distinct values, sorted (one pass);
   * empty when it holds integers (an integer SQL type, or a CSV whose first rows' labels are all
   * integers). Any other type is refused.
   */
  static List<String> labelNames(Dataset<Row> df, DataFormat format, String column, String where) {
    Column c = col("`" + column.replace("`", "``") + "`");
    if (format == DataFormat.CSV) {
      boolean integers = true;
      for (Row r : df.select(c).where(c.isNotNull()).limit(SAMPLE_ROWS).collectAsList()) {
        integers &= r.getString(0).trim().matches("[-+]?[0-9]{1,18}");
      }
      if (integers) return List.of();
      c = org.apache.spark.sql.functions.trim(c);
    } else {
      DataType t = type(df.schema(), column);
      if (t instanceof IntegerType || t instanceof LongType || t instanceof ShortType || t instanceof ByteType) return List.of();
      if (!(t instanceof org.apache.spark.sql.types.StringType)) {
        throw new BadInputException(where + ": column '" + column + "' is " + t.simpleString()
            + ", expected integer classes or string labels");
      }
    }
    List<Row> distinct = df.select(c.as("l")).where(col("l").isNotNull()).distinct().limit(MAX_LABELS + 1).collectAsList();
    if (distinct.size() > MAX_LABELS) {
      throw new BadInputException(where + ": column '" + column + "' holds more than " + MAX_LABELS
          + " distinct labels; a label column names classes (a regression target is not a class)");
    }
    List<String> out = new ArrayList<>();
    for (Row r : distinct) out.add(r.getString(0));
    java.util.Collections.sort(out);
    return out;
  }

  /** Where a table's features are and how many a row has. */
  private record Picked(DataSpec.Features layout, int width, List<String> columns) {}

  /** Rows a CSV table's first lines give to tell its numeric columns from the others. */
  private static final int SAMPLE_ROWS = 100;

  private static Picked features(Dataset<Row> df, DataFormat format, List<String> names, String path, String key,
      List<String> featureColumns, String layout) {
    StructType schema = df.schema();
    if (!featureColumns.isEmpty()) {
      for (String c : featureColumns) {
        if (!names.contains(c)) {
          throw new BadInputException("features.columns: " + path + " has no column '" + c + "' (columns: " + preview(names) + ")");
        }
        if (c.equals("label") || c.equals("row")) {
          throw new BadInputException("features.columns: '" + c + "' is the table's " + c + " column, not a feature");
        }
        if (format != DataFormat.CSV && !numeric(type(schema, c))) {
          throw new BadInputException("features.columns: " + path + ": column '" + c + "' is " + type(schema, c).simpleString()
              + ", expected a numeric type");
        }
      }
      return new Picked(DataSpec.Features.COLUMNS, featureColumns.size(), featureColumns);
    }
    if (format != DataFormat.CSV && names.contains("image")) {
      if (!(type(schema, "image") instanceof BinaryType)) {
        throw new BadInputException(path + ": column 'image' is " + type(schema, "image").simpleString()
            + ", expected binary (one byte 0..255 per pixel)");
      }
      return new Picked(DataSpec.Features.IMAGE, firstLength(df, "length(image)", "image", path), List.of());
    }
    if (format != DataFormat.CSV && names.contains("features")) {
      DataType t = type(schema, "features");
      if (VectorColumn.is(t)) return new Picked(DataSpec.Features.VECTOR, firstVectorSize(df, "features", t, path), List.of());
      if (!(t instanceof ArrayType a) || !(a.elementType() instanceof FloatType || a.elementType() instanceof DoubleType)) {
        throw new BadInputException(path + ": column 'features' is " + t.simpleString()
            + ", expected array<float> (or array<double>) or a Spark ML vector");
      }
      return new Picked(DataSpec.Features.ARRAY, firstLength(df, "size(features)", "features", path), List.of());
    }
    if (format == DataFormat.CSV) {
      TreeSet<Integer> pixels = new TreeSet<>();
      for (String n : names) {
        Matcher m = PIXEL.matcher(n);
        if (m.matches()) pixels.add(Integer.parseInt(m.group(1)));
      }
      if (!pixels.isEmpty()) {
        for (int i = 0; i <= pixels.last(); i++) {
          if (!pixels.contains(i)) {
            throw new BadInputException(path + ": no column 'pixel" + i + "' (the header has pixel0..pixel" + pixels.last()
                + " with gaps); " + layout);
          }
        }
        return new Picked(DataSpec.Features.IMAGE, pixels.size(), List.of());
      }
    }
    // every numeric column but the label and the row number
    List<String> picked = new ArrayList<>();
    List<String> left = new ArrayList<>();
    List<Row> sample = format == DataFormat.CSV ? df.drop(CORRUPT).limit(SAMPLE_ROWS).collectAsList() : List.of();
    for (String n : names) {
      if (n.equals("label") || n.equals("row")) continue;
      boolean number = format == DataFormat.CSV ? numbers(sample, n) : numeric(type(schema, n));
      (number ? picked : left).add(n);
    }
    if (picked.isEmpty()) {
      throw new BadInputException(key + ": " + path + " has no numeric feature columns (columns: " + preview(names) + "); "
          + layout);
    }
    return new Picked(DataSpec.Features.COLUMNS, picked.size(), picked);
  }

  /**
   * Whether column {@code name} of a CSV table holds numbers: some value in {@code sample} is one.
   * A column of text only (an id, a name) is left out; one that mixes numbers and text is a
   * feature column whose text is then refused by its row.
   */
  private static boolean numbers(List<Row> sample, String name) {
    for (Row r : sample) {
      Object v = r.get(r.fieldIndex(name));
      if (v != null && parseNumber(v.toString()) != null) return true;
    }
    return false;
  }

  /** A CSV value as a number ({@code 12}, {@code -1.5e-3}), or null when it is not one. */
  static Double parseNumber(String s) {
    String t = s.trim();
    if (t.isEmpty() || !NUMBER.matcher(t).matches()) return null;
    return Double.parseDouble(t);
  }

  private static final Pattern NUMBER = Pattern.compile("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");

  private static boolean numeric(DataType t) {
    return t instanceof org.apache.spark.sql.types.NumericType;
  }

  private static int firstVectorSize(Dataset<Row> df, String column, DataType t, String path) {
    List<Row> first = df.where(col(column).isNotNull()).select(col(column)).limit(1).collectAsList();
    if (first.isEmpty()) throw new BadInputException(path + ": every '" + column + "' value is null (or the table is empty)");
    return VectorColumn.size(first.get(0).get(0), t);
  }

  /**
   * A Spark ML vector column's value as {@code width} floats at {@code out[at]} (see {@link VectorColumn}), for the
   * Spark application API's readers.
   *
   * @throws BadInputException naming {@code where} and {@code column}: another size, a bad index, a value not finite
   */
  public static void readVector(Object value, DataType type, int width, float[] out, int at, String where, String column) {
    VectorColumn.read(value, type, width, out, at, where, column);
  }

  /** Whether {@code type} is a Spark ML vector column (the user-defined type or its storage struct). */
  public static boolean isVector(DataType type) {
    return VectorColumn.is(type);
  }

  private static void checkRowColumn(Dataset<Row> df, long rows, String path) {
    Row a = df.agg(min(col("row").cast("long")), max(col("row").cast("long")), countDistinct(col("row").cast("long")),
        count(col("row").cast("long"))).first();
    boolean ok = !a.isNullAt(0) && a.getLong(0) == 0 && a.getLong(1) == rows - 1 && a.getLong(2) == rows
        && a.getLong(3) == rows;
    if (!ok) {
      throw new BadInputException(path + ": column 'row' must number the " + rows + " rows 0.." + (rows - 1)
          + " once each; found min " + a.get(0) + ", max " + a.get(1) + ", " + a.get(2) + " distinct values, "
          + (rows - a.getLong(3)) + " null or non-integer");
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger VIEWS = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * A DataFrame of a Spark application as a data set: an integer label column and a features
   * column (binary, one byte 0..255 per pixel; an array of float or double; or a Spark ML vector; null: the
   * one of {@code image} and {@code features} that it has), optionally an integer {@code row}
   * column that numbers the rows. The columns are checked here, by the names the caller gave;
   * the rows on the executors, as a table's are. The DataFrame is registered as a temporary view
   * named after {@code name} ("training DataFrame" becomes {@code training_DataFrame_N}), which
   * messages about its rows name.
   */
  public static DataSpec inspect(Dataset<Row> df, String name, String labelCol, String featuresCol) {
    return inspect(df, name, labelCol, featuresCol, false);
  }

  /**
   * {@code regression} ({@code loss=mse}): the label column is a numeric regression target,
   * read as a real number (the view names it {@code label}).
   */
  public static DataSpec inspect(Dataset<Row> df, String name, String labelCol, String featuresCol, boolean regression) {
    return inspect(df, name, labelCol, featuresCol, regression, List.of());
  }

  /**
   * {@code featureColumns} ({@code features.columns}): the features are these numeric columns, in
   * this order; also, when empty, every numeric column but the label and {@code row} if the
   * DataFrame has no features column ({@code image}, {@code features} or {@code featuresCol}).
   */
  public static DataSpec inspect(Dataset<Row> df, String name, String labelCol, String featuresCol, boolean regression,
      List<String> featureColumns) {
    StructType schema = df.schema();
    List<String> names = Arrays.asList(df.columns());
    if (!names.contains(labelCol)) {
      throw new BadInputException(name + " has no column '" + labelCol + "' for the labels (columns: " + preview(names)
          + "); name it with setLabelCol");
    }
    if (regression && !numeric(type(schema, labelCol))) {
      throw new BadInputException(name + ": column '" + labelCol + "' is " + type(schema, labelCol).simpleString()
          + ", expected a numeric regression target (loss=mse)");
    }
    List<String> labelNames = regression ? List.of() : labelNames(df, DataFormat.DATAFRAME, labelCol, name);
    boolean noFeaturesColumn = featuresCol == null && !names.contains("image") && !names.contains("features");
    if (!featureColumns.isEmpty() || noFeaturesColumn) {
      return namedColumns(df, name, labelCol, featureColumns, regression, labelNames);
    }
    String features = featuresCol;
    if (features == null) {
      features = names.contains("image") ? "image" : names.contains("features") ? "features" : null;
      if (features == null) {
        throw new BadInputException(name + " has neither an 'image' nor a 'features' column (columns: " + preview(names)
            + "); name the features column with setFeaturesCol");
      }
    } else if (!names.contains(features)) {
      throw new BadInputException(name + " has no column '" + features + "' for the features (columns: " + preview(names) + ")");
    }
    DataType t = type(schema, features);
    boolean binary = t instanceof BinaryType;
    boolean vector = VectorColumn.is(t);
    if (!binary && !vector && !(t instanceof ArrayType a && (a.elementType() instanceof FloatType || a.elementType() instanceof DoubleType))) {
      throw new BadInputException(name + ": column '" + features + "' is " + t.simpleString()
          + ", expected binary (one byte 0..255 per pixel), array<float> (or array<double>) or a Spark ML vector");
    }
    boolean hasRow = names.contains("row") && !labelCol.equals("row") && !features.equals("row");
    if (hasRow) requireInteger(schema, "row", name);
    List<Column> cols = new ArrayList<>(List.of(col(labelCol).as("label"), col(features).as(binary ? "image" : "features")));
    if (hasRow) cols.add(col("row"));
    Dataset<Row> picked = df.select(cols.toArray(new Column[0]));
    int width = vector ? firstVectorSize(picked, "features", t, name)
        : firstLength(picked, binary ? "length(image)" : "size(features)", binary ? "image" : "features", name);
    long rows = picked.count();
    if (rows == 0) throw new BadInputException(name + " holds no rows");
    if (rows > Integer.MAX_VALUE) throw new BadInputException(name + ": " + rows + " rows; at most " + Integer.MAX_VALUE);
    if (hasRow) checkRowColumn(picked, rows, name);
    DataSpec.Features layout = binary ? DataSpec.Features.IMAGE : vector ? DataSpec.Features.VECTOR : DataSpec.Features.ARRAY;
    String view = name.replace(' ', '_') + "_" + VIEWS.incrementAndGet();
    picked.createOrReplaceTempView(view);
    if (regression) {
      return DataSpec.regressionTable(DataFormat.DATAFRAME, view, (int) rows, width, hasRow, layout, List.of(),
          List.of("label"));
    }
    return DataSpec.table(DataFormat.DATAFRAME, view, (int) rows, width, hasRow, layout, List.of(), labelNames);
  }

  /** A DataFrame whose features are named numeric columns (those given, or every numeric one but the label and row). */
  private static DataSpec namedColumns(Dataset<Row> df, String name, String labelCol, List<String> given, boolean regression,
      List<String> labelNames) {
    StructType schema = df.schema();
    List<String> names = Arrays.asList(df.columns());
    List<String> cols = new ArrayList<>(given);
    if (cols.isEmpty()) {
      for (String n : names) if (!n.equals(labelCol) && !n.equals("row") && numeric(type(schema, n))) cols.add(n);
      if (cols.isEmpty()) {
        throw new BadInputException(name + " has no features column ('image', 'features') and no numeric columns but its "
            + "label (columns: " + preview(names) + "); name the features with setFeaturesCol or setFeaturesCols");
      }
    }
    for (String c : cols) {
      if (!names.contains(c)) {
        throw new BadInputException("features.columns: " + name + " has no column '" + c + "' (columns: " + preview(names) + ")");
      }
      if (c.equals(labelCol) || c.equals("row")) {
        throw new BadInputException("features.columns: '" + c + "' is the " + (c.equals("row") ? "row" : "label") + " column");
      }
      if (!numeric(type(schema, c))) {
        throw new BadInputException("features.columns: " + name + ": column '" + c + "' is " + type(schema, c).simpleString()
            + ", expected a numeric type");
      }
    }
    boolean hasRow = names.contains("row") && !labelCol.equals("row");
    if (hasRow) requireInteger(schema, "row", name);
    List<Column> picked = new ArrayList<>(List.of(col(labelCol).as("label")));
    for (String c : cols) picked.add(col("`" + c.replace("`", "``") + "`"));
    if (hasRow) picked.add(col("row"));
    Dataset<Row> view = df.select(picked.toArray(new Column[0]));
    long rows = view.count();
    if (rows == 0) throw new BadInputException(name + " holds no rows");
    if (rows > Integer.MAX_VALUE) throw new BadInputException(name + ": " + rows + " rows; at most " + Integer.MAX_VALUE);
    if (hasRow) checkRowColumn(view, rows, name);
    String viewName = name.replace(' ', '_') + "_" + VIEWS.incrementAndGet();
    view.createOrReplaceTempView(viewName);
    if (regression) {
      return DataSpec.regressionTable(DataFormat.DATAFRAME, viewName, (int) rows, cols.size(), hasRow,
          DataSpec.Features.COLUMNS, cols, List.of("label"));
    }
    return DataSpec.table(DataFormat.DATAFRAME, viewName, (int) rows, cols.size(), hasRow, DataSpec.Features.COLUMNS,
        cols, labelNames);
  }

  /**
   * The table's first {@code usedRows} rows (in its order) as one shard per partition, placed by
   * {@code assignment}; each row checked on the executors. Not persisted: the caller caches it.
   */
  public static JavaRDD<Shard> shards(SparkSession spark, DataSpec spec, int usedRows, int classes, int partitions,
      ShardReader.Assignment assignment) {
    return shards(spark, spec, usedRows, classes, partitions, assignment, false);
  }

  /**
   * {@code missingAllowed} ({@code features.missing=mean}): a null or empty feature value is held
   * as NaN, for the feature scaling to replace, instead of being refused.
   */
  public static JavaRDD<Shard> shards(SparkSession spark, DataSpec spec, int usedRows, int classes, int partitions,
      ShardReader.Assignment assignment, boolean missingAllowed) {
    DataFormat format = spec.format;
    Dataset<Row> df = raw(spark, format, spec.imagesPath);
    List<Column> cols = new ArrayList<>();
    List<String> have = Arrays.asList(df.columns());
    if (!spec.targetColumns.isEmpty()) { // regression: the targets first (0 where a table for prediction has none)
      for (String t : spec.targetColumns) {
        cols.add(have.contains(t) ? col("`" + t.replace("`", "``") + "`")
            : org.apache.spark.sql.functions.lit(format == DataFormat.CSV ? "0" : (Object) 0.0).as(t));
      }
    } else {
      // a table for prediction may have no labels: 0 stands for them (CSV values are text)
      cols.add(have.contains("label") ? col("label")
          : org.apache.spark.sql.functions.lit(format == DataFormat.CSV ? "0" : (Object) 0));
    }
    switch (spec.layout) {
      case IMAGE -> {
        if (format == DataFormat.CSV) {
          for (int i = 0; i < spec.features; i++) cols.add(col("pixel" + i));
        } else {
          cols.add(col("image"));
        }
      }
      case ARRAY, VECTOR -> cols.add(col("features"));
      case COLUMNS -> {
        for (String c : spec.columns) cols.add(col("`" + c.replace("`", "``") + "`"));
      }
    }
    if (format == DataFormat.CSV) cols.add(org.apache.spark.sql.functions.length(col(CORRUPT))); // its length: the line itself may be huge
    cols.add(spec.hasRowColumn ? col("row").cast("long") : org.apache.spark.sql.functions.lit(-1L));
    if (format == DataFormat.DATAFRAME) { // no files: the view's name stands for them
      cols.add(org.apache.spark.sql.functions.lit(spec.imagesPath));
      cols.add(org.apache.spark.sql.functions.lit(0L));
    } else {
      cols.add(col("_metadata.file_name"));
      cols.add(col("_metadata.file_block_start"));
    }
    JavaRDD<Row> rows = df.select(cols.toArray(new Column[0])).javaRDD();
    DataType featuresType = spec.layout == DataSpec.Features.VECTOR ? type(df.schema(), "features") : null;
    RowParser parser = new RowParser(format, spec.layout, spec.columns, featuresType, spec.features, classes, usedRows,
        partitions, assignment, spec.subset, spec.labelNames, spec.targetColumns, missingAllowed);
    JavaPairRDD<Row, Long> indexed = spec.hasRowColumn ? rows.mapToPair(r -> new Tuple2<>(r, -1L)) : rows.zipWithIndex();
    JavaPairRDD<Integer, TableRow> placed = indexed.mapPartitionsToPair(parser::parse);
    return placed.partitionBy(new ByPartition(partitions))
        .mapPartitionsWithIndex((p, it) -> List.of(pack(p, it, spec.features, spec.targetColumns.size(), assignment))
            .iterator(), true);
  }

  /**
   * The values of column {@code name} (as text) by the number {@link #shards} gives each row: its
   * {@code row} value, or its place in the scan of the files. For predictions that carry an id
   * of the user's choosing.
   *
   * @throws BadInputException the table has no such column
   */
  public static JavaPairRDD<Long, String> columnByRow(SparkSession spark, DataSpec spec, String name) {
    DataFormat format = spec.format;
    Dataset<Row> df = raw(spark, format, spec.imagesPath);
    List<String> names = new ArrayList<>(Arrays.asList(df.columns()));
    names.remove(CORRUPT);
    if (!names.contains(name)) {
      throw new BadInputException(spec.imagesPath + " has no column '" + name + "' for the id (columns: " + preview(names) + ")");
    }
    Column value = col(name).cast("string");
    if (spec.hasRowColumn) {
      return df.select(col("row").cast("long"), value).javaRDD().mapToPair(r -> new Tuple2<>(r.getLong(0), r.getString(1)));
    }
    // the same scan as shards() numbers with zipWithIndex: the same files, splits and order
    return df.select(value).javaRDD().zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1().getString(0)));
  }

  /**
   * A header the CSV parser gives up on (univocity's TextParsingException, e.g. a line of more
   * than Spark's 20480 values): bad input naming the file, not a parser trace.
   */
  private static RuntimeException unparsable(String path, RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getClass().getName().startsWith("com.univocity.parsers")) {
        Throwable root = t.getCause() != null ? t.getCause() : t;
        String why = root instanceof ArrayIndexOutOfBoundsException
            ? "a line holds more values than the CSV reader's limit (spark.read's maxColumns, 20480)"
            : String.valueOf(root.getMessage()).lines().findFirst().orElse(root.getClass().getSimpleName());
        return new BadInputException(path + ": cannot read its CSV header: " + why);
      }
    }
    return e;
  }

  private static Dataset<Row> raw(SparkSession spark, DataFormat format, String path) {
    if (format == DataFormat.PARQUET) return spark.read().parquet(path);
    if (format == DataFormat.DATAFRAME) return spark.table(path);
    // Every CSV value is read as text and parsed here, so that a bad one is named exactly; a line
    // with more or fewer values than the header lands in _corrupt_record instead of being padded
    // or cut silently.
    String[] header;
    try {
      header = spark.read().option("header", "true").option("inferSchema", "false")
          .option("maxCharsPerColumn", MAX_CHARS_PER_VALUE).csv(path).columns();
    } catch (RuntimeException e) {
      throw unparsable(path, e);
    }
    checkHeader(path, header);
    StructType schema = new StructType();
    for (String h : header) schema = schema.add(h, org.apache.spark.sql.types.DataTypes.StringType);
    schema = schema.add(CORRUPT, org.apache.spark.sql.types.DataTypes.StringType);
    return spark.read().option("header", "true").option("mode", "PERMISSIVE")
        .option("maxCharsPerColumn", MAX_CHARS_PER_VALUE)
        .option("columnNameOfCorruptRecord", CORRUPT).schema(schema).csv(path);
  }

  /**
   * The most characters one CSV value may hold. A number never needs more; without a limit the
   * parser grows its buffer for as long as a line goes on, and one line of a few hundred
   * megabytes (a file without line breaks) ends the driver out of memory. A longer value makes
   * its line a bad row, refused with its place.
   */
  public static final int MAX_CHARS_PER_VALUE = 1000;

  /**
   * A CSV's first line must be a header of column names: a file that starts with its data (a
   * header of numbers, or of a name repeated, which Spark refuses with a trace) is named.
   */
  private static void checkHeader(String path, String[] header) {
    boolean numbers = header.length > 0;
    for (String h : header) numbers &= h != null && h.trim().matches("[-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?");
    java.util.Set<String> seen = new java.util.HashSet<>();
    String twice = null;
    for (String h : header) {
      if (!seen.add(String.valueOf(h).toLowerCase(java.util.Locale.ROOT)) && twice == null) twice = h;
    }
    if (numbers || twice != null) {
      throw new BadInputException(path + ": its first line is not a header ("
          + (numbers ? "it holds numbers, as a data line does" : "it names column '" + twice + "' twice")
          + "); a CSV table needs a header line naming its columns, such as 'label,pixel0,...,pixelN'");
    }
  }

  private static Shard pack(int p, Iterator<Tuple2<Integer, TableRow>> it, int features, int targets,
      ShardReader.Assignment assignment) {
    int n = assignment.rows(p);
    TableRow[] rows = new TableRow[n];
    boolean bytes = true;
    while (it.hasNext()) {
      TableRow r = it.next()._2();
      int local = assignment.localIndex(p, r.row);
      if (rows[local] != null) throw new BadInputException("two rows with row " + r.row + " (" + r.where + ")");
      rows[local] = r;
      bytes &= r.bytes != null;
    }
    int[] labels = new int[n];
    int[] globalRows = new int[n];
    byte[] pix = bytes ? new byte[n * features] : null;
    float[] vals = bytes ? null : new float[n * features];
    float[] y = targets > 0 ? new float[n * targets] : null;
    for (int i = 0; i < n; i++) {
      TableRow r = rows[i];
      if (r == null) throw new IllegalStateException("partition " + p + ": local row " + i + " was never filled");
      labels[i] = r.label;
      globalRows[i] = r.row;
      if (y != null) System.arraycopy(r.targets, 0, y, i * targets, targets);
      if (bytes) {
        System.arraycopy(r.bytes, 0, pix, i * features, features);
      } else if (r.bytes != null) {
        for (int j = 0; j < features; j++) vals[i * features + j] = (r.bytes[j] & 0xff) / 255f;
      } else {
        System.arraycopy(r.floats, 0, vals, i * features, features);
      }
    }
    Shard s = bytes ? new Shard(p, features, pix, labels, globalRows) : Shard.ofFloats(p, features, vals, labels, globalRows);
    return y != null ? s.withTargets(y, targets) : s;
  }

  /** One checked row on its way to its partition: bytes when every value is b / 255, else floats. */
  static final class TableRow implements Serializable {
    private static final long serialVersionUID = 1L;
    final int row;
    final int label;
    final byte[] bytes;
    final float[] floats;
    final String where;
    final float[] targets; // regression: the row's targets, else null

    TableRow(int row, int label, byte[] bytes, float[] floats, String where, float[] targets) {
      this.targets = targets;
      this.row = row;
      this.label = label;
      this.bytes = bytes;
      this.floats = floats;
      this.where = where;
    }
  }

  /** Key = target partition. */
  static final class ByPartition extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;

    ByPartition(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ByPartition b && b.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  /** Checks and converts rows; a bad value stops the job with the file, the row and the column. */
  static final class RowParser implements Serializable {
    private static final long serialVersionUID = 1L;
    private final DataFormat format;
    private final DataSpec.Features layout;
    private final List<String> columns;
    private final DataType featuresType; // VECTOR: the column's type (the user-defined type, or its storage struct)
    private final int features;
    private final List<String> labelNames; // string labels' classes, in order; empty: integer labels
    private final List<String> targets; // regression: the target columns (the rows' first values); empty: classes
    private final boolean missingAllowed; // features.missing=mean: a null or empty feature is NaN
    private transient java.util.Map<String, Integer> labelIndex;
    private final int classes;
    private final int usedRows;
    private final int partitions;
    private final ShardReader.Assignment assignment;
    private final dev.sparkprop.data.RowSubset subset; // null: every row

    RowParser(DataFormat format, DataSpec.Features layout, List<String> columns, DataType featuresType, int features,
        int classes, int usedRows, int partitions, ShardReader.Assignment assignment, dev.sparkprop.data.RowSubset subset,
        List<String> labelNames, List<String> targets, boolean missingAllowed) {
      this.missingAllowed = missingAllowed;
      this.labelNames = new ArrayList<>(labelNames);
      this.targets = new ArrayList<>(targets);
      this.layout = layout;
      this.columns = new ArrayList<>(columns);
      this.featuresType = featuresType;
      this.subset = subset;
      this.format = format;
      this.features = features;
      this.classes = classes;
      this.usedRows = usedRows;
      this.partitions = partitions;
      this.assignment = assignment;
    }

    Iterator<Tuple2<Integer, TableRow>> parse(Iterator<Tuple2<Row, Long>> it) {
      List<Tuple2<Integer, TableRow>> out = new ArrayList<>();
      String file = null;
      long start = -1;
      long record = 0;
      while (it.hasNext()) {
        Tuple2<Row, Long> t = it.next();
        Row r = t._1();
        int n = r.length();
        String f = r.getString(n - 2);
        long s = r.getLong(n - 1);
        if (!f.equals(file) || s != start) {
          file = f;
          start = s;
          record = 0;
        }
        record++;
        long g = t._2() >= 0 ? t._2() : r.getLong(n - 3);
        long named = g; // messages name the row as the table numbers it
        if (subset != null) { // the row's number on this side of a validation.fraction split
          int q = g < Integer.MAX_VALUE ? subset.position((int) g) : -1;
          if (q < 0) continue;
          g = q;
        }
        if (g >= usedRows) continue;
        // a DataFrame's rows are named by their place in it (from 0)
        String where = format == DataFormat.DATAFRAME ? file + ", row " + named
            : where(file, start, record, t._2() < 0 ? named : -1);
        if (format == DataFormat.CSV && !r.isNullAt(n - 4)) {
          throw bad(where, "(the whole line)", "its number of values differs from the header's, or a value is longer than "
              + MAX_CHARS_PER_VALUE + " characters (the CSV reader's limit); the line holds " + r.getInt(n - 4) + " characters");
        }
        int f0 = targets.isEmpty() ? 1 : targets.size(); // the first feature column
        int label = targets.isEmpty() ? label(r, where) : 0;
        float[] target = targets.isEmpty() ? null : new float[targets.size()];
        for (int j = 0; j < (target == null ? 0 : target.length); j++) {
          target[j] = value(format == DataFormat.CSV && r.isNullAt(j) ? "" : r.get(j), where, targets.get(j), false, "");
        }
        byte[] bytes = null;
        float[] floats = null;
        if (layout == DataSpec.Features.IMAGE && format == DataFormat.CSV) {
          bytes = new byte[features];
          for (int j = 0; j < features; j++) bytes[j] = (byte) pixel(r.isNullAt(f0 + j) ? null : r.getString(f0 + j), j, where);
        } else if (layout == DataSpec.Features.IMAGE) {
          if (r.isNullAt(f0)) throw bad(where, "image", "null");
          bytes = (byte[]) r.get(f0);
          if (bytes.length != features) {
            throw bad(where, "image", bytes.length + " bytes, expected " + features + " (the first row's)");
          }
        } else {
          floats = new float[features];
          if (layout == DataSpec.Features.VECTOR) {
            if (r.isNullAt(f0)) throw bad(where, "features", "null");
            VectorColumn.read(r.get(f0), featuresType, features, floats, 0, where, "features");
          } else if (layout == DataSpec.Features.ARRAY) {
            if (r.isNullAt(f0)) throw bad(where, "features", "null");
            List<Object> v = r.getList(f0);
            if (v.size() != features) throw bad(where, "features", v.size() + " values, expected " + features + " (the first row's)");
            for (int j = 0; j < features; j++) floats[j] = value(v.get(j), where, "features[" + j + "]", missingAllowed, FILL_HINT);
          } else {
            boolean csv = format == DataFormat.CSV; // its empty value is read as null
            for (int j = 0; j < features; j++) {
              floats[j] = value(csv && r.isNullAt(f0 + j) ? "" : r.get(f0 + j), where, columns.get(j), missingAllowed, FILL_HINT);
            }
          }
          boolean asBytes = true;
          for (int j = 0; j < features && asBytes; j++) asBytes = floats[j] >= 0f && floats[j] <= 1f && Math.round(floats[j] * 255f) / 255f == floats[j];
          if (asBytes) { // b / 255 each: held as bytes, a quarter of the memory, the same values
            bytes = new byte[features];
            for (int j = 0; j < features; j++) bytes[j] = (byte) Math.round(floats[j] * 255f);
            floats = null;
          }
        }
        int row = (int) g;
        out.add(new Tuple2<>(assignment.owner(row, partitions), new TableRow(row, label, bytes, floats, where, target)));
      }
      return out.iterator();
    }

    private int label(Row r, String where) {
      if (r.isNullAt(0)) throw bad(where, "label", "null");
      if (!labelNames.isEmpty()) {
        if (labelIndex == null) {
          labelIndex = new java.util.HashMap<>();
          for (int k = 0; k < labelNames.size(); k++) labelIndex.put(labelNames.get(k), k);
        }
        String s = format == DataFormat.CSV ? r.getString(0).trim() : r.get(0).toString();
        Integer k = labelIndex.get(s);
        if (k == null) {
          throw bad(where, "label", "'" + s + "' is not among the training labels (" + preview(labelNames) + ")");
        }
        return k;
      }
      long v;
      if (format == DataFormat.CSV) {
        String s = r.getString(0).trim();
        try {
          v = Long.parseLong(s);
        } catch (NumberFormatException e) {
          throw bad(where, "label", "'" + s + "' is not an integer");
        }
      } else {
        v = ((Number) r.get(0)).longValue();
      }
      if (v < 0 || v >= classes) throw bad(where, "label", v + ", outside [0, " + classes + ") (classes=" + classes + ")");
      return (int) v;
    }

    private static final String FILL_HINT = " (features.missing=mean fills a missing value)";

    /** A value: a number (a CSV's text parsed), finite in float; missing (null, empty) as NaN when allowed. */
    private static float value(Object o, String where, String column, boolean missingAllowed, String hint) {
      if (o == null && missingAllowed) return Float.NaN;
      if (o == null) throw bad(where, column, "null" + hint);
      double d;
      if (o instanceof String text) {
        if (text.isBlank() && missingAllowed) return Float.NaN;
        if (text.isBlank()) throw bad(where, column, "empty" + hint);
        Double parsed = parseNumber(text);
        if (parsed == null && text.trim().matches("(?i)[-+]?(nan|inf|infinity)")) {
          throw bad(where, column, text.trim() + " (NaN or infinite)");
        }
        if (parsed == null) {
          throw bad(where, column, "'" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "' is not a number");
        }
        d = parsed;
      } else {
        d = ((Number) o).doubleValue();
      }
      float f = (float) d;
      if (!Float.isFinite(f)) throw bad(where, column, d + (Double.isFinite(d) ? " (beyond float's range)" : " (NaN or infinite)"));
      return f;
    }

    private static int pixel(String s, int j, String where) {
      if (s == null || s.isBlank()) throw bad(where, "pixel" + j, "empty");
      int v;
      try {
        v = Integer.parseInt(s.trim());
      } catch (NumberFormatException e) {
        throw bad(where, "pixel" + j, "'" + s + "' is not an integer 0..255");
      }
      if (v < 0 || v > 255) throw bad(where, "pixel" + j, v + ", outside 0..255");
      return v;
    }

    private String where(String file, long start, long record, long row) {
      StringBuilder sb = new StringBuilder(file).append(", ");
      if (row >= 0) {
        sb.append("row ").append(row);
      } else {
        sb.append("record ").append(record);
        if (start > 0) sb.append(" after byte ").append(start);
        else if (format == DataFormat.CSV) sb.append(" (line ").append(record + 1).append(')');
      }
      return sb.toString();
    }

    private static BadInputException bad(String where, String column, String problem) {
      return new BadInputException(where + ", column " + column + ": " + problem);
    }
  }

  private static DataType type(StructType schema, String name) {
    for (StructField f : schema.fields()) if (f.name().equals(name)) return f.dataType();
    return null;
  }

  private static void requireInteger(StructType schema, String name, String path) {
    DataType t = type(schema, name);
    if (!(t instanceof IntegerType || t instanceof LongType || t instanceof ShortType || t instanceof ByteType)) {
      throw new BadInputException(path + ": column '" + name + "' is " + t.simpleString() + ", expected an integer type");
    }
  }

  private static int firstLength(Dataset<Row> df, String expr, String column, String path) {
    List<Row> first = df.where(col(column).isNotNull()).selectExpr(expr).limit(1).collectAsList();
    if (first.isEmpty()) throw new BadInputException(path + ": every '" + column + "' value is null (or the table is empty)");
    return first.get(0).getInt(0);
  }

  private static String preview(List<String> names) {
    return names.size() <= 8 ? String.join(", ", names)
        : String.join(", ", names.subList(0, 6)) + ", ... (" + names.size() + " columns)";
  }

  private static String qualify(String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(new Configuration());
    return fs.makeQualified(p).toString();
  }
}
