package dev.sparkprop.table;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import java.io.IOException;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;

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
 *
 * <p>This class is the package's face. Behind it: {@link TableSchema} and {@link FrameSchema}
 * check a table's or a DataFrame's columns on the driver, {@link TableSource} reads its rows,
 * {@link RowParser} checks and converts each row on the executors by its columns' names, and
 * {@link TableShards} places and packs them into shards.
 */
public final class TableInput {
  private TableInput() {}

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
    return TableSchema.inspect(spark, format, path, key, needLabels, featureColumns, targets);
  }

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
    return FrameSchema.inspect(df, name, labelCol, featuresCol, regression, featureColumns);
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
    return TableShards.shards(spark, spec, usedRows, classes, partitions, assignment, missingAllowed);
  }

  /**
   * The values of column {@code name} (as text) by the number {@link #shards} gives each row: its
   * {@code row} value, or its place in the scan of the files. For predictions that carry an id
   * of the user's choosing.
   *
   * @throws BadInputException the table has no such column
   */
  public static JavaPairRDD<Long, String> columnByRow(SparkSession spark, DataSpec spec, String name) {
    return TableShards.columnByRow(spark, spec, name);
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

  /**
   * The most characters one CSV value may hold. A number never needs more; without a limit the
   * parser grows its buffer for as long as a line goes on, and one line of a few hundred
   * megabytes (a file without line breaks) ends the driver out of memory. A longer value makes
   * its line a bad row, refused with its place.
   */
  public static final int MAX_CHARS_PER_VALUE = 1000;
}
