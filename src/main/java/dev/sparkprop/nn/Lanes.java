package dev.sparkprop.nn;

/**
 * Whether this JVM runs the head's lane-wise kernels ({@link BlockedPool}, {@link RunLanes})
 * with the JDK's Vector API: it needs the {@code jdk.incubator.vector} module (the launchers
 * start the JVM with it, as Spark's launcher does) and vectors of at least 8 lanes (without
 * them the API's Java fallback is slower than scalar code). Either way the results are the
 * same bits: every kernel's scalar form repeats its lanes' operations.
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
