package dev.sparkprop.optim;

/**
 * A learning-rate schedule: the rate for a global step, given the steps per epoch and in total.
 *
 * <ul>
 *   <li>{@code constant}: {@code base};
 *   <li>{@code step}: {@code base * gamma^floor(epoch / every)} (epoch counted from 0);
 *   <li>{@code cosine}: from {@code base} down to {@code min} over all steps,
 *       {@code min + (base - min)(1 + cos(pi t / T)) / 2}.
 * </ul>
 * An optional linear warm-up over the first {@code warmupSteps} steps (or the first
 * {@code warmupEpochs} epochs' steps) multiplies any of them: step t gets {@code (t + 1) / W} of
 * the rate. With large global batches and a linearly scaled rate (Goyal et al., "Accurate, Large
 * Minibatch SGD", 2017) the warm-up keeps the first steps from diverging.
 */
public final class LearningRate implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  /** The supported schedules, as written in config. */
  public enum Kind { CONSTANT, STEP, COSINE }

  private final Kind kind;
  private final double base;
  private final double gamma;
  private final int everyEpochs;
  private final double min;
  private final long warmupSteps;
  private final double warmupEpochs;

  public LearningRate(Kind kind, double base, double gamma, int everyEpochs, double min, long warmupSteps) {
    this(kind, base, gamma, everyEpochs, min, warmupSteps, 0);
  }

  public LearningRate(Kind kind, double base, double gamma, int everyEpochs, double min, long warmupSteps,
      double warmupEpochs) {
    if (!(base > 0) || Double.isInfinite(base)) throw new IllegalArgumentException("lr must be positive and finite, got " + base);
    if (kind == Kind.STEP && !(gamma > 0 && gamma <= 1)) throw new IllegalArgumentException("lr.gamma must be in (0, 1], got " + gamma);
    if (kind == Kind.STEP && everyEpochs <= 0) throw new IllegalArgumentException("lr.step.epochs must be positive, got " + everyEpochs);
    if (kind == Kind.COSINE && !(min >= 0 && min <= base)) throw new IllegalArgumentException("lr.min must be in [0, lr], got " + min);
    if (warmupSteps < 0) throw new IllegalArgumentException("lr.warmup.steps must be 0 or more, got " + warmupSteps);
    if (!(warmupEpochs >= 0) || Double.isInfinite(warmupEpochs)) {
      throw new IllegalArgumentException("lr.warmup.epochs must be 0 or more, got " + warmupEpochs);
    }
    if (warmupSteps > 0 && warmupEpochs > 0) {
      throw new IllegalArgumentException("give lr.warmup.steps or lr.warmup.epochs, not both");
    }
    this.warmupEpochs = warmupEpochs;
    this.kind = kind;
    this.base = base;
    this.gamma = gamma;
    this.everyEpochs = everyEpochs;
    this.min = min;
    this.warmupSteps = warmupSteps;
  }

  public static LearningRate constant(double lr) {
    return new LearningRate(Kind.CONSTANT, lr, 1, 1, 0, 0);
  }

  /**
   * @param step global step, from 0
   * @param stepsPerEpoch steps in one epoch
   * @param totalSteps steps in the whole run
   */
  public double at(long step, long stepsPerEpoch, long totalSteps) {
    double lr;
    switch (kind) {
      case CONSTANT:
        lr = base;
        break;
      case STEP:
        lr = base * Math.pow(gamma, Math.floorDiv(step / stepsPerEpoch, everyEpochs));
        break;
      case COSINE:
        lr = min + (base - min) * 0.5 * (1 + Math.cos(Math.PI * Math.min(step, totalSteps) / totalSteps));
        break;
      default:
        throw new AssertionError(kind);
    }
    long warm = warmupEpochs > 0 ? Math.max(1, Math.round(warmupEpochs * stepsPerEpoch)) : warmupSteps;
    if (step < warm) lr *= (step + 1) / (double) warm;
    return lr;
  }

  @Override
  public String toString() {
    String s;
    switch (kind) {
      case STEP: s = "step(" + base + ", gamma=" + gamma + " every " + everyEpochs + " epochs)"; break;
      case COSINE: s = "cosine(" + base + " to " + min + ")"; break;
      default: s = "constant(" + base + ")";
    }
    if (warmupEpochs > 0) return s + " after " + warmupEpochs + " warm-up epochs";
    return warmupSteps > 0 ? s + " after " + warmupSteps + " warm-up steps" : s;
  }
}
