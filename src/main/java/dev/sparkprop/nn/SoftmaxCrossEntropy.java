package dev.sparkprop.nn;

/**
 * Softmax followed by sparse categorical cross-entropy, fused: numerically stable (log-sum-exp
 * with the row maximum subtracted) and with the simple backward {@code p - onehot(y)}.
 *
 * <p>Works on sums, not means: the distributed step adds the sums of every partition and the
 * driver divides once by the global row count, so the result equals the mean over the batch.
 */
public final class SoftmaxCrossEntropy {
  private SoftmaxCrossEntropy() {}

  /**
   * Replaces logits by softmax probabilities and returns the summed loss of the rows.
   *
   * @param z (rows, classes) logits on entry, probabilities on return
   * @param labels class index per row, each in [0, classes)
   * @return sum over rows of -log softmax(z_r)[y_r], in double
   */
  public static double forward(float[] z, int[] labels, int labelOffset, int rows, int classes) {
    double loss = 0;
    for (int r = 0; r < rows; r++) {
      int off = r * classes;
      float max = z[off];
      for (int j = 1; j < classes; j++) max = Math.max(max, z[off + j]);
      double sum = 0;
      for (int j = 0; j < classes; j++) sum += Math.exp(z[off + j] - max);
      double logSum = Math.log(sum);
      int y = labels[labelOffset + r];
      loss += logSum - (z[off + y] - max);
      for (int j = 0; j < classes; j++) z[off + j] = (float) Math.exp(z[off + j] - max - logSum);
    }
    return loss;
  }

  /**
   * Gradient of the summed loss with respect to the logits, in place.
   *
   * @param p (rows, classes) probabilities on entry, {@code p - onehot(y)} on return
   */
  public static void backward(float[] p, int[] labels, int labelOffset, int rows, int classes) {
    for (int r = 0; r < rows; r++) p[r * classes + labels[labelOffset + r]] -= 1f;
  }

  /** Softmax of one row in place, stable. */
  static void softmaxRow(float[] z, int off, int len) {
    float max = z[off];
    for (int j = 1; j < len; j++) max = Math.max(max, z[off + j]);
    double sum = 0;
    for (int j = 0; j < len; j++) sum += Math.exp(z[off + j] - max);
    for (int j = 0; j < len; j++) z[off + j] = (float) (Math.exp(z[off + j] - max) / sum);
  }
}
