package dev.sparkprop.command;

import org.apache.spark.sql.SparkSession;

/**
 * The Spark session a command runs in: the one already running in this JVM when there is one (a
 * command called from a Spark application's own code, or a test class's session), which the
 * command leaves running; otherwise a new one, which the command stops when it ends.
 */
public final class CommandSession implements AutoCloseable {
  private final SparkSession spark;
  private final boolean own;

  private CommandSession(SparkSession spark, boolean own) {
    this.spark = spark;
    this.own = own;
  }

  /** The running session, or a new one named {@code appName}. */
  public static CommandSession open(String appName) {
    scala.Option<SparkSession> running = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession()
        : SparkSession.getDefaultSession();
    if (running.isDefined() && !running.get().sparkContext().isStopped()) return new CommandSession(running.get(), false);
    return new CommandSession(SparkSession.builder().appName(appName).getOrCreate(), true);
  }

  public SparkSession spark() {
    return spark;
  }

  /** Stops the session if the command started it. */
  @Override
  public void close() {
    if (own) spark.stop();
  }
}
