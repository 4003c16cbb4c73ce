package dev.sparkprop.cli;

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
}
