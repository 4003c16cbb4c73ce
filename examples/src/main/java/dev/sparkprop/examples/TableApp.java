package dev.sparkprop.examples;

import dev.sparkprop.spark.Evaluation;
import dev.sparkprop.spark.SparkpropClassifier;
import dev.sparkprop.spark.SparkpropModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark application that trains sparkprop on a table, as an MLlib user holds one: customer
 * measurements on scales from 1e-3 to 1e5 assembled into a vector column (the storage form of
 * MLlib's vectors, which {@code VectorAssembler} writes; made here with Spark SQL, as the product
 * itself does not depend on spark-mllib), a string label to classify ({@code stays} or
 * {@code leaves}) and a price to predict (a regression). Both fits standardize the features on the
 * cluster and keep the scaling in the saved models.
 *
 * <pre>
 *   submit/example-table runs/example-table [rows]
 * </pre>
 */
public final class TableApp {
  private TableApp() {}

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: TableApp MODEL_OUT_DIR [ROWS]");
      System.exit(2);
    }
    String out = args[0];
    long rows = args.length > 1 ? Long.parseLong(args[1]) : 50_000;
    SparkSession spark = SparkSession.builder().appName("sparkprop table example").config("spark.ui.killEnabled", "false")
        .getOrCreate();
    try {
      // a customer table: four measurements of very different scales, a class and a price
      Dataset<Row> customers = spark.range(rows).selectExpr(
          "id", "randn(1) AS z1", "randn(2) AS z2", "randn(3) AS z3", "randn(4) AS noise")
          .selectExpr("id",
              "0.002 * z1 + 0.01 AS churn_rate",
              "40 + 12 * z2 AS age",
              "52000 + 15000 * z3 AS income",
              "3 + z1 - z2 AS visits",
              "CASE WHEN z1 - 0.5 * z3 + 0.3 * noise > 0 THEN 'leaves' ELSE 'stays' END AS answer",
              "100 + 30 * z2 + 20 * z3 + 5 * noise AS price");
      // the vector column as MLlib stores a dense vector: struct<type, size, indices, values>
      Dataset<Row> table = customers.selectExpr("answer", "price",
          "named_struct('type', CAST(1 AS TINYINT), 'size', CAST(NULL AS INT), 'indices', CAST(NULL AS ARRAY<INT>), "
              + "'values', array(churn_rate, age, income, visits)) AS features");
      Dataset<Row>[] split = table.randomSplit(new double[] {0.8, 0.2}, 7);
      Dataset<Row> train = split[0].cache();
      Dataset<Row> test = split[1].cache();

      SparkpropModel churn = new SparkpropClassifier().setLabelCol("answer")
          .setLayers("dense(32) relu, dense(2) softmax").setEpochs(5).setBatchSize(128)
          .setOptimizer("adam").setLearningRate(0.003).fit(train);
      Evaluation e = churn.setLabelCol("answer").evaluate(test);
      System.out.printf("example-table: churn classes %s, test accuracy %.4f on %d rows (scaling: %s)%n", churn.labels(),
          e.accuracy(), e.rows(), churn.featureScaling());
      churn.transform(test).select("answer", "prediction_label", "probability").show(5, false);

      SparkpropModel pricing = new SparkpropClassifier().set("loss", "mse").setLabelCol("price")
          .setLayers("dense(32) relu, dense(1)").setEpochs(5).setBatchSize(128)
          .setOptimizer("adam").setLearningRate(0.003).fit(train);
      Evaluation p = pricing.setLabelCol("price").evaluate(test);
      System.out.printf("example-table: price regression on %d test rows: rmse %.3f, mae %.3f, r2 %.4f%n", p.rows(), p.rmse(),
          p.mae(), p.r2());
      pricing.transform(test).select("price", "prediction").show(5, false);

      churn.save(out + "/churn");
      pricing.save(out + "/pricing");
      System.out.println("example-table: models saved to " + out + "/churn and " + out + "/pricing");
    } finally {
      spark.stop();
    }
  }
}
