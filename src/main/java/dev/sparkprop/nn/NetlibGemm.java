package dev.sparkprop.nn;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.util.Arrays;
import org.ejml.data.FMatrixRMaj;

/**
 * {@link Gemm} through a {@code dev.ludovic.netlib} BLAS (the binding Spark's MLlib uses):
 * native BLAS via JNI, or the JDK Vector API.
 *
 * <p>BLAS is column-major and EJML row-major: a row-major (r, c) array read column-major is its
 * transpose, so each row-major product {@code C = op(A) op(B)} is computed as the column-major
 * {@code C^T = op(B)^T op(A)^T}, with the operands swapped and no copy.
 */
public final class NetlibGemm implements Gemm {
  private final BLAS blas;
  private final boolean sparseInput;
  private final String description;

  /**
   * @param sparseInput whether mostly-zero input batches should take EJML's sparse kernels instead
   *     (see {@link Kernel} for when that is faster)
   */
  public NetlibGemm(BLAS blas, boolean sparseInput) {
    this(blas, sparseInput, "netlib " + blas.getClass().getSimpleName());
  }

  NetlibGemm(BLAS blas, boolean sparseInput, String description) {
    this.blas = blas;
    this.sparseInput = sparseInput;
    this.description = description;
  }

  @Override
  public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    int m = a.numRows;
    int k = a.numCols;
    int n = b.numCols;
    check(k == b.numRows, "mult", a, b);
    c.reshape(m, n, false);
    if (trivial(m, n, k, c)) return;
    // C^T (n, m) = B^T (n, k) A^T (k, m); B read column-major is B^T with ld n, A is A^T with ld k
    blas.sgemm("N", "N", n, m, k, 1f, b.data, n, a.data, k, 0f, c.data, n);
  }

  @Override
  public void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    int k = a.numRows;
    int m = a.numCols;
    int n = b.numCols;
    check(k == b.numRows, "multTransA", a, b);
    c.reshape(m, n, false);
    if (trivial(m, n, k, c)) return;
    // C^T (n, m) = B^T (n, k) A (k, m); A read column-major is A^T (m, k) with ld m, so transpose it
    blas.sgemm("N", "T", n, m, k, 1f, b.data, n, a.data, m, 0f, c.data, n);
  }

  @Override
  public void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    int m = a.numRows;
    int k = a.numCols;
    int n = b.numRows;
    check(k == b.numCols, "multTransB", a, b);
    c.reshape(m, n, false);
    if (trivial(m, n, k, c)) return;
    // C^T (n, m) = B (n, k) A^T (k, m); B read column-major is B^T (k, n) with ld k, so transpose it
    blas.sgemm("T", "N", n, m, k, 1f, b.data, k, a.data, k, 0f, c.data, n);
  }

  /** Native BLAS packs the transposed weights faster (see {@link Gemm#prefersTransposedWeights}); not measured for the Vector API's BLAS. */
  @Override
  public boolean prefersTransposedWeights() {
    return blas instanceof NativeBLAS;
  }

  /** Empty products: BLAS needs leading dimensions of at least 1, and k = 0 means c = 0. */
  static boolean trivial(int m, int n, int k, FMatrixRMaj c) {
    if (m == 0 || n == 0) return true;
    if (k == 0) {
      Arrays.fill(c.data, 0, m * n, 0f);
      return true;
    }
    return false;
  }

  static void check(boolean ok, String op, FMatrixRMaj a, FMatrixRMaj b) {
    if (!ok) {
      throw new IllegalArgumentException(op + ": shapes do not match: (" + a.numRows + ", " + a.numCols
          + ") and (" + b.numRows + ", " + b.numCols + ")");
    }
  }

  @Override
  public boolean prefersSparseInput() {
    return sparseInput;
  }

  @Override
  public String description() {
    return description;
  }
}
