package dev.sparkprop.eval;

import java.io.Serializable;

/**
 * Evaluation counts of some rows, mergeable across partitions: rows, correct predictions, summed
 * cross-entropy and the confusion matrix ({@code confusion[actual * classes + predicted]}).
 */
public final class EvalSum implements Serializable {
  private static final long serialVersionUID = 1L;

  public final int classes;
  public long rows;
  public long correct;
  public double lossSum;
  public final long[] confusion;
  /** Regression (null for classes): per target, the summed squared and absolute errors, target sum and square sum, in the targets' units. */
  public final double[] sse;
  public final double[] sae;
  public final double[] sumY;
  public final double[] sumY2;

  public EvalSum(int classes) {
    this(classes, false);
  }

  private EvalSum(int width, boolean regression) {
    this.classes = width;
    this.confusion = regression ? new long[0] : new long[width * width];
    sse = regression ? new double[width] : null;
    sae = regression ? new double[width] : null;
    sumY = regression ? new double[width] : null;
    sumY2 = regression ? new double[width] : null;
  }

  /** The sums of a regression of {@code targets} targets. */
  public static EvalSum regression(int targets) {
    return new EvalSum(targets, true);
  }

  public boolean isRegression() {
    return sse != null;
  }

  /** Adds one row of a regression: its predictions at {@code pOff} and targets at {@code aOff}, in the targets' units. */
  public void addRegression(float[] predicted, int pOff, float[] actual, int aOff) {
    rows++;
    for (int j = 0; j < classes; j++) {
      double y = actual[aOff + j];
      double d = predicted[pOff + j] - y;
      sse[j] += d * d;
      sae[j] += Math.abs(d);
      sumY[j] += y;
      sumY2[j] += y * y;
    }
  }

  /** Mean squared error over rows and targets, in the targets' units (NaN for classes). */
  public double mse() {
    return isRegression() && rows > 0 ? sum(sse) / (rows * (double) classes) : Double.NaN;
  }

  public double rmse() {
    return Math.sqrt(mse());
  }

  /** Mean absolute error over rows and targets. */
  public double mae() {
    return isRegression() && rows > 0 ? sum(sae) / (rows * (double) classes) : Double.NaN;
  }

  /** The coefficient of determination, averaged over the targets: 1 - SSE / (sum of (y - mean y)^2). */
  public double r2() {
    if (!isRegression() || rows == 0) return Double.NaN;
    double r2 = 0;
    for (int j = 0; j < classes; j++) {
      double sst = sumY2[j] - sumY[j] * sumY[j] / rows;
      r2 += 1 - sse[j] / sst;
    }
    return r2 / classes;
  }

  private static double sum(double[] a) {
    double s = 0;
    for (double v : a) s += v;
    return s;
  }

  /** Adds one row's outcome. */
  public void add(int actual, int predicted) {
    rows++;
    if (actual == predicted) correct++;
    confusion[actual * classes + predicted]++;
  }

  /** Adds {@code other} into this; returns this. */
  public EvalSum merge(EvalSum other) {
    rows += other.rows;
    correct += other.correct;
    lossSum += other.lossSum;
    for (int i = 0; i < confusion.length; i++) confusion[i] += other.confusion[i];
    if (isRegression()) {
      for (int j = 0; j < classes; j++) {
        sse[j] += other.sse[j];
        sae[j] += other.sae[j];
        sumY[j] += other.sumY[j];
        sumY2[j] += other.sumY2[j];
      }
    }
    return this;
  }

  public double accuracy() {
    return rows == 0 || isRegression() ? Double.NaN : correct / (double) rows;
  }

  /** Mean cross-entropy a row; for a regression, the mean squared error in the targets' units. */
  public double meanLoss() {
    if (isRegression()) return mse();
    return rows == 0 ? Double.NaN : lossSum / rows;
  }

  /** The confusion matrix as aligned text, rows = actual class, columns = predicted. */
  public String confusionTable() {
    StringBuilder sb = new StringBuilder("actual\\predicted");
    for (int j = 0; j < classes; j++) sb.append(String.format("%7d", j));
    sb.append('\n');
    for (int i = 0; i < classes; i++) {
      sb.append(String.format("%16d", i));
      for (int j = 0; j < classes; j++) sb.append(String.format("%7d", confusion[i * classes + j]));
      sb.append('\n');
    }
    return sb.toString();
  }
}
