package dev.sparkprop.io;

import dev.sparkprop.data.FeatureScaling;
import dev.sparkprop.nn.NetworkSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A network's parameters with what describes them: the architecture, how its input is read
 * (the feature scaling and, for a table of named columns, their names), extra tensors (a
 * checkpoint's optimizer state) and free-form information (training configuration, metrics, data
 * fingerprint, a checkpoint's cursor) stored in {@code model.json}.
 *
 * @param extraTensors name to flat array, each saved as {@code NAME.npy} of shape (length,)
 * @param info JSON-compatible values (maps, lists, strings, numbers, booleans)
 * @param scaling applied to a row's features before the network ({@link FeatureScaling#NONE}: none)
 * @param featureColumns the table columns the features were read from, in input order (empty: an
 *     image, array or vector column)
 * @param targetScaling a regression's targets as training saw them: {@code (y - shift) / scale};
 *     predictions are the network's outputs through its inverse ({@link FeatureScaling#NONE}: none)
 * @param labels the outputs' names: the classes' when the training labels were strings (class k
 *     is {@code labels.get(k)}), a regression's target columns; empty for integer classes
 */
public record SavedModel(NetworkSpec spec, float[] params, Map<String, float[]> extraTensors,
    Map<String, Object> info, FeatureScaling scaling, List<String> featureColumns, List<String> labels,
    FeatureScaling targetScaling) {
  public SavedModel {
    if (params.length != spec.numParams()) {
      throw new IllegalArgumentException(params.length + " parameters for " + spec + ", which has " + spec.numParams());
    }
    if (!scaling.isNone() && scaling.width() != spec.inputSize()) {
      throw new IllegalArgumentException("a feature scaling of " + scaling.width() + " columns for " + spec + ", which takes "
          + spec.inputSize());
    }
    if (!featureColumns.isEmpty() && featureColumns.size() != spec.inputSize()) {
      throw new IllegalArgumentException(featureColumns.size() + " feature columns for " + spec + ", which takes " + spec.inputSize());
    }
    extraTensors = new LinkedHashMap<>(extraTensors);
    info = new LinkedHashMap<>(info);
    featureColumns = List.copyOf(featureColumns);
    if (!labels.isEmpty() && labels.size() != spec.outputSize()) {
      throw new IllegalArgumentException(labels.size() + " label names for " + spec + ", which has " + spec.outputSize() + " outputs");
    }
    labels = List.copyOf(labels);
    if (!targetScaling.isNone() && targetScaling.width() != spec.outputSize()) {
      throw new IllegalArgumentException("a target scaling of " + targetScaling.width() + " targets for " + spec);
    }
  }

  /** A model without target scaling. */
  public SavedModel(NetworkSpec spec, float[] params, Map<String, float[]> extraTensors, Map<String, Object> info,
      FeatureScaling scaling, List<String> featureColumns, List<String> labels) {
    this(spec, params, extraTensors, info, scaling, featureColumns, labels, FeatureScaling.NONE);
  }

  /** With integer classes. */
  public SavedModel(NetworkSpec spec, float[] params, Map<String, float[]> extraTensors, Map<String, Object> info,
      FeatureScaling scaling, List<String> featureColumns) {
    this(spec, params, extraTensors, info, scaling, featureColumns, List.of());
  }

  /** A model whose input is read as it is, from an image, array or vector column. */
  public SavedModel(NetworkSpec spec, float[] params, Map<String, float[]> extraTensors, Map<String, Object> info) {
    this(spec, params, extraTensors, info, FeatureScaling.NONE, List.of(), List.of());
  }
}
