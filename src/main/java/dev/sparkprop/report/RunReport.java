package dev.sparkprop.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.eval.ClassReport;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.run.EpochMetrics;
import dev.sparkprop.run.RunDirectory;
import dev.sparkprop.run.StepStats;
import dev.sparkprop.train.TrainResult;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The reports of a training run, written into its run directory: the per-epoch metrics and the
 * per-step losses as Spark DataFrames (saved as CSV and JSON lines), the final evaluation's
 * confusion matrix and per-class precision/recall/F1 computed with Spark SQL over the
 * predictions DataFrame, {@code summary.json}, and the PNG charts.
 *
 * <p>The tables are small (one row per epoch, per step, per class), so each is collected and
 * written as one file through the run directory's atomic writes rather than as a folder of
 * part files: {@code metrics.csv}/{@code .json}, {@code steps.csv}/{@code .json},
 * {@code per_class.csv}, {@code confusion.csv}.
 */
public final class RunReport {
  private RunReport() {}

  public static final StructType EPOCHS = new StructType()
      .add("epoch", DataTypes.IntegerType).add("train_loss", DataTypes.DoubleType)
      .add("test_loss", DataTypes.DoubleType).add("test_accuracy", DataTypes.DoubleType)
      .add("epoch_seconds", DataTypes.DoubleType).add("samples_per_second", DataTypes.DoubleType)
      .add("eval_seconds", DataTypes.DoubleType).add("lr", DataTypes.DoubleType);

  public static final StructType STEPS = new StructType()
      .add("global_step", DataTypes.LongType).add("epoch", DataTypes.IntegerType).add("step", DataTypes.IntegerType)
      .add("loss", DataTypes.DoubleType).add("lr", DataTypes.DoubleType).add("rows", DataTypes.IntegerType)
      .add("wall_ms", DataTypes.DoubleType).add("compute_ms", DataTypes.DoubleType);

  /** Per-epoch metrics as a DataFrame (test figures null for epochs without evaluation). */
  public static Dataset<Row> epochs(SparkSession spark, List<EpochMetrics> history) {
    List<Row> rows = new ArrayList<>();
    for (EpochMetrics m : history) {
      rows.add(RowFactory.create(m.epoch(), m.trainLoss(), nullIfNaN(m.testLoss()), nullIfNaN(m.testAccuracy()),
          m.epochSeconds(), m.samplesPerSecond(), m.evalSeconds(), m.lastLr()));
    }
    return spark.createDataFrame(rows, EPOCHS);
  }

  /** Per-step losses as a DataFrame (every {@code every}-th step, and always the last). */
  public static Dataset<Row> steps(SparkSession spark, List<StepStats> steps, int stepsPerEpoch) {
    List<Row> rows = new ArrayList<>();
    for (StepStats s : steps) {
      rows.add(RowFactory.create((long) s.epoch() * stepsPerEpoch + s.step(), s.epoch() + 1, s.step(), s.loss(), s.lr(),
          s.rows(), s.wall() / 1e6, s.slowestCompute() / 1e6));
    }
    return spark.createDataFrame(rows, STEPS);
  }

  /**
   * Writes every report and chart of a finished run into {@code run}; prints the per-class table.
   *
   * @param predictions the final model's predictions of the test set ({@code label, prediction, ...}),
   *     cached by the caller; released here
   */
  public static void write(SparkSession spark, RunDirectory run, TrainConfig cfg, TrainResult result,
      List<StepStats> steps, int stepsPerEpoch, Dataset<Row> predictions, double totalSeconds, PrintStream out)
      throws IOException {
    int classes = cfg.classes();
    Dataset<Row> epochs = epochs(spark, result.epochs());
    Dataset<Row> stepTable = steps(spark, steps, stepsPerEpoch);
    List<Row> epochRows = epochs.collectAsList();
    List<Row> stepRows = stepTable.collectAsList();
    run.write("metrics.json", jsonLines(epochs));
    run.write("steps.csv", csv(stepTable.columns(), stepRows));
    run.write("steps.json", jsonLines(stepTable));

    // Final evaluation through Spark SQL: the confusion matrix by groupBy(label, prediction), the
    // per-class table by ClassReport's groupBy/join. Checked against the executors' own counts.
    long[][] confusion = new long[classes][classes];
    for (Row r : predictions.groupBy(col("label"), col("prediction")).agg(count(lit(1)).as("n")).collectAsList()) {
      confusion[r.getInt(0)][r.getInt(1)] = r.getLong(2);
    }
    List<Row> perClass = ClassReport.of(spark, predictions, classes).collectAsList();
    predictions.unpersist();
    EvalSum eval = result.finalEval();
    for (int i = 0; i < classes; i++) {
      for (int j = 0; j < classes; j++) {
        if (confusion[i][j] != eval.confusion[i * classes + j]) {
          throw new IllegalStateException("the Spark SQL confusion matrix differs from the evaluation's at ("
              + i + ", " + j + "): " + confusion[i][j] + " vs " + eval.confusion[i * classes + j]);
        }
      }
    }
    out.println("per class (Spark SQL over the predictions of the final model):");
    out.print(ClassReport.table(perClass));
    run.write("per_class.csv", ClassReport.csv(perClass));
    run.write("confusion.csv", confusionCsv(confusion));

    run.write("summary.json", summary(spark, cfg, result, totalSeconds));

    // Charts
    double[] sx = new double[stepRows.size()];
    double[] sy = new double[stepRows.size()];
    for (int i = 0; i < sx.length; i++) {
      sx[i] = stepRows.get(i).getLong(0) / (double) stepsPerEpoch;
      sy[i] = stepRows.get(i).getDouble(3);
    }
    List<Charts.Series> lossSeries = new ArrayList<>();
    lossSeries.add(new Charts.Series("batch loss", sx, sy));
    if (sx.length >= 20) lossSeries.add(new Charts.Series("moving mean of 1/20 epoch", sx, movingMean(sy, Math.max(5, stepsPerEpoch / 20))));
    Charts.lines(png(run, "loss_per_step.png"), "Training loss per step", "epoch", "cross-entropy (log scale)",
        lossSeries, true);
    int n = epochRows.size();
    double[] ex = new double[n];
    double[] train = new double[n];
    double[] test = new double[n];
    double[] acc = new double[n];
    for (int i = 0; i < n; i++) {
      Row r = epochRows.get(i);
      ex[i] = r.getInt(0);
      train[i] = r.getDouble(1);
      test[i] = r.isNullAt(2) ? Double.NaN : r.getDouble(2);
      acc[i] = r.isNullAt(3) ? Double.NaN : r.getDouble(3);
    }
    Charts.epochs(png(run, "epochs.png"), "Loss and test accuracy per epoch", ex, train, test, acc);
    Charts.heatMap(png(run, "confusion.png"), String.format(Locale.ROOT,
        "Confusion matrix of the final model (test accuracy %.4f)", eval.accuracy()), "actual class", "predicted class", confusion);
    out.println("reports in " + run.location() + ": metrics.csv/.json, steps.csv/.json, per_class.csv, confusion.csv, "
        + "summary.json, loss_per_step.png, epochs.png, confusion.png");
  }

  public static final StructType REGRESSION_EPOCHS = new StructType()
      .add("epoch", DataTypes.IntegerType).add("train_loss", DataTypes.DoubleType)
      .add("test_loss", DataTypes.DoubleType).add("test_rmse", DataTypes.DoubleType)
      .add("test_mae", DataTypes.DoubleType).add("test_r2", DataTypes.DoubleType)
      .add("epoch_seconds", DataTypes.DoubleType).add("samples_per_second", DataTypes.DoubleType)
      .add("eval_seconds", DataTypes.DoubleType).add("lr", DataTypes.DoubleType);

  /**
   * The reports of a regression run: metrics.json (the regression figures: mean squared error as
   * the test loss, RMSE, MAE and R^2, in the targets' units), steps.csv/.json, summary.json and the
   * loss per step; no per-class table, confusion matrix or accuracy, which have no meaning there.
   */
  public static void writeRegression(SparkSession spark, RunDirectory run, TrainConfig cfg, TrainResult result,
      List<StepStats> steps, int stepsPerEpoch, double totalSeconds, PrintStream out) throws IOException {
    List<Row> rows = new ArrayList<>();
    for (EpochMetrics m : result.epochs()) {
      rows.add(RowFactory.create(m.epoch(), m.trainLoss(), nullIfNaN(m.testLoss()), nullIfNaN(m.testRmse()),
          nullIfNaN(m.testMae()), nullIfNaN(m.testR2()), m.epochSeconds(), m.samplesPerSecond(), m.evalSeconds(), m.lastLr()));
    }
    run.write("metrics.json", jsonLines(spark.createDataFrame(rows, REGRESSION_EPOCHS)));
    Dataset<Row> stepTable = steps(spark, steps, stepsPerEpoch);
    List<Row> stepRows = stepTable.collectAsList();
    run.write("steps.csv", csv(stepTable.columns(), stepRows));
    run.write("steps.json", jsonLines(stepTable));
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("config", cfg.resolved());
    EvalSum e = result.finalEval();
    s.put("final_test_loss", e.meanLoss());
    s.put("final_test_rmse", e.rmse());
    s.put("final_test_mae", e.mae());
    s.put("final_test_r2", e.r2());
    s.put("epochs", result.epochs().size());
    double trainSeconds = 0;
    for (EpochMetrics m : result.epochs()) trainSeconds += m.epochSeconds();
    s.put("training_seconds", trainSeconds);
    s.put("total_seconds", totalSeconds);
    s.put("spark_master", spark.sparkContext().master());
    s.put("spark_version", spark.version());
    run.write("summary.json", new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(s) + "\n");
    double[] sx = new double[stepRows.size()];
    double[] sy = new double[stepRows.size()];
    for (int i = 0; i < sx.length; i++) {
      sx[i] = stepRows.get(i).getLong(0) / (double) stepsPerEpoch;
      sy[i] = stepRows.get(i).getDouble(3);
    }
    Charts.lines(png(run, "loss_per_step.png"), "Training loss per step", "epoch",
        "squared error of the standardized targets (log scale)", List.of(new Charts.Series("batch loss", sx, sy)), true);
    out.println("reports in " + run.location() + ": metrics.csv/.json, steps.csv/.json, summary.json, loss_per_step.png");
  }

  private static Charts.Png png(RunDirectory run, String name) {
    return bytes -> run.writeBytes(name, bytes);
  }

  private static String summary(SparkSession spark, TrainConfig cfg, TrainResult result, double totalSeconds)
      throws IOException {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("config", cfg.resolved());
    List<EpochMetrics> h = result.epochs();
    double best = Double.NaN;
    int bestEpoch = 0;
    double trainSeconds = 0;
    double samples = 0;
    List<Double> perEpoch = new ArrayList<>();
    for (EpochMetrics m : h) {
      if (!Double.isNaN(m.testAccuracy()) && !(m.testAccuracy() <= best)) {
        best = m.testAccuracy();
        bestEpoch = m.epoch();
      }
      trainSeconds += m.epochSeconds();
      samples += m.samplesPerSecond() * m.epochSeconds();
      perEpoch.add(m.epochSeconds());
    }
    s.put("final_test_accuracy", result.finalEval().accuracy());
    s.put("final_test_loss", result.finalEval().meanLoss());
    s.put("best_test_accuracy", nullIfNaN(best));
    s.put("best_epoch", bestEpoch);
    s.put("epochs", h.size());
    s.put("epoch_seconds", perEpoch);
    s.put("training_seconds", trainSeconds);
    s.put("total_seconds", totalSeconds);
    s.put("samples_per_second", trainSeconds > 0 ? samples / trainSeconds : null);
    s.put("spark_master", spark.sparkContext().master());
    s.put("spark_version", spark.version());
    // the driver's block manager is in the list too; in local mode it is the only (and the executing) one
    int executors = spark.sparkContext().getExecutorMemoryStatus().size();
    s.put("executors", spark.sparkContext().isLocal() ? 1 : executors - 1);
    s.put("default_parallelism", spark.sparkContext().defaultParallelism());
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(s) + "\n";
  }

  static double[] movingMean(double[] y, int w) {
    double[] m = new double[y.length];
    double sum = 0;
    for (int i = 0; i < y.length; i++) {
      sum += y[i];
      if (i >= w) sum -= y[i - w];
      m[i] = sum / Math.min(i + 1, w);
    }
    return m;
  }

  private static String jsonLines(Dataset<Row> df) {
    StringBuilder sb = new StringBuilder();
    for (String line : df.toJSON().collectAsList()) sb.append(line).append('\n');
    return sb.toString();
  }

  private static String csv(String[] header, List<Row> rows) {
    StringBuilder sb = new StringBuilder(String.join(",", header)).append('\n');
    for (Row r : rows) {
      for (int i = 0; i < r.length(); i++) {
        if (i > 0) sb.append(',');
        Object v = r.get(i);
        if (v instanceof Double d) sb.append(String.format(Locale.ROOT, "%.6g", d));
        else if (v != null) sb.append(v);
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** A confusion matrix (rows: actual) as CSV: {@code actual,pred_0,...}. */
  public static String confusionCsv(long[][] c) {
    StringBuilder sb = new StringBuilder("actual");
    for (int j = 0; j < c.length; j++) sb.append(",pred_").append(j);
    sb.append('\n');
    for (int i = 0; i < c.length; i++) {
      sb.append(i);
      for (long v : c[i]) sb.append(',').append(v);
      sb.append('\n');
    }
    return sb.toString();
  }

  private static Double nullIfNaN(double d) {
    return Double.isNaN(d) ? null : d;
  }
}
