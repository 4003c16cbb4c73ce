package dev.sparkprop.cli;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.CommandSession;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.command.MasterCheck;
import dev.sparkprop.config.ConfigException;
import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code Prepare in=IDX_DIR out=PATH [format=parquet|csv] [partitions=N] [overwrite=false]}:
 * converts the IDX pairs in a folder (train-* and t10k-*) into tables {@code out/train} and
 * {@code out/test}, written by Spark's DataFrameWriter as {@code partitions} files of contiguous
 * rows. Columns (README, "Data formats"): Parquet {@code row long, label int, image binary};
 * CSV {@code row,label,pixel0,...,pixelN} with a header.
 */
public final class Prepare {
  private Prepare() {}

  static final Map<String, String> KEYS = CommandArgs.keys("in", null, "out", null, "format", "parquet", "partitions", "0", "overwrite", "false");

  public static void main(String[] args) {
    ExitCodes.exit(run(args, System.out));
  }

  public static int run(String[] args, PrintStream out) {
    CommandArgs a;
    List<String[]> splits = new ArrayList<>(); // {name, images, labels}
    List<DataSpec> specs = new ArrayList<>();
    String format;
    boolean overwrite;
    try {
      a = CommandArgs.parse("prepare", args, KEYS);
      a.nonNegative("partitions");
      format = a.get("format").toLowerCase(java.util.Locale.ROOT);
      if (!format.equals("parquet") && !format.equals("csv")) {
        throw new dev.sparkprop.config.ConfigException("format: expected parquet or csv, got '" + a.get("format") + "'");
      }
      overwrite = Boolean.parseBoolean(a.get("overwrite"));
      for (String[] split : new String[][] {{"train", "train"}, {"t10k", "test"}}) {
        String[] f;
        try {
          f = MnistFiles.locate(a.get("in"), split[0]);
        } catch (BadInputException e) {
          continue; // a folder may hold only one split
        }
        specs.add(DataSpec.check(f[0], f[1], 256));
        splits.add(new String[] {split[1], f[0], f[1]});
      }
      if (splits.isEmpty()) {
        throw new BadInputException(a.get("in") + ": no IDX pair (train-images-idx3-ubyte + train-labels-idx1-ubyte, "
            + "or t10k-...) in this folder");
      }
      for (String[] s : splits) {
        Path target = new Path(a.get("out"), s[0]);
        FileSystem fs = target.getFileSystem(new Configuration());
        if (fs.exists(target) && !overwrite) {
          throw new dev.sparkprop.config.ConfigException("out: " + target + " exists; set overwrite=true to replace it");
        }
      }
      MasterCheck.check(new org.apache.spark.SparkConf());
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    CommandSession session = CommandSession.open("sparkprop prepare");
    SparkSession spark = session.spark();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      int parts = a.nonNegative("partitions") > 0 ? a.nonNegative("partitions") : jsc.defaultParallelism();
      for (int i = 0; i < splits.size(); i++) {
        String[] s = splits.get(i);
        DataSpec spec = specs.get(i);
        String target = new Path(a.get("out"), s[0]).toString();
        Dataset<Row> df = table(spark, jsc, spec, parts, format);
        if (format.equals("parquet")) {
          df.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(target);
        } else {
          df.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).option("header", "true").csv(target);
        }
        out.printf("wrote %s: %d rows, %s, %d files, columns %s%n", target, spec.count, format, parts,
            format.equals("parquet") ? "row, label, image (" + spec.features + " bytes)"
                : "row, label, pixel0..pixel" + (spec.features - 1));
      }
      return ExitCodes.OK;
    } catch (Exception e) {
      return Failures.report(e);
    } finally {
      session.close();
    }
  }

  /** The IDX rows as a DataFrame: partition p holds the contiguous range p N / P .. (p+1) N / P. */
  static Dataset<Row> table(SparkSession spark, JavaSparkContext jsc, DataSpec spec, int parts, String format) {
    List<Integer> ids = new ArrayList<>();
    for (int p = 0; p < parts; p++) ids.add(p);
    String images = spec.imagesPath;
    String labels = spec.labelsPath;
    int count = spec.count;
    int features = spec.features;
    ShardReader.Assignment ranges = ShardReader.ranges(count, parts);
    boolean csv = format.equals("csv");
    JavaRDD<Row> rows = jsc.parallelize(ids, parts).mapPartitionsWithIndex((p, it) -> {
      Shard shard = ShardReader.read(images, labels, 256, count, features, p, ranges);
      List<Row> out = new ArrayList<>(shard.rows());
      byte[] buf = new byte[features];
      for (int r = 0; r < shard.rows(); r++) {
        shard.rawRow(r, buf);
        if (csv) {
          Object[] v = new Object[features + 2];
          v[0] = (long) shard.globalRow(r);
          v[1] = shard.labels()[r];
          for (int j = 0; j < features; j++) v[j + 2] = buf[j] & 0xff;
          out.add(RowFactory.create(v));
        } else {
          out.add(RowFactory.create((long) shard.globalRow(r), shard.labels()[r], buf.clone()));
        }
      }
      return out.iterator();
    }, true);
    StructType schema = new StructType().add("row", DataTypes.LongType, false).add("label", DataTypes.IntegerType, false);
    if (csv) {
      for (int j = 0; j < features; j++) schema = schema.add("pixel" + j, DataTypes.IntegerType, false);
    } else {
      schema = schema.add("image", DataTypes.BinaryType, false);
    }
    return spark.createDataFrame(rows, schema);
  }
}
