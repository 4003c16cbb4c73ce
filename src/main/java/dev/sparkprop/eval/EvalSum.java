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

  public EvalSum(int classes) {
    this.classes = classes;
    this.confusion = new long[classes * classes];
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
    return this;
  }

  public double accuracy() {
    return rows == 0 ? Double.NaN : correct / (double) rows;
  }

  public double meanLoss() {
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
