package dev.sparkprop.nn;

import java.util.Locale;

/**
 * Element-wise (or, for softmax, row-wise) activation functions of a dense layer.
 *
 * <p>Both methods work in place on a row-major {@code (rows, cols)} block of a float array, so the
 * caller's EJML buffers are reused. {@link #backward} is written in terms of the activation's
 * <em>output</em> {@code a}, which is what the forward pass keeps.
 */
public enum Activation {
  RELU,
  SIGMOID,
  TANH,
  IDENTITY,
  /** Row-wise softmax. As the output layer it is fused with the loss ({@link SoftmaxCrossEntropy}). */
  SOFTMAX;

  /** Parses a config value ({@code relu}, {@code sigmoid}, ...), naming the valid ones on error. */
  public static Activation parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown activation '" + name + "'; expected one of relu, sigmoid, tanh, identity, softmax");
    }
  }

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** z: (rows, cols) pre-activations, replaced by a = f(z). */
  public void forward(float[] z, int rows, int cols) {
    int n = rows * cols;
    switch (this) {
      case RELU:
        // branch-free, so the JIT vectorises it: an if per value mispredicts on about half of them
        // (docs/PERFORMANCE.md, "Kernels": tens of times slower with the if); -0 becomes +0
        for (int i = 0; i < n; i++) z[i] = Math.max(z[i], 0f);
        break;
      case SIGMOID:
        for (int i = 0; i < n; i++) z[i] = (float) (1.0 / (1.0 + Math.exp(-z[i])));
        break;
      case TANH:
        for (int i = 0; i < n; i++) z[i] = (float) Math.tanh(z[i]);
        break;
      case IDENTITY:
        break;
      case SOFTMAX:
        for (int r = 0; r < rows; r++) SoftmaxCrossEntropy.softmaxRow(z, r * cols, cols);
        break;
      default:
        throw new AssertionError(this);
    }
  }

  /**
   * Turns the gradient with respect to the output into the gradient with respect to the input.
   *
   * @param a (rows, cols) outputs of {@link #forward}, read only
   * @param g (rows, cols) dL/da on entry, dL/dz on return
   */
  public void backward(float[] a, float[] g, int rows, int cols) {
    int n = rows * cols;
    switch (this) {
      case RELU:
        // g *= (a > 0 ? 1 : 0), branch-free (as forward): a is max(z, 0) >= +0, and
        // min(min(a 2^100, 1) 2^100, 1) is exactly 1 for every a > 0, subnormal ones included, and
        // 0 for a = 0
        for (int i = 0; i < n; i++) g[i] *= Math.min(Math.min(a[i] * 0x1p100f, 1f) * 0x1p100f, 1f);
        break;
      case SIGMOID:
        for (int i = 0; i < n; i++) g[i] *= a[i] * (1f - a[i]);
        break;
      case TANH:
        for (int i = 0; i < n; i++) g[i] *= 1f - a[i] * a[i];
        break;
      case IDENTITY:
        break;
      case SOFTMAX:
        // dz_j = a_j * (g_j - sum_k g_k a_k), row by row (the softmax Jacobian applied to g).
        for (int r = 0; r < rows; r++) {
          int off = r * cols;
          double dot = 0;
          for (int j = 0; j < cols; j++) dot += (double) g[off + j] * a[off + j];
          for (int j = 0; j < cols; j++) g[off + j] = (float) (a[off + j] * (g[off + j] - dot));
        }
        break;
      default:
        throw new AssertionError(this);
    }
  }
}
