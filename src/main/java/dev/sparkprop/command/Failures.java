package dev.sparkprop.command;

import dev.sparkprop.config.ConfigException;
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

  /**
   * The CSV reader's limit on a value's length, met while Spark reads a file (its
   * {@code MALFORMED_CSV_RECORD} holds the whole line, which may be hundreds of megabytes: never
   * printed): one line naming the file, or null for any other failure.
   */
  static String overlongCsvValue(Throwable e) {
    String file = null;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = String.valueOf(t.getMessage());
      java.util.regex.Matcher f = java.util.regex.Pattern.compile("while reading file (\\S+?)\\.?\\s").matcher(m.length() > 2000 ? m.substring(0, 2000) : m);
      if (file == null && f.find()) file = f.group(1);
      if (t.getClass().getName().startsWith("com.univocity.parsers") && m.contains("exceeds the maximum number of characters")) {
        return (file != null ? file : "a CSV file") + ": a value is longer than " + dev.sparkprop.table.TableInput.MAX_CHARS_PER_VALUE
            + " characters (the CSV reader's limit: a line without its line breaks or separators, or a damaged file); "
            + "fix the file, or give the data as Parquet";
      }
    }
    return null;
  }

  /** A failure of the checks made before Spark starts: prints it and returns the exit code. */
  public static int beforeSpark(Exception e) {
    if (e instanceof dev.sparkprop.config.ConfigException || e instanceof IllegalArgumentException) {
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
    String csv = overlongCsvValue(e);
    if (csv != null) {
      System.err.println("error: bad input: " + csv);
      debug(e);
      return ExitCodes.BAD_INPUT;
    }
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
