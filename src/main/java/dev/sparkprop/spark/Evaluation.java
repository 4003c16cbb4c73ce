package dev.sparkprop.spark;

import dev.sparkprop.eval.EvalSum;

/**
 * What {@link SparkpropModel#evaluate} found: rows, accuracy, mean cross-entropy and the
 * confusion matrix (rows: the actual class, columns: the predicted one); for a regression model,
 * the mean squared error (its {@link #meanLoss}), RMSE, MAE and R^2 in the targets' units (the
 * accuracy is NaN and the confusion matrix empty).
 */
public final class Evaluation {
  private final EvalSum sum;

  Evaluation(EvalSum sum) {
    this.sum = sum;
  }

  public long rows() {
    return sum.rows;
  }

  public double accuracy() {
    return sum.accuracy();
  }

  /** The mean cross-entropy of the rows' labels under the model's probabilities. */
  public double meanLoss() {
    return sum.meanLoss();
  }

  /** Whether the model is a regression ({@code loss=mse}). */
  public boolean isRegression() {
    return sum.isRegression();
  }

  /** A regression's mean squared error over rows and targets, in the targets' units (NaN for a classifier). */
  public double mse() {
    return sum.mse();
  }

  public double rmse() {
    return sum.rmse();
  }

  /** A regression's mean absolute error. */
  public double mae() {
    return sum.mae();
  }

  /** A regression's coefficient of determination, averaged over its targets. */
  public double r2() {
    return sum.r2();
  }

  /** {@code [actual][predicted]} counts. */
  public long[][] confusion() {
    long[][] m = new long[sum.classes][sum.classes];
    for (int i = 0; i < sum.classes; i++) System.arraycopy(sum.confusion, i * sum.classes, m[i], 0, sum.classes);
    return m;
  }

  /** The confusion matrix as aligned text. */
  public String confusionTable() {
    return sum.confusionTable();
  }

  @Override
  public String toString() {
    if (isRegression()) {
      return String.format(java.util.Locale.ROOT, "%d rows, mse %.6g, rmse %.6g, mae %.6g, r2 %.4f", rows(), mse(), rmse(),
          mae(), r2());
    }
    return String.format(java.util.Locale.ROOT, "%d rows, accuracy %.4f, mean loss %.4f", rows(), accuracy(), meanLoss());
  }
}
