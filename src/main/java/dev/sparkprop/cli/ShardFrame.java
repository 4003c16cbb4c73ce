package dev.sparkprop.cli;

import dev.sparkprop.data.Shard;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The images a command read (IDX files, a table, PNG files; as shards, checked like training
 * data) as the DataFrame that the Spark application API takes: {@code id} (the row's number in
 * the data, or a PNG's file), {@code label} (0 for images without labels) and {@code features}
 * (array of float: the values the network reads, pixels scaled to [0, 1]).
 */
final class ShardFrame {
  private ShardFrame() {}

  static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.StringType, false)
      .add("label", DataTypes.IntegerType, false)
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);

  /** The shards' rows, each with its number in the data as its id. */
  static Dataset<Row> of(SparkSession spark, JavaRDD<Shard> shards) {
    return spark.createDataFrame(shards.mapPartitions(it -> it.hasNext() ? rows(it.next(), null).iterator()
        : Collections.<Row>emptyIterator()), SCHEMA);
  }

  /** One shard's rows, with {@code ids} (one per local row) or, if null, the rows' numbers in the data. */
  static List<Row> rows(Shard shard, String[] ids) {
    List<Row> out = new ArrayList<>(shard.rows());
    for (int r = 0; r < shard.rows(); r++) {
      float[] x = new float[shard.features()]; // the row's own array: the Row keeps it
      shard.copyRows(r, 1, x);
      out.add(RowFactory.create(ids == null ? String.valueOf(shard.globalRow(r)) : ids[r], shard.labels()[r], x));
    }
    return out;
  }
}
