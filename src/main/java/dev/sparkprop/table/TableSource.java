package dev.sparkprop.table;

import static org.apache.spark.sql.functions.col;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Where a data set's rows are read from: a Parquet dataset, CSV files (every value read as text,
 * a line that does not fit the header kept in {@link #CORRUPT}), or a Spark application's
 * DataFrame registered as a temporary view.
 */
final class TableSource {
  private TableSource() {}

  /** The column a CSV line lands in when its values do not fit the header. */
  static final String CORRUPT = "_corrupt_record";

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

  static Dataset<Row> read(SparkSession spark, DataFormat format, String path) {
    if (format == DataFormat.PARQUET) return spark.read().parquet(path);
    if (format == DataFormat.DATAFRAME) return spark.table(path);
    // Every CSV value is read as text and parsed here, so that a bad one is named exactly; a line
    // with more or fewer values than the header lands in _corrupt_record instead of being padded
    // or cut silently.
    String[] header;
    try {
      header = spark.read().option("header", "true").option("inferSchema", "false")
          .option("maxCharsPerColumn", TableInput.MAX_CHARS_PER_VALUE).csv(path).columns();
    } catch (RuntimeException e) {
      throw unparsable(path, e);
    }
    checkHeader(path, header);
    StructType schema = new StructType();
    for (String h : header) schema = schema.add(h, org.apache.spark.sql.types.DataTypes.StringType);
    schema = schema.add(CORRUPT, org.apache.spark.sql.types.DataTypes.StringType);
    return spark.read().option("header", "true").option("mode", "PERMISSIVE")
        .option("maxCharsPerColumn", TableInput.MAX_CHARS_PER_VALUE)
        .option("columnNameOfCorruptRecord", CORRUPT).schema(schema).csv(path);
  }

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

  /** A table's column by its name, whatever characters the name holds (a dot, a backtick). */
  static Column column(String name) {
    return col("`" + name.replace("`", "``") + "`");
  }

  /** {@code path} with its file system's scheme and authority filled in. */
  static String qualify(String path) throws IOException {
    Path p = new Path(path);
    FileSystem fs = p.getFileSystem(new Configuration());
    return fs.makeQualified(p).toString();
  }
}
