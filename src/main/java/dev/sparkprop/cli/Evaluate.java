package dev.sparkprop.cli;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.CommandSession;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.command.MasterCheck;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.eval.ClassReport;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.run.RunDirectory;
import dev.sparkprop.spark.Evaluation;
import dev.sparkprop.spark.SparkpropModel;
import dev.sparkprop.train.TrainingData;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code Evaluate model=DIR data=PATH [split=t10k] [labels=FILE] [partitions=N] [out=DIR]}:
 * accuracy, mean loss and confusion matrix computed on the cluster, and the per-class
 * precision/recall/F1 table through Spark SQL. With {@code out=}, writes per_class.csv and
 * confusion.csv there. Exit codes: {@link ExitCodes}.
 */
public final class Evaluate {
  private Evaluate() {}

  static final Map<String, String> KEYS = CommandArgs.keys(
      "model", null,
      "data", null,
      "data.format", "auto",
      "split", "t10k",
      "labels", "",
      "partitions", "0",
      "out", "");

  public static void main(String[] args) {
    ExitCodes.exit(run(args, System.out));
  }

  public static int run(String[] args, PrintStream out) {
    CommandArgs a;
    SavedModel model;
    InputImages input;
    try {
      a = CommandArgs.parse("evaluate", args, KEYS);
      a.nonNegative("partitions");
      model = ModelStore.load(a.get("model"));
      input = InputImages.resolve(a.get("data"), a.get("data.format"), a.get("split"), a.get("labels"), true, model.spec());
      MasterCheck.check(new org.apache.spark.SparkConf());
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    CommandSession session = CommandSession.open("sparkprop evaluate");
    SparkSession spark = session.spark();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      NetworkSpec spec = model.spec();
      int parts = a.nonNegative("partitions") > 0 ? a.nonNegative("partitions") : jsc.defaultParallelism();
      DataSpec data = input.idx() != null ? input.idx() : input.table(spark, true, spec, model.featureColumns(), model.labels());
      JavaRDD<Shard> shards = TrainingData.ranges(jsc, data, data.count, parts, spec.outputSize(), model.scaling().fillsMissing(), "evaluation", out);
      if (spec.isRegression()) { // the training's own evaluation over the cached rows, in the targets' units
        org.apache.spark.broadcast.Broadcast<float[]> bc = jsc.broadcast(model.params());
        dev.sparkprop.eval.EvalSum sum = dev.sparkprop.eval.EvalSum.regression(spec.outputSize());
        for (dev.sparkprop.eval.EvalSum s : shards.mapPartitions(new dev.sparkprop.eval.EvalFunction(bc, spec,
            dev.sparkprop.nn.Kernel.AUTO, model.scaling(), model.targetScaling())).collect()) {
          sum.merge(s);
        }
        out.printf("model %s (%s) on %s: %d rows%n", a.get("model"), spec, data.describe(), sum.rows);
        out.printf("mse %.6g, rmse %.6g, mae %.6g, r2 %.4f%n", sum.mse(), sum.rmse(), sum.mae(), sum.r2());
        return ExitCodes.OK;
      }
      // the images as the API's DataFrame, scored through the API: one code path with a Spark application's
      Dataset<Row> images = ShardFrame.of(spark, shards);
      SparkpropModel api = SparkpropModel.of(model).setLabelCol("label").setFeaturesCol("features");
      Evaluation sum = api.evaluate(images);
      List<Row> report = ClassReport.of(spark, api.transform(images).select("label", "prediction"), spec.outputSize())
          .collectAsList();
      out.printf("model %s (%s) on %s: %d images%n", a.get("model"), spec, data.describe(), sum.rows());
      out.printf("accuracy %.4f, mean loss %.4f%n", sum.accuracy(), sum.meanLoss());
      out.println("confusion matrix (rows: actual, columns: predicted):");
      out.print(sum.confusionTable());
      out.println("per class (Spark SQL):");
      out.print(ClassReport.table(report));
      if (!a.get("out").isEmpty()) {
        RunDirectory dir = new RunDirectory(a.get("out"));
        dir.write("per_class.csv", ClassReport.csv(report));
        dir.write("confusion.csv", confusionCsv(sum));
        out.println("wrote " + dir.child("per_class.csv") + " and confusion.csv");
      }
      return ExitCodes.OK;
    } catch (Exception e) { // also SparkException, which Scala throws unchecked
      return Failures.report(e);
    } finally {
      session.close();
    }
  }

  static String confusionCsv(Evaluation s) {
    return dev.sparkprop.report.RunReport.confusionCsv(s.confusion());
  }

}
