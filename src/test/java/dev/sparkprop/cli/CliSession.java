package dev.sparkprop.cli;

import org.apache.spark.sql.SparkSession;

/**
 * The one Spark session of a CLI test class (local[2]): the commands run in it through
 * {@link dev.sparkprop.command.CommandSession} and leave it running; the class stops it at the end.
 */
final class CliSession {
  private CliSession() {}

  static SparkSession start() {
    // the commands read these too (MasterCheck, the barrier slot check)
    System.setProperty("spark.master", "local[2]");
    System.setProperty("spark.ui.enabled", "false");
    System.setProperty("spark.driver.host", "127.0.0.1");
    return SparkSession.builder().appName("sparkprop CLI tests").getOrCreate();
  }

  static void stop(SparkSession spark) {
    try {
      if (spark != null) spark.stop();
    } finally {
      System.clearProperty("spark.master");
      System.clearProperty("spark.ui.enabled");
      System.clearProperty("spark.driver.host");
    }
  }

  /** Jobs the session has run so far. */
  static int jobs(SparkSession spark) {
    return spark.sparkContext().statusTracker().getJobIdsForGroup(null).length;
  }
}
