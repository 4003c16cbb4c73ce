package dev.sparkprop.nn;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.util.Locale;
import java.util.Random;

/**
 * Which {@link Gemm} runs the large products: the {@code kernel} configuration key.
 *
 * <ul>
 *   <li>{@code auto} (default): native BLAS through netlib's JNI binding when the machine has a
 *       {@code libblas.so.3} (e.g. Debian's {@code libopenblas0-pthread}), else netlib's JDK Vector
 *       API BLAS, else EJML; each candidate must pass a self-check against a naive product first.
 *   <li>{@code native}: netlib's JNI BLAS, or an error if it does not load.
 *   <li>{@code java}: netlib's Java BLAS (Vector API when {@code jdk.incubator.vector} is added).
 *   <li>{@code ejml}: EJML's own kernels, the reference implementation.
 * </ul>
 *
 * <p>Measured on the 2-core development machine (one thread, products of a 64-row MNIST batch,
 * 784-512): native OpenBLAS about 32 GFLOP/s, netlib's Vector API 12-25, EJML dense 2-5 and
 * EJML's sparse input kernels equivalent to 25 (on 19% non-zero pixels). So with native BLAS every
 * product is dense; with the Java kernels the input layer keeps EJML's sparse kernels for
 * mostly-zero batches. Resolved once per JVM; native BLAS should run one thread per task
 * ({@code OPENBLAS_NUM_THREADS=1}, set by the submit scripts) because Spark already runs a task
 * per core.
 */
public enum Kernel {
  AUTO,
  NATIVE,
  JAVA,
  EJML;

  private static volatile Gemm nativeGemm;
  private static volatile Gemm javaGemm;
  private static volatile String nativeFailure;

  /** Parses a configuration value ("auto", "native", "java", "ejml"). */
  public static Kernel parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown kernel '" + value + "': use auto, native, java or ejml");
    }
  }

  /** This JVM's implementation for this choice (cached). */
  public Gemm gemm() {
    switch (this) {
      case EJML:
        return EjmlGemm.INSTANCE;
      case JAVA:
        return javaGemm();
      case NATIVE: {
        Gemm g = nativeGemm();
        if (g == null) {
          throw new IllegalStateException("kernel=native: native BLAS is not available (" + nativeFailure
              + "); install a system BLAS (Debian: apt-get install libopenblas0-pthread) or use kernel=auto");
        }
        return g;
      }
      default: {
        Gemm g = nativeGemm();
        if (g != null) return g;
        try {
          return javaGemm();
        } catch (IllegalStateException e) {
          return EjmlGemm.INSTANCE;
        }
      }
    }
  }

  /** Whether netlib's JNI BLAS loads and passes the self-check in this JVM. */
  public static boolean nativeAvailable() {
    return nativeGemm() != null;
  }

  /** Resolved once; later calls (one per training step) read the volatile fields without a lock. */
  private static Gemm nativeGemm() {
    Gemm g = nativeGemm;
    return g != null || nativeFailure != null ? g : loadNative();
  }

  private static synchronized Gemm loadNative() {
    if (nativeGemm == null && nativeFailure == null) {
      try {
        BLAS blas = NativeBLAS.getInstance();
        nativeGemm = selfChecked(new NetlibGemm(blas, false));
      } catch (RuntimeException | LinkageError e) {
        nativeFailure = String.valueOf(e.getMessage());
      }
    }
    return nativeGemm;
  }

  private static Gemm javaGemm() {
    Gemm g = javaGemm;
    return g != null ? g : loadJava();
  }

  private static synchronized Gemm loadJava() {
    if (javaGemm == null) {
      javaGemm = selfChecked(new NetlibGemm(JavaBLAS.getInstance(), true));
    }
    return javaGemm;
  }

  /**
   * Runs the three products on odd shapes against a naive double-precision product; a BLAS that
   * gets them wrong (a broken system library, a mismatched binding) is refused, not used.
   */
  static Gemm selfChecked(Gemm g) {
    Random rnd = new Random(7);
    int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 33, 9}};
    for (int[] s : shapes) {
      String err;
      try {
        err = GemmCheck.compare(g, s[0], s[1], s[2], rnd);
      } catch (RuntimeException e) {
        err = e.toString();
      }
      if (err != null) throw new IllegalStateException(g.description() + " failed its self-check: " + err);
    }
    return g;
  }
}
