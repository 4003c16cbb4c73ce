package dev.sparkprop.nn;

import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;

/** The reference {@link Gemm}: EJML's own dense kernels (pure Java; against the others: docs/PERFORMANCE.md, "Kernels"). */
public final class EjmlGemm implements Gemm {
  public static final EjmlGemm INSTANCE = new EjmlGemm();

  private EjmlGemm() {}

  @Override
  public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    CommonOps_FDRM.mult(a, b, c);
  }

  @Override
  public void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    CommonOps_FDRM.multTransA(a, b, c);
  }

  @Override
  public void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    CommonOps_FDRM.multTransB(a, b, c);
  }

  @Override
  public boolean prefersSparseInput() {
    return true;
  }

  @Override
  public String description() {
    return "ejml";
  }
}
