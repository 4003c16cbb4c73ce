package dev.sparkprop.command;

/** The exit codes of every sparkprop command (documented in README.md). */
public final class ExitCodes {
  private ExitCodes() {}

  public static final int OK = 0;
  /** The run started and failed: a Spark job failed, training diverged, an I/O error. */
  public static final int FAILED = 1;
  /** Bad arguments or configuration; refused before Spark starts. */
  public static final int USAGE = 2;
  /** Bad input: a data file, image or model directory that cannot be used. */
  public static final int BAD_INPUT = 3;

  /**
   * Ends a command's process with {@code code}, except a success in a YARN ApplicationMaster
   * (cluster deploy mode), which returns: YARN's ApplicationMaster runs the main method in a
   * thread and reports SUCCEEDED only when it returns; an exit from it, even with 0, ends the
   * application as FAILED ("Shutdown hook called before final status was reported").
   */
  public static void exit(int code) {
    boolean yarnDriver = "yarn".equals(System.getProperty("spark.master"))
        && "cluster".equals(System.getProperty("spark.submit.deployMode"));
    if (code == OK && yarnDriver) return;
    System.exit(code);
  }
}
