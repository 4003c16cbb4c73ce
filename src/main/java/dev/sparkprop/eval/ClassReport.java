package dev.sparkprop.eval;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Per-class precision, recall and F1 from a predictions DataFrame ({@code label, prediction}),
 * computed with Spark SQL: support per actual class, predictions per predicted class, true
 * positives per class, joined on every class in [0, classes).
 */
public final class ClassReport {
  private ClassReport() {}

  /** Columns: class, support, predicted, true_positives, precision, recall, f1; ordered by class. */
  public static Dataset<Row> of(SparkSession spark, Dataset<Row> predictions, int classes) {
    Dataset<Row> all = spark.range(classes).select(col("id").cast("int").as("class"));
    Dataset<Row> support = predictions.groupBy(col("label").as("class")).agg(count(lit(1)).as("support"));
    Dataset<Row> predicted = predictions.groupBy(col("prediction").as("class")).agg(count(lit(1)).as("predicted"));
    Dataset<Row> tp = predictions.where(col("label").equalTo(col("prediction")))
        .groupBy(col("label").as("class")).agg(count(lit(1)).as("true_positives"));
    Dataset<Row> t = all.join(support, "class", "left").join(predicted, "class", "left").join(tp, "class", "left")
        .select(col("class"), coalesce(col("support"), lit(0L)).as("support"),
            coalesce(col("predicted"), lit(0L)).as("predicted"),
            coalesce(col("true_positives"), lit(0L)).as("true_positives"));
    Dataset<Row> pr = t
        .withColumn("precision", when(col("predicted").gt(0), col("true_positives").divide(col("predicted"))).otherwise(lit(0.0)))
        .withColumn("recall", when(col("support").gt(0), col("true_positives").divide(col("support"))).otherwise(lit(0.0)));
    return pr.withColumn("f1", when(col("precision").plus(col("recall")).gt(0),
            col("precision").multiply(col("recall")).multiply(2).divide(col("precision").plus(col("recall")))).otherwise(lit(0.0)))
        .orderBy("class");
  }

  /** The collected report as an aligned text table. */
  public static String table(List<Row> rows) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%5s %8s %9s %9s %9s %9s%n",
        "class", "support", "predicted", "precision", "recall", "f1"));
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%5d %8d %9d %9.4f %9.4f %9.4f%n", r.getInt(0), r.getLong(1), r.getLong(2),
          r.getDouble(4), r.getDouble(5), r.getDouble(6)));
    }
    return sb.toString();
  }

  /** The collected report as CSV with a header. */
  public static String csv(List<Row> rows) {
    StringBuilder sb = new StringBuilder("class,support,predicted,true_positives,precision,recall,f1\n");
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%d,%d,%d,%d,%.6f,%.6f,%.6f%n", r.getInt(0), r.getLong(1), r.getLong(2),
          r.getLong(3), r.getDouble(4), r.getDouble(5), r.getDouble(6)));
    }
    return sb.toString();
  }
}
