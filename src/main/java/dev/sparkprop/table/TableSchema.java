package dev.sparkprop.table;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

/**
 * A table's columns checked on the driver before any task runs: its labels (integer classes,
 * string labels, or regression targets), where its features are ({@code image}, {@code features},
 * {@code pixel0..N} or numeric columns), its optional {@code row} column and its row count, as a
 * {@link DataSpec}. The checks a Spark application's DataFrame shares are here too
 * ({@link FrameSchema} uses them).
 */
final class TableSchema {
  private TableSchema() {}

  private static final Pattern PIXEL = Pattern.compile("pixel(\\d+)");

  /**
   * @param targets regression ({@code loss=mse}): the target columns ({@code label.columns}, or
   *     empty for {@code label}), read as real numbers; null for classes
   */
  static DataSpec inspect(SparkSession spark, DataFormat format, String path, String key, boolean needLabels,
      List<String> featureColumns, List<String> targets) throws IOException {
    String qualified = TableSource.qualify(path);
    Dataset<Row> df = TableSource.read(spark, format, qualified);
    StructType schema = df.schema();
    List<String> names = new ArrayList<>(Arrays.asList(df.columns()));
    names.remove(TableSource.CORRUPT);
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
  static final int MAX_LABELS = 10_000;

  /**
   * A label column's class names when it holds strings: its distinct values, sorted (one pass);
   * empty when it holds integers (an integer SQL type, or a CSV whose first rows' labels are all
   * integers). Any other type is refused.
   */
  static List<String> labelNames(Dataset<Row> df, DataFormat format, String column, String where) {
    Column c = TableSource.column(column);
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
    List<Row> sample = format == DataFormat.CSV ? df.drop(TableSource.CORRUPT).limit(SAMPLE_ROWS).collectAsList() : List.of();
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
      if (v != null && RowParser.parseNumber(v.toString()) != null) return true;
    }
    return false;
  }

  static boolean numeric(DataType t) {
    return t instanceof org.apache.spark.sql.types.NumericType;
  }

  static int firstVectorSize(Dataset<Row> df, String column, DataType t, String path) {
    List<Row> first = df.where(col(column).isNotNull()).select(col(column)).limit(1).collectAsList();
    if (first.isEmpty()) throw new BadInputException(path + ": every '" + column + "' value is null (or the table is empty)");
    return VectorColumn.size(first.get(0).get(0), t);
  }

  static void checkRowColumn(Dataset<Row> df, long rows, String path) {
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

  static DataType type(StructType schema, String name) {
    for (StructField f : schema.fields()) if (f.name().equals(name)) return f.dataType();
    return null;
  }

  static void requireInteger(StructType schema, String name, String path) {
    DataType t = type(schema, name);
    if (!(t instanceof IntegerType || t instanceof LongType || t instanceof ShortType || t instanceof ByteType)) {
      throw new BadInputException(path + ": column '" + name + "' is " + t.simpleString() + ", expected an integer type");
    }
  }

  static int firstLength(Dataset<Row> df, String expr, String column, String path) {
    List<Row> first = df.where(col(column).isNotNull()).selectExpr(expr).limit(1).collectAsList();
    if (first.isEmpty()) throw new BadInputException(path + ": every '" + column + "' value is null (or the table is empty)");
    return first.get(0).getInt(0);
  }

  static String preview(List<String> names) {
    return names.size() <= 8 ? String.join(", ", names)
        : String.join(", ", names.subList(0, 6)) + ", ... (" + names.size() + " columns)";
  }

}
