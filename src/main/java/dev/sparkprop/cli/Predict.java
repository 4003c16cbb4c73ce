package dev.sparkprop.cli;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.CommandSession;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.command.MasterCheck;
import dev.sparkprop.config.ConfigException;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.PngImage;
import dev.sparkprop.data.Shard;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.spark.SparkpropModel;
import dev.sparkprop.table.TableInput;
import dev.sparkprop.train.TrainingData;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.input.PortableDataStream;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * {@code Predict model=DIR data=PATH out=PATH [format=csv|parquet] [split=t10k] [partitions=N]}:
 * one row per image with its id (row index, or PNG file), predicted class (and, for a model of
 * string labels, {@code prediction_label}: its name) and class probabilities ({@code prob_0 ..}), computed on the cluster and written with Spark SQL as CSV
 * (with a header) or Parquet. Accepts IDX images (file or folder) and PNG images (file or
 * folder; grayscale, the model's input size, e.g. 28x28). Exit codes: {@link ExitCodes}.
 */
public final class Predict {
  private Predict() {}

  static final Map<String, String> KEYS = CommandArgs.keys(
      "model", null,
      "data", null,
      "data.format", "auto",
      "out", null,
      "format", "",
      "split", "t10k",
      "partitions", "0",
      "id", "");

  public static void main(String[] args) {
    ExitCodes.exit(run(args, System.out));
  }

  public static int run(String[] args, PrintStream out) {
    CommandArgs a;
    SavedModel model;
    InputImages input;
    String format;
    try {
      a = CommandArgs.parse("predict", args, KEYS);
      a.nonNegative("partitions");
      format = a.get("format").isEmpty()
          ? (a.get("out").toLowerCase(Locale.ROOT).endsWith(".parquet") ? "parquet" : "csv")
          : a.get("format").toLowerCase(Locale.ROOT);
      if (!format.equals("csv") && !format.equals("parquet")) {
        throw new ConfigException("format: expected csv or parquet, got '" + a.get("format") + "'");
      }
      Path outPath = new Path(a.get("out"));
      if (outPath.getFileSystem(new Configuration()).exists(outPath)) {
        throw new ConfigException("out: " + a.get("out") + " already exists; choose another path (nothing was overwritten)");
      }
      model = ModelStore.load(a.get("model"));
      input = InputImages.resolve(a.get("data"), a.get("data.format"), a.get("split"), "", false, model.spec());
      if (!a.get("id").isEmpty() && input.tableFormat() == null) {
        throw new ConfigException("id: names a column of a table; IDX rows are numbered and PNG files named by their file");
      }
      MasterCheck.check(new org.apache.spark.SparkConf());
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    CommandSession session = CommandSession.open("sparkprop predict");
    SparkSession spark = session.spark();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      NetworkSpec spec = model.spec();
      int parts = a.nonNegative("partitions") > 0 ? a.nonNegative("partitions") : jsc.defaultParallelism();
      // the images as the API's DataFrame (id, label, features), scored through the API's transform
      Dataset<Row> images;
      DataSpec data = null;
      if (input.idx() != null || input.tableFormat() != null) {
        // a table's id is its row column's value, or the row's place in Spark's scan of its files
        data = input.idx() != null ? input.idx() : input.table(spark, false, spec, model.featureColumns(), model.labels());
        images = ShardFrame.of(spark, TrainingData.ranges(jsc, data, data.count, parts, spec.outputSize(), model.scaling().fillsMissing(), "images", out));
      } else {
        int side = square(spec.inputSize());
        images = spark.createDataFrame(jsc.binaryFiles(input.pngPath(), parts)
            .filter(f -> f._1().toLowerCase(Locale.ROOT).endsWith(".png") || !f._1().contains("."))
            .mapPartitionsWithIndex((p, it) -> pngRows(p, it, side), false), ShardFrame.SCHEMA);
      }
      Dataset<Row> scored = SparkpropModel.of(model).setFeaturesCol("features").transform(images);
      List<Column> cols = new ArrayList<>(List.of(scored.col("id")));
      if (spec.isRegression() && spec.outputSize() > 1) { // one column per target, named after it
        for (int j = 0; j < spec.outputSize(); j++) cols.add(scored.col("prediction").getItem(j).as("prediction_" + model.labels().get(j)));
      } else {
        cols.add(scored.col("prediction"));
      }
      if (!model.labels().isEmpty() && !spec.isRegression()) cols.add(scored.col("prediction_label"));
      for (int k = 0; k < (spec.isRegression() ? 0 : spec.outputSize()); k++) {
        cols.add(scored.col("probability").getItem(k).as("prob_" + k));
      }
      Dataset<Row> result = scored.select(cols.toArray(new Column[0]));
      if (!a.get("id").isEmpty()) {
        result = spark.createDataFrame(withIds(result.javaRDD(), TableInput.columnByRow(spark, data, a.get("id"))),
            result.schema());
      }
      if (format.equals("csv")) {
        result.write().option("header", "true").csv(a.get("out"));
      } else {
        result.write().parquet(a.get("out"));
      }
      long n = spark.read().format(format).option("header", "true").load(a.get("out")).count();
      out.printf("wrote %d predictions (%s) to %s%n", n, format, a.get("out"));
      return ExitCodes.OK;
    } catch (Exception e) { // also SparkException, which Scala throws unchecked
      removeEmptyOutput(a.get("out"));
      return Failures.report(e);
    } finally {
      session.close();
    }
  }

  /**
   * A failed write leaves its output folder behind without data (Spark aborts the job and removes
   * only its temporary files); it did not exist before this command, so it goes, and the same
   * command can be run again once the input is fixed.
   */
  private static void removeEmptyOutput(String out) {
    try {
      Path p = new Path(out);
      org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(new Configuration());
      if (!fs.exists(p) || !fs.getFileStatus(p).isDirectory()) return;
      for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(p)) {
        if (!f.getPath().getName().startsWith("_") && !f.getPath().getName().startsWith(".")) return; // data: keep
      }
      fs.delete(p, true);
    } catch (java.io.IOException | RuntimeException ignored) {
      // the failure being reported matters more than this folder
    }
  }

  /** The predictions with their id (the row's number) replaced by the id column's value of the same row. */
  private static JavaRDD<Row> withIds(JavaRDD<Row> predictions, org.apache.spark.api.java.JavaPairRDD<Long, String> ids) {
    return predictions.mapToPair(r -> new scala.Tuple2<>(Long.parseLong(r.getString(0)), r)).join(ids).values()
        .map(t -> {
          Object[] v = new Object[t._1().length()];
          for (int i = 0; i < v.length; i++) v[i] = t._1().get(i);
          v[0] = t._2();
          return org.apache.spark.sql.RowFactory.create(v);
        });
  }

  /** Side of a square image of n pixels, or -1. */
  static int square(int n) {
    int s = (int) Math.round(Math.sqrt(n));
    return s * s == n ? s : -1;
  }

  /** A partition's PNG files, decoded and checked, as {@link ShardFrame} rows named by their files. */
  private static Iterator<Row> pngRows(int partition, Iterator<Tuple2<String, PortableDataStream>> files, int side) {
    List<String> names = new ArrayList<>();
    List<byte[]> images = new ArrayList<>();
    while (files.hasNext()) {
      Tuple2<String, PortableDataStream> f = files.next();
      names.add(f._1());
      images.add(PngImage.decode(f._1(), f._2().toArray(), side, side));
    }
    if (names.isEmpty()) return Collections.emptyIterator();
    int features = side * side;
    byte[] pixels = new byte[names.size() * features];
    for (int i = 0; i < images.size(); i++) System.arraycopy(images.get(i), 0, pixels, i * features, features);
    int[] rowsIds = new int[names.size()];
    for (int i = 0; i < rowsIds.length; i++) rowsIds[i] = i;
    Shard shard = new Shard(partition, features, pixels, new int[names.size()], rowsIds);
    return ShardFrame.rows(shard, names.toArray(new String[0])).iterator();
  }
}
