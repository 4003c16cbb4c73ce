package dev.sparkprop.optim;

/**
 * Keeps optimizer state out of the subnormal range. A state value that no longer gets a gradient
 * (the weight of a pixel that is almost always 0, say) decays geometrically: a momentum of 0.9
 * takes it from 1e-3 to below {@link Float#MIN_NORMAL} in about 770 steps, then through the
 * subnormal range in about 150 more. Arithmetic on subnormals costs the CPU a micro-code assist
 * per value, and Java cannot set the flush-to-zero mode: the default job's Nesterov update
 * grew about four times slower a step after four epochs (docs/PERFORMANCE.md, "Changes measured,
 * kept or dropped", has the figures). So every {@link #EVERY} steps each state array is scanned and its subnormal values set to 0, as
 * TensorFlow's flush-to-zero mode would have done at once: a value of at most 1.2e-38 is lost,
 * nothing else changes. A scan is one scalar pass over the state; every 16th step it keeps
 * most values from spending more than 16 steps there.
 */
final class Subnormals {
  private Subnormals() {}

  /** Steps between two scans (on the optimizer's step count, so a resumed run scans at the same steps). */
  static final int EVERY = 16;

  /** Sets the subnormal values of {@code state} to zero when {@code step} is a multiple of {@link #EVERY}. */
  static void flush(float[] state, long step) {
    if (step % EVERY != 0) return;
    for (int i = 0; i < state.length; i++) {
      float x = state[i];
      if (x != 0f && Math.abs(x) < Float.MIN_NORMAL) state[i] = 0f;
    }
  }
}
