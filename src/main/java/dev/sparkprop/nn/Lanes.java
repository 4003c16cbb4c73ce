package dev.sparkprop.nn;

/**
 * Whether this JVM runs the lane-wise kernels with the JDK's Vector API: the head's
 * ({@link BlockedPool}, {@link RunLanes}) and a mostly-zero input layer's ({@link SparseRows}).
 * It needs the {@code jdk.incubator.vector} module (the launchers start the JVM with it, as
 * Spark's launcher does) and vectors of at least 8 lanes (without them the API's Java fallback
 * is slower than scalar code). Without it the head's kernels run their scalar forms, the same
 * bits (each repeats its lanes' operations); the input layer takes the kernel's dense products,
 * whose last bits differ.
 *
 * <p>A kernel here creates every vector inside the loop body that uses it: on JDK 17 a vector
 * carried across a loop's back edge, or an operation whose JIT profile has seen two vector
 * classes, can lose its intrinsic and become a Java object per operation (docs/PERFORMANCE.md;
 * {@code HotPathAllocationTest} catches it).
 */
final class Lanes {
  private Lanes() {}

  static final boolean ON = on();

  private static boolean on() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return false;
    try {
      return BlockedPoolLanes.length() >= 8;
    } catch (LinkageError e) {
      return false;
    }
  }

  /** What runs the lane-wise kernels here, for the executors' kernel line. */
  static String description() {
    return ON ? "Vector API, " + BlockedPoolLanes.length() + " lanes" : "scalar (no jdk.incubator.vector module)";
  }
}
