package dev.sparkprop.cli;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.train.TrainState;

/**
 * What a training run says when SIGINT or SIGTERM ends it: one line, from a shutdown hook, naming
 * where training stood and whether a rerun resumes; afterwards the run's own failure (Spark's
 * context stops under it) is not reported again. {@link #close} removes the hook when the run ends
 * by itself. The line is printed only when a signal did end it: the JVM also runs its shutdown
 * hooks when it exits for another reason (Spark's handler of an {@code OutOfMemoryError} in one of
 * its threads calls {@code System.exit}), and such a run was not interrupted.
 */
final class Interruption implements AutoCloseable {
  private static volatile String signalled; // "INT" or "TERM" once one arrived

  static {
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        sun.misc.Signal sig = new sun.misc.Signal(name);
        sun.misc.SignalHandler[] previous = new sun.misc.SignalHandler[1];
        // note the signal, then hand it on (the JVM's handler starts the shutdown, Spark's logs it)
        previous[0] = sun.misc.Signal.handle(sig, s -> {
          signalled = name;
          sun.misc.SignalHandler p = previous[0];
          if (p == sun.misc.SignalHandler.SIG_DFL || p == null) {
            Runtime.getRuntime().exit(128 + s.getNumber());
          } else if (p != sun.misc.SignalHandler.SIG_IGN) {
            p.handle(s);
          }
        });
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        // the signal is not available here (or -Xrs): the line is printed for any shutdown, as before
        signalled = "unknown";
      }
    }
  }

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
    if (signalled == null) return; // an exit, not a signal: the failure that caused it speaks for itself
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
