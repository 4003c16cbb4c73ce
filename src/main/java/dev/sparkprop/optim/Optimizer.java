package dev.sparkprop.optim;

/**
 * Updates a flat parameter array in place from the mean gradient of one step.
 *
 * <p>Implementations keep their state (velocities, moments, step count) in flat arrays of the
 * same length as the parameters, allocated on the first step.
 */
public interface Optimizer {
  /**
   * @param params flat parameters, modified
   * @param grad mean gradient over the step's global batch, read only
   * @param lr learning rate for this step (from the schedule)
   */
  void step(float[] params, float[] grad, double lr);

  /** Short description for logs, e.g. {@code momentum(0.9, nesterov)}. */
  String describe();

  /**
   * The names of the state's arrays, in a fixed order (not a map's): local SGD packs them after
   * the parameters to average them across partitions.
   */
  java.util.List<String> stateArrays();

  /**
   * The state arrays themselves (not copies), in {@link #stateArrays()} order, allocated as zeros
   * if the optimizer has not stepped yet: local SGD reads and overwrites them in place every
   * round instead of copying the state out and back.
   */
  float[][] liveState(int numParams);

  /** The number of steps taken. */
  long steps();

  /** Sets the number of steps taken (local SGD: the global count after an averaging). */
  void setSteps(long steps);

  /** A copy of the state, for a checkpoint. */
  OptimizerState state();

  /**
   * Continues from a checkpointed state.
   *
   * @throws IllegalArgumentException if the state is not this optimizer's, or its arrays have
   *     the wrong length
   */
  void restore(OptimizerState state, int numParams);

  /** Checks a restored array: present (or absent before the first step) and of the right length. */
  static float[] restored(OptimizerState s, String name, int numParams) {
    float[] a = s.array(name);
    if (a == null) {
      if (s.steps() == 0) return null;
      throw new IllegalArgumentException("optimizer state lacks '" + name + "' after " + s.steps() + " steps");
    }
    if (a.length != numParams) {
      throw new IllegalArgumentException("optimizer state '" + name + "' has " + a.length
          + " values, the network has " + numParams + " parameters");
    }
    return a.clone();
  }
}
