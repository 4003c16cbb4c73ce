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
}
