package dev.sparkprop.spark;

import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.Initializer;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Workspace;
import dev.sparkprop.train.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * A benchmark, not a test (its name keeps it out of {@code mvn verify}): rows a second of
 * {@link SparkpropModel#transform} for 784-512-10 on the 10,000-row MNIST test table in Parquet
 * (made by {@code submit/prepare}), on local[2], into Spark's {@code noop} sink (one stage, every
 * column consumed), after a warm-up; beside it, interleaved, what the same table costs alone and
 * through an identity {@code mapPartitions} with a row encoder (Spark's part), and the forward
 * pass alone on two threads (the arithmetic's part). Run with
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
      // Then, interleaved so that each sees the same machine: the table alone (Spark's cost of a
      // query over it), an identity mapPartitions with the row encoder (what any row-by-row
      // transformation of it costs), the transform, and the forward pass alone, without Spark:
      // two threads each taking 5,000 of the table's images through the network, the way the
      // transform's two tasks do.
      List<byte[]> images = test.select(imageColumn(test)).as(org.apache.spark.sql.Encoders.BINARY()).collectAsList();
      ExecutorService threads = Executors.newFixedThreadPool(2);
      List<Double> tTable = new ArrayList<>();
      List<Double> tIdentity = new ArrayList<>();
      List<Double> tTransform = new ArrayList<>();
      List<Double> tForward = new ArrayList<>();
      try {
        for (int i = 0; i < MEASURED; i++) {
          long t0 = System.nanoTime();
          test.write().format("noop").mode("overwrite").save();
          long t1 = System.nanoTime();
          test.mapPartitions((MapPartitionsFunction<Row, Row>) it -> it, Encoders.row(test.schema()))
              .write().format("noop").mode("overwrite").save();
          long t2 = System.nanoTime();
          model.transform(test).write().format("noop").mode("overwrite").save();
          long t3 = System.nanoTime();
          List<Future<?>> halves = new ArrayList<>();
          for (int h = 0; h < 2; h++) {
            int from = h * images.size() / 2;
            int to = (h + 1) * images.size() / 2;
            halves.add(threads.submit(() -> forwardAlone(spec, params, images.subList(from, to))));
          }
          for (Future<?> f : halves) f.get();
          long t4 = System.nanoTime();
          tTable.add((t1 - t0) / 1e9);
          tIdentity.add((t2 - t1) / 1e9);
          tTransform.add((t3 - t2) / 1e9);
          tForward.add((t4 - t3) / 1e9);
        }
      } finally {
        threads.shutdownNow();
      }
      System.out.printf("interleaved, medians of %d, 10000 rows into the noop sink: the table alone %.3f s, identity "
          + "mapPartitions %.3f s, transform %.3f s (%.0f rows/s); the forward pass alone on two threads %.3f s%n",
          MEASURED, median(tTable), median(tIdentity), median(tTransform), 10_000 / median(tTransform), median(tForward));
      // A transform through Spark's row API cannot take less than the identity mapPartitions plus
      // its arithmetic: the rounds in which even that floor was within the 0.1 s of 100,000 rows/s
      int transformWithin = 0;
      int floorWithin = 0;
      List<Double> floor = new ArrayList<>();
      for (int i = 0; i < MEASURED; i++) {
        if (tTransform.get(i) <= 0.1) transformWithin++;
        if (tIdentity.get(i) + tForward.get(i) <= 0.1) floorWithin++;
        floor.add(tIdentity.get(i) + tForward.get(i));
      }
      System.out.printf("identity mapPartitions + forward pass alone, the same round: median %.3f s; at most 0.1 s "
          + "(100,000 rows/s) in %d of %d rounds, the transform in %d%n", median(floor), floorWithin, MEASURED,
          transformWithin);

      List<Double> rates = new ArrayList<>();
      for (int i = 0; i < 11; i++) {
        long t0 = System.nanoTime();
        long n = model.transform(test).selectExpr("count(*)", "sum(prediction)").first().getLong(0);
        double s = (System.nanoTime() - t0) / 1e9;
        rates.add(n / s);
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

  /** The column the transform reads: image (binary) in the tables submit/prepare writes. */
  private static String imageColumn(Dataset<Row> table) {
    return java.util.Arrays.asList(table.columns()).contains("image") ? "image" : "features";
  }

  /** The transform's arithmetic on one thread: its chunks of images, filled and taken forward, no Spark. */
  private static Void forwardAlone(NetworkSpec spec, float[] params, List<byte[]> images) {
    Network net = Workspace.get(spec, Kernel.AUTO).network;
    net.setParameters(params);
    int width = spec.inputSize();
    int[] labels = new int[RowScorer.CHUNK];
    for (int from = 0; from < images.size(); from += RowScorer.CHUNK) {
      int n = Math.min(RowScorer.CHUNK, images.size() - from);
      float[] x = net.input(n).data;
      for (int r = 0; r < n; r++) {
        byte[] b = images.get(from + r);
        for (int j = 0; j < width; j++) x[r * width + j] = (b[j] & 0xff) / 255f;
      }
      net.forward(n, labels, 0);
    }
    return null;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }
}
