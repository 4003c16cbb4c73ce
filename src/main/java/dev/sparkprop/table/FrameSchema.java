package dev.sparkprop.table;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark application's DataFrame as a data set: its label and features columns checked by the
 * names the caller gave (the rows on the executors, as a table's are), then registered as a
 * temporary view that the shards are read from.
 */
final class FrameSchema {
  private FrameSchema() {}

  private static final java.util.concurrent.atomic.AtomicInteger VIEWS = new java.util.concurrent.atomic.AtomicInteger();

  /**
   * {@code featureColumns} ({@code features.columns}): the features are these numeric columns, in
   * this order; also, when empty, every numeric column but the label and {@code row} if the
   * DataFrame has no features column ({@code image}, {@code features} or {@code featuresCol}).
   */
  static DataSpec inspect(Dataset<Row> df, String name, String labelCol, String featuresCol, boolean regression,
      List<String> featureColumns) {
    StructType schema = df.schema();
    List<String> names = Arrays.asList(df.columns());
    if (!names.contains(labelCol)) {
      throw new BadInputException(name + " has no column '" + labelCol + "' for the labels (columns: " + TableSchema.preview(names)
          + "); name it with setLabelCol");
    }
    if (regression && !TableSchema.numeric(TableSchema.type(schema, labelCol))) {
      throw new BadInputException(name + ": column '" + labelCol + "' is " + TableSchema.type(schema, labelCol).simpleString()
          + ", expected a numeric regression target (loss=mse)");
    }
    List<String> labelNames = regression ? List.of() : TableSchema.labelNames(df, DataFormat.DATAFRAME, labelCol, name);
    boolean noFeaturesColumn = featuresCol == null && !names.contains("image") && !names.contains("features");
    if (!featureColumns.isEmpty() || noFeaturesColumn) {
      return namedColumns(df, name, labelCol, featureColumns, regression, labelNames);
    }
    String features = featuresCol;
    if (features == null) {
      features = names.contains("image") ? "image" : names.contains("features") ? "features" : null;
      if (features == null) {
        throw new BadInputException(name + " has neither an 'image' nor a 'features' column (columns: " + TableSchema.preview(names)
            + "); name the features column with setFeaturesCol");
      }
    } else if (!names.contains(features)) {
      throw new BadInputException(name + " has no column '" + features + "' for the features (columns: " + TableSchema.preview(names) + ")");
    }
    DataType t = TableSchema.type(schema, features);
    boolean binary = t instanceof BinaryType;
    boolean vector = VectorColumn.is(t);
    if (!binary && !vector && !(t instanceof ArrayType a && (a.elementType() instanceof FloatType || a.elementType() instanceof DoubleType))) {
      throw new BadInputException(name + ": column '" + features + "' is " + t.simpleString()
          + ", expected binary (one byte 0..255 per pixel), array<float> (or array<double>) or a Spark ML vector");
    }
    boolean hasRow = names.contains("row") && !labelCol.equals("row") && !features.equals("row");
    if (hasRow) TableSchema.requireInteger(schema, "row", name);
    List<Column> cols = new ArrayList<>(List.of(col(labelCol).as("label"), col(features).as(binary ? "image" : "features")));
    if (hasRow) cols.add(col("row"));
    Dataset<Row> picked = df.select(cols.toArray(new Column[0]));
    int width = vector ? TableSchema.firstVectorSize(picked, "features", t, name)
        : TableSchema.firstLength(picked, binary ? "length(image)" : "size(features)", binary ? "image" : "features", name);
    long rows = picked.count();
    if (rows == 0) throw new BadInputException(name + " holds no rows");
    if (rows > Integer.MAX_VALUE) throw new BadInputException(name + ": " + rows + " rows; at most " + Integer.MAX_VALUE);
    if (hasRow) TableSchema.checkRowColumn(picked, rows, name);
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
      for (String n : names) if (!n.equals(labelCol) && !n.equals("row") && TableSchema.numeric(TableSchema.type(schema, n))) cols.add(n);
      if (cols.isEmpty()) {
        throw new BadInputException(name + " has no features column ('image', 'features') and no numeric columns but its "
            + "label (columns: " + TableSchema.preview(names) + "); name the features with setFeaturesCol or setFeaturesCols");
      }
    }
    for (String c : cols) {
      if (!names.contains(c)) {
        throw new BadInputException("features.columns: " + name + " has no column '" + c + "' (columns: " + TableSchema.preview(names) + ")");
      }
      if (c.equals(labelCol) || c.equals("row")) {
        throw new BadInputException("features.columns: '" + c + "' is the " + (c.equals("row") ? "row" : "label") + " column");
      }
      if (!TableSchema.numeric(TableSchema.type(schema, c))) {
        throw new BadInputException("features.columns: " + name + ": column '" + c + "' is " + TableSchema.type(schema, c).simpleString()
            + ", expected a numeric type");
      }
    }
    boolean hasRow = names.contains("row") && !labelCol.equals("row");
    if (hasRow) TableSchema.requireInteger(schema, "row", name);
    List<Column> picked = new ArrayList<>(List.of(col(labelCol).as("label")));
    for (String c : cols) picked.add(TableSource.column(c));
    if (hasRow) picked.add(col("row"));
    Dataset<Row> view = df.select(picked.toArray(new Column[0]));
    long rows = view.count();
    if (rows == 0) throw new BadInputException(name + " holds no rows");
    if (rows > Integer.MAX_VALUE) throw new BadInputException(name + ": " + rows + " rows; at most " + Integer.MAX_VALUE);
    if (hasRow) TableSchema.checkRowColumn(view, rows, name);
    String viewName = name.replace(' ', '_') + "_" + VIEWS.incrementAndGet();
    view.createOrReplaceTempView(viewName);
    if (regression) {
      return DataSpec.regressionTable(DataFormat.DATAFRAME, viewName, (int) rows, cols.size(), hasRow,
          DataSpec.Features.COLUMNS, cols, List.of("label"));
    }
    return DataSpec.table(DataFormat.DATAFRAME, viewName, (int) rows, cols.size(), hasRow, DataSpec.Features.COLUMNS,
        cols, labelNames);
  }
}
