package dev.sparkprop.bench;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.config.ConfigException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code synthetic-table out=PATH [rows=1000000] [features=100] [informative=10] [task=classification|regression]
 * [separation=0.2] [noise=1] [seed=1] [partitions=8]}: a Parquet table of real-valued features
 * whose best possible model is known, for tests and benchmarks of tables (README, "Data
 * formats"). Columns {@code row} (0..rows-1), {@code label} and {@code features} (array of float).
 *
 * <p>Feature j of a row is {@code 3 s_j + s_j z_j}, with scales {@code s_j} from 1e-3 to 1e4
 * (evenly in log10 over the columns) and {@code z_j} standard normal. Classification: the label
 * is 0 or 1 with equal odds and the first {@code informative} {@code z_j} have mean
 * {@code -separation} or {@code +separation}; the Bayes classifier (the sign of their sum) is
 * right with probability {@code Phi(separation * sqrt(informative))}. Regression: the label is
 * {@code sum of the first informative z_j + noise * N(0, 1)}, so the best R^2 is
 * {@code informative / (informative + noise^2)}. Each row is drawn from its own generator seeded
 * by (seed, row): the same table for the same keys, whatever the partitions.
 */
public final class SyntheticTable {
  private SyntheticTable() {}

  static final Map<String, String> KEYS = CommandArgs.keys("out", null, "rows", "1000000", "features", "100",
      "informative", "10", "task", "classification", "separation", "0.2", "noise", "1", "seed", "1", "partitions", "8");

  public static void main(String[] args) {
    ExitCodes.exit(run(args, System.out));
  }

  public static int run(String[] args, PrintStream out) {
    CommandArgs a;
    try {
      a = CommandArgs.parse("synthetic-table", args, KEYS);
      if (!List.of("classification", "regression").contains(a.get("task"))) {
        throw new dev.sparkprop.config.ConfigException("task: expected classification or regression, got '" + a.get("task") + "'");
      }
      if (a.nonNegative("features") < 1 || a.nonNegative("informative") > a.nonNegative("features")) {
        throw new dev.sparkprop.config.ConfigException("informative: at most features (" + a.get("features") + "), got "
            + a.get("informative"));
      }
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    SparkSession spark = SparkSession.builder().appName("sparkprop synthetic-table").getOrCreate();
    try {
      long rows = Long.parseLong(a.get("rows"));
      int w = a.nonNegative("features");
      int k = a.nonNegative("informative");
      boolean regression = a.get("task").equals("regression");
      double sep = Double.parseDouble(a.get("separation"));
      double noise = Double.parseDouble(a.get("noise"));
      long seed = Long.parseLong(a.get("seed"));
      int parts = Math.max(1, a.nonNegative("partitions"));
      StructType schema = new StructType().add("row", DataTypes.LongType, false)
          .add("label", regression ? DataTypes.DoubleType : DataTypes.IntegerType, false)
          .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
      Dataset<Row> table = spark.createDataFrame(spark.range(0, rows, 1, parts).javaRDD().mapPartitions(it -> {
        List<Row> out2 = new ArrayList<>();
        while (it.hasNext()) out2.add(row(it.next(), seed, w, k, regression, sep, noise));
        return out2.iterator();
      }), schema);
      table.write().parquet(a.get("out"));
      double best = regression ? k / (k + noise * noise) : phi(sep * Math.sqrt(k));
      out.printf("wrote %d rows x %d features (%s, %d informative) to %s; the best model's %s is %.4f%n", rows, w,
          a.get("task"), k, a.get("out"), regression ? "R^2" : "accuracy (Bayes)", best);
      return ExitCodes.OK;
    } catch (Exception e) {
      return Failures.report(e);
    } finally {
      spark.stop();
    }
  }

  /** Row {@code r} of the table (see the class comment). */
  static Row row(long r, long seed, int w, int k, boolean regression, double sep, double noise) {
    SplittableRandom g = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + r);
    int y = g.nextInt(2);
    double target = 0;
    Float[] x = new Float[w];
    for (int j = 0; j < w; j++) {
      double s = Math.pow(10, -3 + 7.0 * j / Math.max(1, w - 1));
      double z = gaussian(g);
      if (j < k) {
        if (regression) target += z;
        else z += y == 1 ? sep : -sep;
      }
      x[j] = (float) (3 * s + s * z);
    }
    if (regression) target += noise * gaussian(g);
    return RowFactory.create(r, regression ? (Object) target : (Object) y, x);
  }

  private static double gaussian(SplittableRandom g) {
    double u = g.nextDouble();
    double v = g.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v); // Box-Muller; 1 - u > 0
  }

  /** The standard normal distribution function (Abramowitz and Stegun 7.1.26 through erf, error below 1.5e-7). */
  static double phi(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x) / Math.sqrt(2));
    double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
        * Math.exp(-x * x / 2);
    return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
  }
}
