package dev.sparkprop.nn;

/**
 * Squared error of an identity output layer against real-valued targets, the regression loss
 * ({@code loss=mse}): the summed {@code (z - y)^2} over the rows and targets, and its gradient
 * {@code 2 (z - y)}. Sums, not means, as {@link SoftmaxCrossEntropy}: the driver divides once by
 * the global row count.
 */
public final class MeanSquaredError {
  private MeanSquaredError() {}

  /**
   * @param z (rows, targets) outputs, unchanged
   * @param y targets, row-major, row {@code r}'s at {@code (rowOffset + r) * targets}
   * @return the summed squared error, in double
   */
  public static double forward(float[] z, float[] y, int rowOffset, int rows, int targets) {
    double loss = 0;
    int base = rowOffset * targets;
    for (int i = 0; i < rows * targets; i++) {
      double d = z[i] - y[base + i];
      loss += d * d;
    }
    return loss;
  }

  /** {@code 2 (z - y)} into {@code z}, in place. */
  public static void backward(float[] z, float[] y, int rowOffset, int rows, int targets) {
    int base = rowOffset * targets;
    for (int i = 0; i < rows * targets; i++) z[i] = 2f * (z[i] - y[base + i]);
  }
}
