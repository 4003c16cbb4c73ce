package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The console's view of a running epoch. On a terminal: one line redrawn in place (at most five
 * times a second) with a bar, steps done of the epoch's total, the current batch loss, samples
 * per second and the time left of the epoch. Elsewhere (CI, logs, pipes): the notebook's plain
 * "loss at batch K" lines every {@code log.every} steps.
 */
final class Progress {
  private static final long REDRAW_NANOS = 200_000_000L;
  private static final int WIDTH = 30;

  private final PrintStream out;
  private final boolean bar;
  private final int logEvery;
  private long lastDraw;
  private boolean drawn;

  Progress(PrintStream out, boolean bar, int logEvery) {
    this.out = out;
    this.bar = bar;
    this.logEvery = logEvery;
  }

  /** progress=auto|bar|plain; auto draws the bar when the driver's console is a terminal. */
  static boolean wantsBar(TrainConfig.ProgressMode mode) {
    return switch (mode) {
      case BAR -> true;
      case PLAIN -> false;
      case AUTO -> System.console() != null;
    };
  }

  /**
   * @param k the step just finished in this epoch (from 0; {@code k + 1} are done)
   * @param steps steps in the epoch
   * @param loss the step's mean loss
   * @param samples rows trained on in this epoch so far
   * @param seconds time since the epoch started
   */
  void step(int epoch, int k, int steps, double loss, long samples, double seconds) {
    if (!bar) {
      if (k % logEvery == 0) out.printf("loss at batch %d: %.2f%n", k, loss);
      return;
    }
    long now = System.nanoTime();
    int done = k + 1;
    if (done < steps && now - lastDraw < REDRAW_NANOS) return;
    lastDraw = now;
    int filled = (int) ((long) WIDTH * done / steps);
    double rate = seconds > 0 ? samples / seconds : 0;
    double left = done > 0 ? seconds * (steps - done) / done : 0;
    out.print(String.format(Locale.ROOT, "\repoch %d [%s%s] %d/%d loss %.4f %,.0f samples/s %s left ", epoch + 1,
        "#".repeat(filled), ".".repeat(WIDTH - filled), done, steps, loss, rate, clock(left)));
    out.flush();
    drawn = true;
  }

  /** Clears the bar before the epoch's summary line. */
  void endEpoch() {
    if (bar && drawn) {
      out.print("\r" + " ".repeat(WIDTH + 80) + "\r");
      out.flush();
      drawn = false;
    }
  }

  private static String clock(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
