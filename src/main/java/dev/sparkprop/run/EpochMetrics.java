package dev.sparkprop.run;

/**
 * One row of metrics.csv. Test figures are NaN for an epoch without evaluation; a classifier's
 * regression figures and a regression's accuracy are NaN too. A regression's test loss is its
 * mean squared error in the targets' units.
 */
public record EpochMetrics(int epoch, double trainLoss, double testLoss, double testAccuracy,
    double epochSeconds, double samplesPerSecond, double evalSeconds, double lastLr,
    double testRmse, double testMae, double testR2) {
  public static final String CSV_HEADER =
      "epoch,train_loss,test_loss,test_accuracy,epoch_seconds,samples_per_second,eval_seconds,lr";
  /** A regression's metrics.csv: the regression figures in place of the accuracy. */
  public static final String REGRESSION_CSV_HEADER =
      "epoch,train_loss,test_loss,test_rmse,test_mae,test_r2,epoch_seconds,samples_per_second,eval_seconds,lr";

  /** A classifier's epoch. */
  public EpochMetrics(int epoch, double trainLoss, double testLoss, double testAccuracy, double epochSeconds,
      double samplesPerSecond, double evalSeconds, double lastLr) {
    this(epoch, trainLoss, testLoss, testAccuracy, epochSeconds, samplesPerSecond, evalSeconds, lastLr, Double.NaN,
        Double.NaN, Double.NaN);
  }

  public String csvRow() {
    return String.format(java.util.Locale.ROOT, "%d,%.6f,%s,%s,%.3f,%.1f,%.3f,%.6g", epoch, trainLoss,
        num(testLoss), num(testAccuracy), epochSeconds, samplesPerSecond, evalSeconds, lastLr);
  }

  /** The row under {@link #REGRESSION_CSV_HEADER}. */
  public String regressionCsvRow() {
    return String.format(java.util.Locale.ROOT, "%d,%.6f,%s,%s,%s,%s,%.3f,%.1f,%.3f,%.6g", epoch, trainLoss,
        num(testLoss), num(testRmse), num(testMae), num(testR2), epochSeconds, samplesPerSecond, evalSeconds, lastLr);
  }

  /** For checkpoints (JSON): NaN is stored as null. */
  public java.util.Map<String, Object> toMap() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("epoch", epoch);
    m.put("train_loss", trainLoss);
    m.put("test_loss", nullIfNaN(testLoss));
    m.put("test_accuracy", nullIfNaN(testAccuracy));
    m.put("epoch_seconds", epochSeconds);
    m.put("samples_per_second", samplesPerSecond);
    m.put("eval_seconds", evalSeconds);
    m.put("lr", lastLr);
    if (!Double.isNaN(testRmse)) {
      m.put("test_rmse", testRmse);
      m.put("test_mae", nullIfNaN(testMae));
      m.put("test_r2", nullIfNaN(testR2));
    }
    return m;
  }

  public static EpochMetrics fromMap(java.util.Map<String, Object> m) {
    return new EpochMetrics(((Number) m.get("epoch")).intValue(), d(m.get("train_loss")), d(m.get("test_loss")),
        d(m.get("test_accuracy")), d(m.get("epoch_seconds")), d(m.get("samples_per_second")), d(m.get("eval_seconds")),
        d(m.get("lr")), d(m.get("test_rmse")), d(m.get("test_mae")), d(m.get("test_r2")));
  }

  private static Object nullIfNaN(double v) {
    return Double.isNaN(v) ? null : v;
  }

  private static double d(Object o) {
    return o == null ? Double.NaN : ((Number) o).doubleValue();
  }

  private static String num(double d) {
    return Double.isNaN(d) ? "" : String.format(java.util.Locale.ROOT, "%.6f", d);
  }
}
