package dev.sparkprop.io;

import dev.sparkprop.nn.NetworkSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A network's parameters with what describes them: the architecture, extra tensors (a
 * checkpoint's optimizer state) and free-form information (training configuration, metrics, data
 * fingerprint, a checkpoint's cursor) stored in {@code model.json}.
 *
 * @param extraTensors name to flat array, each saved as {@code NAME.npy} of shape (length,)
 * @param info JSON-compatible values (maps, lists, strings, numbers, booleans)
 */
public record SavedModel(NetworkSpec spec, float[] params, Map<String, float[]> extraTensors,
    Map<String, Object> info) {
  public SavedModel {
    if (params.length != spec.numParams()) {
      throw new IllegalArgumentException(params.length + " parameters for " + spec + ", which has " + spec.numParams());
    }
    extraTensors = new LinkedHashMap<>(extraTensors);
    info = new LinkedHashMap<>(info);
  }
}
