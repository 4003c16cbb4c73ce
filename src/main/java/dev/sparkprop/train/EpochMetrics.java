package dev.sparkprop.train;

/** One row of metrics.csv. Test figures are NaN for an epoch without evaluation. */
public record EpochMetrics(int epoch, double trainLoss, double testLoss, double testAccuracy,
    double epochSeconds, double samplesPerSecond, double evalSeconds, double lastLr) {
  public static final String CSV_HEADER =
      "epoch,train_loss,test_loss,test_accuracy,epoch_seconds,samples_per_second,eval_seconds,lr";

  public String csvRow() {
    return String.format(java.util.Locale.ROOT, "%d,%.6f,%s,%s,%.3f,%.1f,%.3f,%.6g", epoch, trainLoss,
        num(testLoss), num(testAccuracy), epochSeconds, samplesPerSecond, evalSeconds, lastLr);
  }

  /** For checkpoints (JSON): NaN is stored as null. */
  public java.util.Map<String, Object> toMap() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("epoch", epoch);
    m.put("train_loss", trainLoss);
    m.put("test_loss", Double.isNaN(testLoss) ? null : testLoss);
    m.put("test_accuracy", Double.isNaN(testAccuracy) ? null : testAccuracy);
    m.put("epoch_seconds", epochSeconds);
    m.put("samples_per_second", samplesPerSecond);
    m.put("eval_seconds", evalSeconds);
    m.put("lr", lastLr);
    return m;
  }

  public static EpochMetrics fromMap(java.util.Map<String, Object> m) {
    return new EpochMetrics(((Number) m.get("epoch")).intValue(), d(m.get("train_loss")), d(m.get("test_loss")),
        d(m.get("test_accuracy")), d(m.get("epoch_seconds")), d(m.get("samples_per_second")), d(m.get("eval_seconds")),
        d(m.get("lr")));
  }

  private static double d(Object o) {
    return o == null ? Double.NaN : ((Number) o).doubleValue();
  }

  private static String num(double d) {
    return Double.isNaN(d) ? "" : String.format(java.util.Locale.ROOT, "%.6f", d);
  }
}
