package dev.sparkprop.nn;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import dev.ludovic.netlib.blas.NativeBLAS;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.ejml.data.FMatrixRMaj;

/**
 * {@link Gemm} on the OpenBLAS that comes with the build: {@code org.bytedeco:openblas}, a JavaCPP
 * preset whose platform jar holds the native libraries (extracted once per machine into
 * JavaCPP's cache, {@code ~/.javacpp/cache} or {@code -Dorg.bytedeco.javacpp.cachedir}). OpenBLAS
 * picks the kernels for the CPU it runs on when it loads (on this machine's Xeon: Cooperlake,
 * AVX-512), so it needs no system package and no {@code OPENBLAS_CORETYPE}.
 *
 * <p>Two bindings reach it. {@link #load} prefers netlib's JNI binding pointed at the bundled
 * library ({@code dev.ludovic.netlib.blas.nativeLibPath}): it hands the native code the Java
 * arrays themselves (JNI critical arrays). JavaCPP's own {@code cblas_sgemm} (this class) copies
 * every {@code float[]} in and out of the call, which makes it slower than netlib's on the same
 * OpenBLAS (docs/PERFORMANCE.md, "Kernels", has both measured). Off-heap operands would pay only if the
 * network's buffers (EJML's, on the heap) lived off-heap for good. So this class serves where
 * netlib's binding is not free: it binds one library per JVM, and a system BLAS got it first.
 * CBLAS takes EJML's row-major operands as they are; one thread (Spark runs a task per core).
 */
public final class OpenBlasGemm implements Gemm {
  private final String version;

  private OpenBlasGemm(String version) {
    this.version = version;
  }

  private static final String NETLIB_LIBRARY = "dev.ludovic.netlib.blas.nativeLibPath";
  /** The path this class gave netlib (its property then names the bundled library, not the user's), or null. */
  static volatile String netlibPathSetHere;

  /**
   * Loads the bundled library (throws if this platform's jar is missing or it does not load),
   * through netlib's binding when {@code netlibFree} (nothing in this JVM has bound netlib to
   * another library, and the user named none), else through JavaCPP's.
   */
  static Gemm load(boolean netlibFree) {
    String jni = Loader.load(openblas_nolapack.class);
    org.bytedeco.openblas.presets.openblas_nolapack.blas_set_num_threads(1);
    String v = openblas_nolapack.class.getPackage().getImplementationVersion();
    String version = v == null ? "bundled" : v;
    Path lib = library(Path.of(jni).getParent());
    if (netlibFree && lib != null && System.getProperty(NETLIB_LIBRARY) == null) {
      System.setProperty(NETLIB_LIBRARY, lib.toString());
      netlibPathSetHere = lib.toString();
      try {
        return new NetlibGemm(NativeBLAS.getInstance(), false, "openblas " + version + " (bundled, netlib binding)");
      } catch (RuntimeException | LinkageError e) {
        System.clearProperty(NETLIB_LIBRARY); // e.g. arpack's org.netlib.util classes missing: JavaCPP's binding
        netlibPathSetHere = null;
      }
    }
    return new OpenBlasGemm(version);
  }

  /** The OpenBLAS library JavaCPP extracted next to its JNI library, or null. */
  private static Path library(Path dir) {
    String name = System.mapLibraryName("openblas_nolapack");
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().startsWith(name)).sorted().reduce((a, b) -> b).orElse(null);
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void mult(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    int m = a.numRows;
    int k = a.numCols;
    int n = b.numCols;
    NetlibGemm.check(k == b.numRows, "mult", a, b);
    c.reshape(m, n, false);
    if (NetlibGemm.trivial(m, n, k, c)) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, a.data, k, b.data, n, 0f, c.data, n);
  }

  @Override
  public void multTransA(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    int k = a.numRows;
    int m = a.numCols;
    int n = b.numCols;
    NetlibGemm.check(k == b.numRows, "multTransA", a, b);
    c.reshape(m, n, false);
    if (NetlibGemm.trivial(m, n, k, c)) return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1f, a.data, m, b.data, n, 0f, c.data, n);
  }

  @Override
  public void multTransB(FMatrixRMaj a, FMatrixRMaj b, FMatrixRMaj c) {
    int m = a.numRows;
    int k = a.numCols;
    int n = b.numRows;
    NetlibGemm.check(k == b.numCols, "multTransB", a, b);
    c.reshape(m, n, false);
    if (NetlibGemm.trivial(m, n, k, c)) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1f, a.data, k, b.data, k, 0f, c.data, n);
  }

  @Override
  public boolean prefersTransposedWeights() {
    return true;
  }

  @Override
  public boolean prefersSparseInput() {
    return false;
  }

  @Override
  public String description() {
    return "openblas " + version + " (bundled, JavaCPP binding)";
  }
}
