package dev.sparkprop.examples;

import dev.sparkprop.spark.SparkpropClassifier;
import dev.sparkprop.spark.SparkpropModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A Spark application that trains with sparkprop: reads the Parquet tables made by
 * {@code submit/prepare} (columns row, label, image), fits a network on the training table,
 * scores the test table and prints its accuracy and the confusion counts with Spark SQL, and
 * saves the model (with model.onnx).
 *
 * <pre>
 *   submit/example data/mnist-parquet runs/example-model [epochs]
 * </pre>
 */
public final class MnistApp {
  private MnistApp() {}

  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: MnistApp PARQUET_DIR MODEL_OUT [EPOCHS]   (PARQUET_DIR holds train/ and test/)");
      System.exit(2);
    }
    String data = args[0];
    String modelOut = args[1];
    int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    // the application UI must not cancel the training's jobs for whoever reaches it (see README)
    SparkSession spark = SparkSession.builder().appName("sparkprop example").config("spark.ui.killEnabled", "false").getOrCreate();
    try {
      Dataset<Row> train = spark.read().parquet(data + "/train");
      Dataset<Row> test = spark.read().parquet(data + "/test");

      SparkpropModel model = new SparkpropClassifier()
          .setLayers("784,512,10")
          .setEpochs(epochs)
          .setBatchSize(256)
          .setOptimizer("nesterov")
          .setLearningRate(0.2)
          .fit(train);

      model.transform(test).createOrReplaceTempView("scored");
      Row acc = spark.sql("SELECT count(*) AS n, avg(CAST(prediction = label AS INT)) AS accuracy FROM scored").first();
      System.out.printf("example: test accuracy %.4f on %d rows%n", acc.getDouble(1), acc.getLong(0));
      spark.sql("SELECT label, prediction, count(*) AS n FROM scored WHERE label <> prediction "
          + "GROUP BY label, prediction ORDER BY n DESC LIMIT 5").show(false);

      model.save(modelOut);
      System.out.println("example: model saved to " + modelOut);
    } finally {
      spark.stop();
    }
  }
}
