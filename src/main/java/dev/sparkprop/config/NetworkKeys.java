package dev.sparkprop.config;

import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.NetworkSpec;
import java.util.List;

/**
 * The network the configuration names: {@code layers} (a size list or a layer list), with
 * {@code input.shape}, the hidden layers' {@code activation} and the output layer that the loss
 * needs (softmax for classes, identity for {@code loss=mse}), checked against {@code classes};
 * every refusal names its key.
 */
final class NetworkKeys {
  private NetworkKeys() {}

  /** The units of the network's output layer as {@code layers} writes it (its syntax checked by {@link #network}). */
  static int outputUnits(String text, Activation output) {
    if (NetworkSpec.isSizeList(text)) {
      String[] parts = text.split(",");
      return Integer.parseInt(parts[parts.length - 1].trim());
    }
    List<NetworkSpec.Layer> layers = ConfigException.naming("layers", () -> NetworkSpec.parseLayers(text, Activation.RELU, output));
    NetworkSpec.Layer last = layers.get(layers.size() - 1);
    if (!(last instanceof NetworkSpec.Dense d)) {
      throw new ConfigException("layers: the output layer must be dense with softmax (it is fused with the "
          + "cross-entropy loss), got " + last.describe());
    }
    return d.out();
  }

  /**
   * The network, or null while a layer list waits for {@code input.shape} (its syntax is checked
   * now): {@code text} is {@code layers}, {@code inputShape} {@code input.shape} ("" unset).
   */
  static NetworkSpec network(String text, String inputShape, Activation hidden, Activation output, boolean regression,
      int classes) {
    if (!NetworkSpec.isSizeList(text)) {
      List<NetworkSpec.Layer> layers = ConfigException.naming("layers", () -> NetworkSpec.parseLayers(text, hidden, output));
      NetworkSpec.Layer last = layers.get(layers.size() - 1);
      NetworkSpec built = null;
      if (!(last instanceof NetworkSpec.Dense d) || d.activation() != output) {
        throw new ConfigException(regression
            ? "layers: loss=mse needs a dense output layer with identity (one unit per target), got " + last.describe()
            : "layers: the output layer must be dense with softmax (it is fused with the cross-entropy loss), got "
                + last.describe() + (last instanceof NetworkSpec.Dense o && o.activation() == Activation.IDENTITY
                    ? "; for regression set loss=mse" : ""));
      }
      if (!inputShape.isEmpty()) {
        NetworkSpec.Shape shape = ConfigException.naming("input.shape", () -> NetworkSpec.Shape.parse(inputShape));
        built = ConfigException.naming("layers", () -> new NetworkSpec(shape, layers));
      }
      if (d.out() != classes) {
        throw new ConfigException("layers: the output layer " + last.describe() + " has " + d.out()
            + " units but classes is " + classes + "; it needs one unit per class");
      }
      return built;
    }
    String[] parts = text.split(",");
    int[] sizes = new int[parts.length];
    for (int i = 0; i < parts.length; i++) sizes[i] = Integer.parseInt(parts[i].trim());
    NetworkSpec mlp = ConfigException.naming("layers", () -> NetworkSpec.of(sizes, hidden, output));
    if (!inputShape.isEmpty()) {
      NetworkSpec.Shape shape = ConfigException.naming("input.shape", () -> NetworkSpec.Shape.parse(inputShape));
      if (shape.size() != sizes[0]) {
        throw new ConfigException("input.shape: " + shape + " is " + shape.size() + " values, but layers=" + text
            + " starts with " + sizes[0]);
      }
    }
    if (sizes[sizes.length - 1] != classes) {
      throw new ConfigException("layers: the last size is " + sizes[sizes.length - 1]
          + " but classes is " + classes + "; the output layer needs one unit per class");
    }
    return mlp;
  }
}
