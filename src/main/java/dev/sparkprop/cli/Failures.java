package dev.sparkprop.cli;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.io.BadModelException;
import org.apache.spark.SparkException;

/**
 * Maps a failure to a message and an exit code: bad configuration (2) and bad input (3) as one
 * line naming what to fix, anything else (1) with its trace. {@code SPARKPROP_DEBUG=1} in the
 * environment adds the trace to the first two as well.
 */
public final class Failures {
  private Failures() {}

  private static final boolean DEBUG = "1".equals(System.getenv("SPARKPROP_DEBUG"));

  private static void debug(Exception e) {
    if (DEBUG) e.printStackTrace();
  }

  /** A failure of the checks made before Spark starts: prints it and returns the exit code. */
  public static int beforeSpark(Exception e) {
    if (e instanceof dev.sparkprop.train.ConfigException || e instanceof IllegalArgumentException) {
      System.err.println("error: " + e.getMessage());
      debug(e);
      return ExitCodes.USAGE;
    }
    if (e instanceof BadInputException || e instanceof BadModelException) {
      System.err.println("error: bad input: " + e.getMessage());
      debug(e);
      return ExitCodes.BAD_INPUT;
    }
    System.err.println("error: " + e);
    return ExitCodes.FAILED;
  }

  /** A failure during the Spark run: prints it and returns the exit code. */
  public static int report(Exception e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    boolean badInput = root instanceof BadInputException || root instanceof BadModelException;
    // A task's exception reaches the driver inside a SparkException whose message holds its text.
    if (!badInput && e instanceof SparkException && e.getMessage() != null
        && (e.getMessage().contains("BadInputException") || e.getMessage().contains("BadModelException"))) {
      String m = e.getMessage();
      int at = m.indexOf("Exception: ", m.indexOf("BadInputException") >= 0 ? m.indexOf("BadInputException") : m.indexOf("BadModelException"));
      String text = at >= 0 ? m.substring(at + "Exception: ".length()).split("\n")[0] : m;
      System.err.println("error: bad input: " + text);
      debug(e);
      return ExitCodes.BAD_INPUT;
    }
    if (badInput) {
      System.err.println("error: bad input: " + root.getMessage());
      debug(e);
      return ExitCodes.BAD_INPUT;
    }
    System.err.println("error: failed: " + e);
    e.printStackTrace();
    return ExitCodes.FAILED;
  }
}
