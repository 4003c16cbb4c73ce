package dev.sparkprop.spark;

import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.train.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (its name keeps it out of {@code mvn verify}): rows a second of
 * {@link SparkpropModel#transform} for 784-512-10 on the 10,000-row MNIST test table in Parquet
 * (made by {@code submit/prepare}), on local[2], beside what the same table costs through an
 * identity {@code mapPartitions} with a row encoder and through a plain aggregate query (Spark's
 * fixed cost per query on this machine); and each of them into Spark's {@code noop} sink (one
 * stage, every column consumed). Run with
 * {@code mvn -o test -Dtest=TransformThroughput -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class TransformThroughput {
  private static final int WARM_UP = 100;
  private static final int MEASURED = 31;

  @Test
  void transformRowsPerSecond() throws Exception {
    Path table = TestData.projectDir().resolve("data/mnist-parquet/test");
    if (!Files.isDirectory(table)) throw new IllegalStateException("run submit/prepare in=data/mnist out=data/mnist-parquet first");
    SparkSession spark = TestData.spark("local[2]");
    try {
      NetworkSpec spec = NetworkSpec.of(new int[] {784, 512, 10}, Activation.RELU);
      float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 1);
      SparkpropModel model = new SparkpropModel(new SavedModel(spec, params, Map.of(), Map.of()));
      Dataset<Row> test = spark.read().parquet(table.toString());
      test.cache().count();
      System.out.println("the test table: " + test.rdd().getNumPartitions() + " partition(s)");
      // A cold JVM first: Spark's planning and scheduling code and ours are interpreted until the
      // JIT has compiled them, which takes about a hundred queries here; the figures quoted are the
      // warm ones, the first three show what a single transform in a fresh application costs.
      List<Double> sinkRates = new ArrayList<>();
      for (int i = 0; i < WARM_UP + MEASURED; i++) {
        long t0 = System.nanoTime();
        // Into Spark's "noop" sink (its benchmarks' sink): one stage, every column of every row
        // computed and consumed, nothing written
        model.transform(test).write().format("noop").mode("overwrite").save();
        double s = (System.nanoTime() - t0) / 1e9;
        if (i >= WARM_UP) sinkRates.add(10_000 / s);
        if (i < 3) System.out.printf("cold: transform 784-512-10 into the noop sink, query %d: 10000 rows in %.3f s (%.0f rows/s)%n", i + 1, s, 10_000 / s);
      }
      List<Double> rates = new ArrayList<>();
      for (int i = 0; i < 11; i++) {
        long t0 = System.nanoTime();
        long n = model.transform(test).selectExpr("count(*)", "sum(prediction)").first().getLong(0);
        double s = (System.nanoTime() - t0) / 1e9;
        rates.add(n / s);
      }
      for (int i = 0; i < 6; i++) {
        long t0 = System.nanoTime();
        test.write().format("noop").mode("overwrite").save();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("the table alone into the noop sink: 10000 rows in %.3f s%n", s);
      }
      for (int i = 0; i < 6; i++) {
        long t0 = System.nanoTime();
        test.mapPartitions((org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) it -> it,
            org.apache.spark.sql.Encoders.row(test.schema())).write().format("noop").mode("overwrite").save();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("identity mapPartitions into the noop sink: 10000 rows in %.3f s%n", s);
      }
      // the same pass without the network: what reading and writing rows costs
      org.apache.spark.sql.types.StructType schema = test.schema();
      for (int i = 0; i < 6; i++) {
        long t0 = System.nanoTime();
        long n = test.mapPartitions((org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) it -> it,
            org.apache.spark.sql.Encoders.row(schema)).selectExpr("count(*)", "sum(label)").first().getLong(0);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("identity mapPartitions: %d rows in %.3f s (%.0f rows/s)%n", n, s, n / s);
      }
      for (int i = 0; i < 6; i++) {
        long t0 = System.nanoTime();
        long n = test.selectExpr("count(*)", "sum(label)").first().getLong(0);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("plain query: %d rows in %.3f s%n", n, s);
      }
      Collections.sort(rates);
      Collections.sort(sinkRates);
      System.out.printf("after %d warm-up transforms: median of %d into the noop sink %.0f rows/s (quartiles %.0f-%.0f); "
          + "median of 11 with count and sum of the predictions (two stages) %.0f rows/s%n", WARM_UP, MEASURED,
          sinkRates.get(MEASURED / 2), sinkRates.get(MEASURED / 4), sinkRates.get(3 * MEASURED / 4), rates.get(rates.size() / 2));

      // What a query costs whatever its size, and what a row costs beyond it: the same transform
      // into the noop sink on 200 rows of the test table and on the 60,000-row training table,
      // interleaved with the 10,000 rows so that all three see the same machine.
      Dataset<Row> small = test.limit(200).repartition(2).cache();
      small.count();
      Dataset<Row> large = spark.read().parquet(table.resolveSibling("train").toString()).cache();
      long largeRows = large.count();
      List<Double> tSmall = new ArrayList<>();
      List<Double> tTest = new ArrayList<>();
      List<Double> tLarge = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        for (Object[] c : new Object[][] {{small, tSmall}, {test, tTest}, {large, tLarge}}) {
          long t0 = System.nanoTime();
          model.transform((Dataset<Row>) c[0]).write().format("noop").mode("overwrite").save();
          @SuppressWarnings("unchecked")
          List<Double> into = (List<Double>) c[1];
          if (i >= 2) into.add((System.nanoTime() - t0) / 1e9);
        }
      }
      double fixed = median(tSmall);
      double mid = median(tTest);
      double big = median(tLarge);
      System.out.printf("transform into the noop sink, medians of 10: 200 rows %.3f s, 10000 rows %.3f s (%.0f rows/s), "
          + "%d rows %.3f s (%.0f rows/s); beyond the 200-row query's time: %.0f rows/s (10000), %.0f rows/s (%d)%n",
          fixed, mid, 10_000 / mid, largeRows, big, largeRows / big, 9_800 / (mid - fixed),
          (largeRows - 200) / (big - fixed), largeRows);
    } finally {
      spark.stop();
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }
}
