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

  private static String num(double d) {
    return Double.isNaN(d) ? "" : String.format(java.util.Locale.ROOT, "%.6f", d);
  }
}
