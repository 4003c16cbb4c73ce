package dev.sparkprop.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates a flat parameter array in place from the mean gradient of one step. The base owns
 * what every optimizer has: its named state arrays (velocities, moments; each the length of the
 * parameters, allocated on the first step), the step count, their checkpoint form and the flush
 * of subnormal state values. A subclass is its update rule ({@link #update}) and its name.
 */
public abstract class Optimizer {
  private final List<String> names;
  private float[][] arrays; // null until the first step (or liveState)
  private long steps;

  /** @param stateArrays the names of the state's arrays, in the order {@link #update} receives them */
  protected Optimizer(String... stateArrays) {
    this.names = List.of(stateArrays);
  }

  /**
   * @param params flat parameters, modified
   * @param grad mean gradient over the step's global batch, read only
   * @param lr learning rate for this step (from the schedule)
   */
  public final void step(float[] params, float[] grad, double lr) {
    if (arrays == null) allocate(params.length);
    steps++;
    update(params, grad, lr, arrays, steps);
    for (float[] a : arrays) Subnormals.flush(a, steps);
  }

  /**
   * The update rule: changes {@code params} and the state arrays in place.
   *
   * @param state the arrays named in the constructor, in that order
   * @param t the number of this step, from 1
   */
  protected abstract void update(float[] params, float[] grad, double lr, float[][] state, long t);

  /** Short description for logs, e.g. {@code momentum(0.9, nesterov)}. */
  public abstract String describe();

  /**
   * The names of the state's arrays, in a fixed order (not a map's): local SGD packs them after
   * the parameters to average them across partitions.
   */
  public final List<String> stateArrays() {
    return names;
  }

  /**
   * The state arrays themselves (not copies), in {@link #stateArrays()} order, allocated as zeros
   * if the optimizer has not stepped yet: local SGD reads and overwrites them in place every
   * round instead of copying the state out and back.
   */
  public final float[][] liveState(int numParams) {
    if (arrays == null) allocate(numParams);
    return arrays;
  }

  private void allocate(int numParams) {
    arrays = new float[names.size()][numParams];
  }

  /** The number of steps taken. */
  public final long steps() {
    return steps;
  }

  /** Sets the number of steps taken (local SGD: the global count after an averaging). */
  public final void setSteps(long steps) {
    this.steps = steps;
  }

  /** A copy of the state, for a checkpoint. */
  public final OptimizerState state() {
    Map<String, float[]> copy = new LinkedHashMap<>();
    if (arrays != null) for (int j = 0; j < names.size(); j++) copy.put(names.get(j), arrays[j].clone());
    return new OptimizerState(steps, copy);
  }

  /**
   * Continues from a checkpointed state.
   *
   * @throws IllegalArgumentException if the state is not this optimizer's, or its arrays have
   *     the wrong length
   */
  public final void restore(OptimizerState state, int numParams) {
    for (String name : state.arrays().keySet()) {
      if (!names.contains(name)) {
        throw new IllegalArgumentException(describe() + " has no state array '" + name + "'; its arrays are " + names);
      }
    }
    float[][] restored = new float[names.size()][];
    boolean any = false;
    for (int j = 0; j < names.size(); j++) {
      restored[j] = restored(state, names.get(j), numParams);
      any |= restored[j] != null;
    }
    if (any) {
      for (int j = 0; j < names.size(); j++) if (restored[j] == null) restored[j] = new float[numParams];
    }
    arrays = any ? restored : null;
    steps = state.steps();
  }

  /** Checks a restored array: present (or absent before the first step) and of the right length. */
  private static float[] restored(OptimizerState s, String name, int numParams) {
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
