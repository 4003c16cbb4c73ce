package dev.sparkprop.cli;

import dev.sparkprop.train.TrainConfig;
import dev.sparkprop.train.TrainState;

/**
 * What a training run says when SIGINT or SIGTERM ends it: one line, from a shutdown hook, naming
 * where training stood and whether a rerun resumes; afterwards the run's own failure (Spark's
 * context stops under it) is not reported again. {@link #close} removes the hook when the run ends
 * by itself.
 */
final class Interruption implements AutoCloseable {
  private final TrainConfig cfg;
  private final Thread hook;
  private volatile TrainState state;
  private volatile boolean happened;

  Interruption(TrainConfig cfg) {
    this.cfg = cfg;
    hook = new Thread(this::report, "sparkprop-interrupted");
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** The state whose cursor the message names. */
  void watch(TrainState s) {
    state = s;
  }

  boolean happened() {
    return happened;
  }

  private void report() {
    happened = true;
    TrainState s = state;
    String where = s == null ? "before training started" : "at epoch " + (s.epoch() + 1) + " step " + s.step();
    String next = cfg.checkpointEvery() > 0
        ? "rerun with the same out= (" + cfg.get("out") + ") to resume from its newest checkpoint"
        : "no checkpoints were written (checkpoint.every=0): a rerun starts afresh";
    System.err.println("interrupted " + where + "; " + next);
    System.err.flush();
    // What follows is Spark stopping under a run that is over (rejected tasks, a stopped context):
    // this line said what matters, so the logs stay quiet while the process ends.
    org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.OFF);
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs (or ran)
    }
  }
}
