package dev.sparkprop.cli;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.io.BadModelException;
import org.apache.spark.SparkException;

/** Maps a failure during a Spark run to a message and an exit code. */
final class Failures {
  private Failures() {}

  /** A failure of the checks made before Spark starts: prints it and returns the exit code. */
  static int beforeSpark(Exception e) {
    if (e instanceof dev.sparkprop.train.ConfigException || e instanceof IllegalArgumentException) {
      System.err.println("error: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    if (e instanceof BadInputException || e instanceof BadModelException) {
      System.err.println("error: bad input: " + e.getMessage());
      return ExitCodes.BAD_INPUT;
    }
    System.err.println("error: " + e);
    return ExitCodes.FAILED;
  }

  /** A failure during the Spark run: prints it and returns the exit code. */
  static int report(Exception e) {
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
      return ExitCodes.BAD_INPUT;
    }
    if (badInput) {
      System.err.println("error: bad input: " + root.getMessage());
      return ExitCodes.BAD_INPUT;
    }
    System.err.println("error: failed: " + e);
    e.printStackTrace();
    return ExitCodes.FAILED;
  }
}
