package dev.sparkprop.spark;

import dev.sparkprop.eval.EvalSum;

/**
 * What {@link SparkpropModel#evaluate} found: rows, accuracy, mean cross-entropy and the
 * confusion matrix (rows: the actual class, columns: the predicted one).
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
    return String.format(java.util.Locale.ROOT, "%d rows, accuracy %.4f, mean loss %.4f", rows(), accuracy(), meanLoss());
  }
}
