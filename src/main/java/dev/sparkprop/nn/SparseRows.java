package dev.sparkprop.nn;

import java.util.Arrays;

/**
 * A batch of mostly-zero input rows held compressed twice, by rows and by columns, and the input
 * layer's two products on it: {@code z = x W} and {@code dW = x^T dZ}. They then read only the
 * rows of W (and of dZ) that a non-zero input meets: MNIST's images are about 19% non-zero, so
 * 784-512 on 64 rows takes about a third of OpenBLAS's time for its dense products
 * (docs/PERFORMANCE.md, "The input layer over its non-zeros").
 *
 * <p>Every output value is one chain of fused multiply-adds from +0 over the non-zeros of its
 * row (for {@code z}) or column (for {@code dW}) in ascending order: a fixed order, so the same
 * bits on every run and thread, whatever the vector width. The products run in the JDK's Vector
 * API ({@link SparseLanes}), so only where {@link Lanes#ON}; elsewhere {@link Network} keeps the
 * dense product. Reused: arrays grow to the largest batch and are then kept, so a step allocates
 * nothing.
 */
final class SparseRows {
  private int rows;
  private int cols;
  // by rows: row r's non-zeros are column[rowStart[r] .. rowStart[r + 1]) with values rowValue
  private int[] rowStart = new int[1];
  private int[] column = new int[0];
  private float[] rowValue = new float[0];
  // by columns: column j's non-zeros are row[colStart[j] .. colStart[j + 1]), rows ascending
  private int[] colStart = new int[1];
  private int[] row = new int[0];
  private float[] colValue = new float[0];
  private int[] next = new int[0]; // where column j's next entry goes while sorting

  /**
   * Holds {@code x} (rows, cols), row-major, if at most {@code maxDensity} of its values are
   * non-zero (NaN counts as non-zero; -0 as zero, which adds nothing to a sum).
   *
   * @return whether it did; if not, the products must not be called until a load succeeds
   */
  boolean load(float[] x, int rows, int cols, double maxDensity) {
    int n = rows * cols;
    int nonZero = nonZeros(x, n);
    if (nonZero > maxDensity * n) return false;
    this.rows = rows;
    this.cols = cols;
    if (rowStart.length < rows + 1) rowStart = new int[rows + 1];
    if (colStart.length < cols + 1) colStart = new int[cols + 1];
    if (next.length < cols) next = new int[cols];
    if (column.length < nonZero) {
      column = new int[nonZero];
      rowValue = new float[nonZero];
      row = new int[nonZero];
      colValue = new float[nonZero];
    }
    int k = 0;
    for (int r = 0; r < rows; r++) {
      rowStart[r] = k;
      int off = r * cols;
      for (int j = 0; j < cols; j++) {
        float v = x[off + j];
        if (v != 0f) {
          column[k] = j;
          rowValue[k] = v;
          k++;
        }
      }
    }
    rowStart[rows] = k;
    // by columns: a counting sort of the row form, which keeps rows ascending in each column
    Arrays.fill(colStart, 0, cols + 1, 0);
    for (int i = 0; i < k; i++) colStart[column[i] + 1]++;
    for (int j = 0; j < cols; j++) colStart[j + 1] += colStart[j];
    System.arraycopy(colStart, 0, next, 0, cols);
    for (int r = 0; r < rows; r++) {
      for (int i = rowStart[r]; i < rowStart[r + 1]; i++) {
        int p = next[column[i]]++;
        row[p] = r;
        colValue[p] = rowValue[i];
      }
    }
    return true;
  }

  /** How many of {@code x[0, n)} are non-zero (NaN counts; -0 does not): the density test of both sparse paths. */
  static int nonZeros(float[] x, int n) {
    int nonZero = 0;
    for (int i = 0; i < n; i++) {
      if (x[i] != 0f) nonZero++;
    }
    return nonZero;
  }

  int rows() {
    return rows;
  }

  /** Non-zeros held. */
  int nonZeros() {
    return rowStart[rows];
  }

  /** {@code z = x W}: W (cols, out) and z (rows, out), row-major from index 0; z overwritten. */
  void multiply(float[] w, int out, float[] z) {
    SparseLanes.multiply(rowStart, column, rowValue, rows, w, out, z);
  }

  /** {@code dW = x^T dZ}: dZ (rows, out) and dW (cols, out), row-major from index 0; dW overwritten. */
  void multiplyTransA(float[] dz, int out, float[] dw) {
    SparseLanes.multiply(colStart, row, colValue, cols, dz, out, dw);
  }
}
