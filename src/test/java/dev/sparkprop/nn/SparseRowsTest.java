package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class SparseRowsTest {
  /** (rows, cols) with about {@code density} non-zeros, row 1 and column 2 all zero, some -0. */
  private static float[] batch(int rows, int cols, double density, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[rows * cols];
    for (int i = 0; i < x.length; i++) {
      int row = i / cols;
      int col = i % cols;
      if (row == 1 || col == 2) continue;
      double u = r.nextDouble();
      x[i] = u < density ? (float) r.nextGaussian() : u < density + 0.05 ? -0f : 0f;
    }
    return x;
  }

  private static float[] random(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
    return a;
  }

  @Test
  void theProductsAreOneFusedChainPerValueInAscendingOrder() {
    Assumptions.assumeTrue(Lanes.ON, "the sparse products run only with the Vector API");
    int rows = 13;
    int cols = 41;
    float[] x = batch(rows, cols, 0.2, 1);
    SparseRows s = new SparseRows();
    assertTrue(s.load(x, rows, cols, 0.4));
    int nonZero = 0;
    for (float v : x) if (v != 0f) nonZero++;
    assertEquals(nonZero, s.nonZeros());
    // widths: eight-vector blocks, single vectors and the value-at-a-time tail, for any lane count
    for (int out : new int[] {1, 7, 300, 512}) {
      float[] w = random(cols * out, out);
      float[] z = new float[rows * out];
      java.util.Arrays.fill(z, Float.NaN); // every value overwritten
      s.multiply(w, out, z);
      float[] dz = random(rows * out, out + 1);
      float[] dw = new float[cols * out];
      java.util.Arrays.fill(dw, Float.NaN);
      s.multiplyTransA(dz, out, dw);
      float[] zWant = new float[rows * out];
      float[] dwWant = new float[cols * out];
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < out; k++) {
          float acc = 0f;
          for (int j = 0; j < cols; j++) if (x[r * cols + j] != 0f) acc = Math.fma(x[r * cols + j], w[j * out + k], acc);
          zWant[r * out + k] = acc;
        }
      }
      for (int j = 0; j < cols; j++) {
        for (int k = 0; k < out; k++) {
          float acc = 0f;
          for (int r = 0; r < rows; r++) if (x[r * cols + j] != 0f) acc = Math.fma(x[r * cols + j], dz[r * out + k], acc);
          dwWant[j * out + k] = acc;
        }
      }
      assertArrayEquals(zWant, z, "x W, width " + out); // exact: the same bits
      assertArrayEquals(dwWant, dw, "x^T dZ, width " + out);
      // and the products they stand for, to rounding
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < out; k++) {
          double d = 0;
          for (int j = 0; j < cols; j++) d += (double) x[r * cols + j] * w[j * out + k];
          assertEquals(d, z[r * out + k], 1e-5 * (1 + Math.abs(d)));
        }
      }
      for (int k = 0; k < out; k++) {
        assertEquals(0f, z[1 * out + k], "an all-zero row gives +0");
        assertEquals(0f, dw[2 * out + k], "an all-zero column gives +0");
      }
    }
  }

  @Test
  void aDenserBatchIsRefusedAndASmallerOneReusesTheArrays() {
    SparseRows s = new SparseRows();
    float[] dense = batch(8, 20, 0.6, 2);
    assertFalse(s.load(dense, 8, 20, 0.4));
    float[] nan = new float[20];
    nan[3] = Float.NaN;
    assertTrue(s.load(nan, 1, 20, 0.4));
    assertEquals(1, s.nonZeros(), "NaN counts as a non-zero");
    assertTrue(s.load(batch(8, 20, 0.2, 3), 8, 20, 0.4));
    int big = s.nonZeros();
    assertTrue(s.load(batch(2, 20, 0.2, 4), 2, 20, 0.4));
    assertTrue(s.nonZeros() < big);
    assertEquals(2, s.rows());
  }

  /** The whole pass on the bundled OpenBLAS: the sparse products in lanes, against the EJML reference. */
  @Test
  void anMlpOnOpenBlasTakesTheLanesForMostlyZeroInputs() {
    Assumptions.assumeTrue(Lanes.ON, "the sparse products run only with the Vector API");
    GemmTest.assumeAvailable(Kernel.OPENBLAS);
    NetworkSpec spec = NetworkSpec.of(new int[] {200, 300, 10}, Activation.RELU);
    float[] params = new Initializer(Initializer.Kind.HE, 0, 0).initialize(spec, 5);
    int rows = 24;
    float[] x = batch(rows, 200, 0.19, 6);
    int[] y = new int[rows];
    for (int r = 0; r < rows; r++) y[r] = r % 10;
    float[][] grads = new float[2][spec.numParams()];
    double[] loss = new double[2];
    Network[] nets = {new Network(spec, Kernel.OPENBLAS.gemm()), new Network(spec, EjmlGemm.INSTANCE)};
    for (int n = 0; n < 2; n++) {
      nets[n].setParameters(params);
      System.arraycopy(x, 0, nets[n].input(rows).data, 0, x.length);
      loss[n] = nets[n].forwardBackward(rows, y, 0, grads[n]);
    }
    assertTrue(nets[0].inputInLanes(), "OpenBLAS's network takes the lanes for a 19% non-zero batch");
    assertFalse(nets[1].inputInLanes(), "the EJML reference keeps EJML's sparse kernels");
    assertEquals(loss[1], loss[0], 1e-5 * loss[1]);
    for (int i = 0; i < grads[0].length; i++) {
      assertEquals(grads[1][i], grads[0][i], 1e-4 * (1e-2 + Math.abs(grads[1][i])), "parameter " + i);
    }
    // a dense batch takes the dense product
    float[] dense = random(rows * 200, 7);
    System.arraycopy(dense, 0, nets[0].input(rows).data, 0, dense.length);
    nets[0].forwardBackward(rows, y, 0, grads[0]);
    assertFalse(nets[0].inputInLanes());
  }
}
