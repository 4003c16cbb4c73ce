package dev.sparkprop.cli;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.eval.ClassReport;
import dev.sparkprop.eval.EvalFunction;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.eval.Predictor;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.train.RunDirectory;
import dev.sparkprop.train.TrainingData;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
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

  static final Map<String, String> KEYS = new LinkedHashMap<>();

  static {
    KEYS.put("model", null);
    KEYS.put("data", null);
    KEYS.put("data.format", "auto");
    KEYS.put("split", "t10k");
    KEYS.put("labels", "");
    KEYS.put("partitions", "0");
    KEYS.put("out", "");
  }

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
      DataSpec data = input.idx() != null ? input.idx() : input.table(spark, true, spec);
      JavaRDD<Shard> shards = TrainingData.ranges(jsc, data, data.count, parts, spec.outputSize(), "evaluation", out);
      Broadcast<float[]> params = jsc.broadcast(model.params());
      EvalSum sum = new EvalSum(spec.outputSize());
      for (EvalSum s : shards.mapPartitions(new EvalFunction(params, spec, dev.sparkprop.nn.Kernel.AUTO)).collect()) sum.merge(s);
      Dataset<Row> predictions = spark.createDataFrame(
          shards.mapPartitions(it -> it.hasNext() ? Predictor.predict(it.next(), null, params.value(), spec).iterator()
              : java.util.Collections.<Row>emptyIterator()), Predictor.schema(spec.outputSize()));
      List<Row> report = ClassReport.of(spark, predictions, spec.outputSize()).collectAsList();
      out.printf("model %s (%s) on %s: %d images%n", a.get("model"), spec, data.describe(), sum.rows);
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

  static String confusionCsv(EvalSum s) {
    long[][] m = new long[s.classes][s.classes];
    for (int i = 0; i < s.classes; i++) {
      System.arraycopy(s.confusion, i * s.classes, m[i], 0, s.classes);
    }
    return dev.sparkprop.report.RunReport.confusionCsv(m);
  }

}
