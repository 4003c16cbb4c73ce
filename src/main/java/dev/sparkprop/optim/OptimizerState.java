package dev.sparkprop.optim;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An optimizer's state for checkpoints: its named flat arrays (velocity, moments), each the
 * length of the parameters, and the number of steps taken. Restoring it continues the run
 * bit for bit.
 */
public record OptimizerState(long steps, Map<String, float[]> arrays) implements java.io.Serializable {
  public OptimizerState {
    arrays = new LinkedHashMap<>(arrays);
  }

  public static OptimizerState empty() {
    return new OptimizerState(0, Map.of());
  }

  /** The named array, or null if the optimizer had not allocated it yet. */
  public float[] array(String name) {
    return arrays.get(name);
  }
}
