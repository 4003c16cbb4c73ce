package dev.sparkprop.nn;

import org.ejml.data.FMatrixRMaj;

/**
 * The three dense matrix products of a layer's forward and backward pass, on EJML row-major
 * matrices. Every implementation reshapes {@code c} to the product's shape and overwrites it;
 * {@code a} and {@code b} are read only. Implementations are stateless and thread-safe.
 */
public interface Gemm {
  /** c = a b: a (m, k), b (k, n), c (m, n). The forward {@code x W}. */
  void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c);

  /** c = a^T b: a (k, m), b (k, n), c (m, n). The weight gradient {@code x^T dZ}. */
  void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c);

  /** c = a b^T: a (m, k), b (n, k), c (m, n). The delta of the layer below, {@code dZ W^T}. */
  void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c);

  /**
   * Whether the input layer should use EJML's sparse kernels for mostly-zero batches: faster than
   * this implementation's dense product (true for EJML's dense kernels, whose product is about 5
   * times slower than its sparse one on MNIST's 19% non-zero pixels).
   */
  boolean prefersSparseInput();

  /**
   * Whether {@link Network#forward} should multiply by transposed copies of the weights
   * ({@code x (W^T)^T} through {@link #multTransB}) rather than by the weights ({@link #mult}):
   * OpenBLAS packs the weights faster that way, 784-512 on 256 rows 8-14% faster here, with the
   * same bits. The copies cost one transpose per {@link Network#setParameters}, so only the
   * inference pass takes them; training multiplies by the weights as they are.
   */
  default boolean prefersTransposedWeights() {
    return false;
  }

  /** What runs the products, for logs and the bench ("ejml", "netlib JNIBLAS", ...). */
  String description();
}
