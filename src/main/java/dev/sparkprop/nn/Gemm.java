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

  /** What runs the products, for logs and the bench ("ejml", "netlib JNIBLAS", ...). */
  String description();
}
