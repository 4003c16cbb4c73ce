package dev.sparkprop.nn;

import dev.ludovic.netlib.blas.JavaBLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Which {@link Gemm} runs the large products: the {@code kernel} configuration key.
 *
 * <ul>
 *   <li>{@code auto} (default): times every kernel that loads and passes its self-check on the
 *       network's own product shapes (a few milliseconds, once per JVM) and takes the fastest
 *       ({@link KernelProbe}).
 *   <li>{@code openblas}: the OpenBLAS that comes with the build ({@link OpenBlasGemm}), on any
 *       machine of the build's platform, with no system package.
 *   <li>{@code native}: the system's {@code libblas.so.3} through netlib's JNI binding (MKL, a
 *       vendor BLAS, Debian's OpenBLAS; or Debian's reference BLAS, far slower: docs/PERFORMANCE.md, "Kernels").
 *   <li>{@code java}: netlib's Java BLAS (the JDK Vector API when {@code jdk.incubator.vector} is
 *       added), with {@link SparseRows} for a mostly-zero input layer (EJML's sparse kernels
 *       without the Vector API).
 *   <li>{@code ejml}: EJML's own kernels, the reference implementation.
 * </ul>
 *
 * Every kernel must pass a self-check against a naive product before it is used; each is
 * resolved once per JVM. A kernel that is absent (no system BLAS, no Vector API) is skipped by
 * {@code auto} without a warning; asked for by name, it fails with what to do.
 */
public enum Kernel {
  AUTO,
  OPENBLAS,
  NATIVE,
  JAVA,
  EJML;

  /** netlib warns on its logger when no system BLAS loads; a skipped candidate is not news. Kept reachable. */
  private static final Logger NETLIB_LOG = Logger.getLogger("dev.ludovic.netlib.blas.InstanceBuilder");

  static {
    NETLIB_LOG.setLevel(Level.SEVERE);
  }

  private static final Resolved[] RESOLVED = new Resolved[values().length];
  private static volatile KernelProbe.Choice autoChoice;

  /** Parses a configuration value ("auto", "openblas", "native", "java", "ejml"). */
  public static Kernel parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown kernel '" + value + "': use auto, openblas, native, java or ejml");
    }
  }

  /** This JVM's implementation (cached); {@code auto} probes with a 784x512 layer and 128 rows. */
  public Gemm gemm() {
    return gemm(128, 784, 512);
  }

  /**
   * This JVM's implementation (cached). The first {@code auto} call probes the candidates on a
   * layer of {@code rows} x {@code in} by {@code in} x {@code out}: the network's largest products.
   */
  public Gemm gemm(int rows, int in, int out) {
    if (this == AUTO) return auto(rows, in, out).gemm();
    Resolved r = resolved(this);
    if (r.gemm == null) throw new IllegalStateException("kernel=" + name().toLowerCase(Locale.ROOT) + ": " + r.failure);
    return r.gemm;
  }

  /** What {@code auto} chose in this JVM and the probe's figures, e.g. for the log (probes if needed). */
  public static KernelProbe.Choice auto(int rows, int in, int out) {
    KernelProbe.Choice c = autoChoice;
    if (c == null) {
      synchronized (Kernel.class) {
        c = autoChoice;
        if (c == null) {
          // the bundled OpenBLAS first: the choice stays with it unless another is clearly faster
          java.nio.file.Path system = SystemBlas.file(); // before the bundled one names itself to netlib
          List<Gemm> candidates = new ArrayList<>();
          Resolved bundled = resolved(OPENBLAS);
          if (bundled.gemm != null) candidates.add(bundled.gemm);
          String note = "";
          if (bundled.gemm != null && SystemBlas.isOpenBlas(system)) { // see SystemBlas: never two OpenBLAS
            note = "system BLAS " + system + " left out: an OpenBLAS too";
          } else {
            Resolved r = resolved(NATIVE);
            if (r.gemm != null) {
              candidates.add(r.gemm);
            } else if (system != null) {
              note = "system BLAS " + system + " not timed: " + r.failure;
            }
          }
          Resolved java = resolved(JAVA);
          if (java.gemm != null) candidates.add(java.gemm);
          autoChoice = c = (candidates.isEmpty() ? new KernelProbe.Choice(EjmlGemm.INSTANCE, List.of(), rows, in, out, "")
              : KernelProbe.fastest(candidates, rows, in, out)).withNote(note);
        }
      }
    }
    return c;
  }

  /**
   * What this choice runs in this JVM, for the log: {@code auto}'s pick with its speed and the
   * others' from the probe (which this call runs if it has not run), or the named kernel.
   */
  public String describe(int rows, int in, int out) {
    return this == AUTO ? "auto = " + auto(rows, in, out).describe() : gemm(rows, in, out).description();
  }

  /** Whether this kernel loads and passes its self-check in this JVM ({@code auto} always does). */
  public boolean available() {
    return this == AUTO || this == EJML || resolved(this).gemm != null;
  }

  /** A kernel's load, once per JVM: the checked implementation or why there is none. */
  private record Resolved(Gemm gemm, String failure) {}

  private static synchronized Resolved resolved(Kernel k) {
    Resolved r = RESOLVED[k.ordinal()];
    if (r == null) {
      r = RESOLVED[k.ordinal()] = load(k);
    }
    return r;
  }

  private static Resolved load(Kernel k) {
    Supplier<Gemm> loader;
    String advice;
    switch (k) {
      case OPENBLAS:
        boolean netlibFree = RESOLVED[NATIVE.ordinal()] == null;
        loader = () -> OpenBlasGemm.load(netlibFree);
        advice = "the bundled OpenBLAS did not load; the build has it for " + System.getProperty("os.name") + "/"
            + System.getProperty("os.arch") + " only if it was built with that javacpp.platform (README, Kernels)";
        break;
      case NATIVE:
        Resolved bundled = RESOLVED[OPENBLAS.ordinal()];
        if (bundled != null && bundled.gemm instanceof NetlibGemm) {
          return new Resolved(null, "netlib's binding (one library per JVM) is taken by the bundled OpenBLAS in this JVM; "
              + "kernel=native needs a JVM that did not load it");
        }
        loader = () -> new NetlibGemm(NativeBLAS.getInstance(), false, "system BLAS " + SystemBlas.file() + " (netlib binding)");
        advice = "no system BLAS (libblas.so.3) loads through netlib; use kernel=auto or kernel=openblas (bundled)";
        break;
      case JAVA:
        loader = () -> new NetlibGemm(JavaBLAS.getInstance(), !Lanes.ON);
        advice = "netlib's Java BLAS did not load";
        break;
      default:
        return new Resolved(EjmlGemm.INSTANCE, null);
    }
    try {
      return new Resolved(selfChecked(loader.get()), null);
    } catch (RuntimeException | LinkageError e) {
      return new Resolved(null, advice + " (" + e + ")");
    }
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
