package dev.sparkprop.table;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import scala.Tuple2;

/**
 * A checked table's rows into cached shards: the columns its {@link DataSpec} names selected,
 * each row parsed and checked on the executors ({@link RowParser}), sent to the partition the
 * batch layout gives it and packed into one {@link Shard} a partition.
 */
final class TableShards {
  private TableShards() {}

  /**
   * {@code missingAllowed} ({@code features.missing=mean}): a null or empty feature value is held
   * as NaN, for the feature scaling to replace, instead of being refused.
   */
  static JavaRDD<Shard> shards(SparkSession spark, DataSpec spec, int usedRows, int classes, int partitions,
      ShardReader.Assignment assignment, boolean missingAllowed) {
    DataFormat format = spec.format;
    Dataset<Row> df = TableSource.read(spark, format, spec.imagesPath);
    List<Column> cols = new ArrayList<>();
    List<String> have = Arrays.asList(df.columns());
    // The parser reads each value by its name in this selection (RowParser's names for what is not a table's own column).
    if (!spec.targetColumns.isEmpty()) { // regression: the targets (0 where a table for prediction has none)
      for (String t : spec.targetColumns) {
        cols.add(have.contains(t) ? TableSource.column(t) : lit(format == DataFormat.CSV ? "0" : (Object) 0.0).as(t));
      }
    } else {
      // a table for prediction may have no labels: 0 stands for them (CSV values are text)
      cols.add(have.contains("label") ? col("label").as(RowParser.LABEL)
          : lit(format == DataFormat.CSV ? "0" : (Object) 0).as(RowParser.LABEL));
    }
    for (String c : RowParser.featureColumns(format, spec.layout, spec.columns, spec.features)) cols.add(TableSource.column(c));
    if (format == DataFormat.CSV) { // its length: the line itself may be huge
      cols.add(org.apache.spark.sql.functions.length(col(TableSource.CORRUPT)).as(RowParser.LINE_LENGTH));
    }
    cols.add((spec.hasRowColumn ? col("row").cast("long") : lit(-1L)).as(RowParser.ROW));
    if (format == DataFormat.DATAFRAME) { // no files: the view's name stands for them
      cols.add(lit(spec.imagesPath).as(RowParser.FILE));
      cols.add(lit(0L).as(RowParser.BLOCK));
    } else {
      cols.add(col("_metadata.file_name").as(RowParser.FILE));
      cols.add(col("_metadata.file_block_start").as(RowParser.BLOCK));
    }
    JavaRDD<Row> rows = df.select(cols.toArray(new Column[0])).javaRDD();
    DataType featuresType = spec.layout == DataSpec.Features.VECTOR ? TableSchema.type(df.schema(), "features") : null;
    RowParser parser = new RowParser(format, spec.layout, spec.columns, featuresType, spec.features, classes, usedRows,
        partitions, assignment, spec.subset, spec.labelNames, spec.targetColumns, missingAllowed);
    JavaPairRDD<Row, Long> indexed = spec.hasRowColumn ? rows.mapToPair(r -> new Tuple2<>(r, -1L)) : rows.zipWithIndex();
    JavaPairRDD<Integer, RowParser.TableRow> placed = indexed.mapPartitionsToPair(parser::parse);
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
  static JavaPairRDD<Long, String> columnByRow(SparkSession spark, DataSpec spec, String name) {
    DataFormat format = spec.format;
    Dataset<Row> df = TableSource.read(spark, format, spec.imagesPath);
    List<String> names = new ArrayList<>(Arrays.asList(df.columns()));
    names.remove(TableSource.CORRUPT);
    if (!names.contains(name)) {
      throw new BadInputException(spec.imagesPath + " has no column '" + name + "' for the id (columns: " + TableSchema.preview(names) + ")");
    }
    Column value = col(name).cast("string");
    if (spec.hasRowColumn) {
      return df.select(col("row").cast("long"), value).javaRDD().mapToPair(r -> new Tuple2<>(r.getLong(0), r.getString(1)));
    }
    // the same scan as shards() numbers with zipWithIndex: the same files, splits and order
    return df.select(value).javaRDD().zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1().getString(0)));
  }

  private static Shard pack(int p, Iterator<Tuple2<Integer, RowParser.TableRow>> it, int features, int targets,
      ShardReader.Assignment assignment) {
    int n = assignment.rows(p);
    RowParser.TableRow[] rows = new RowParser.TableRow[n];
    boolean bytes = true;
    while (it.hasNext()) {
      RowParser.TableRow r = it.next()._2();
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
      RowParser.TableRow r = rows[i];
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
}
