package dev.sparkprop.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.NetworkSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * A network as {@code model.json}'s {@code network} object (docs/MODEL_FORMAT.md): written, and
 * read back with every field checked; a bad one is a {@link BadModelException} naming the model
 * and the field.
 */
final class NetworkJson {
  private NetworkJson() {}

  /**
   * A dense network as its sizes and activations (the form of every version-1 model); one with
   * convolutions as its input shape and one object per layer.
   */
  static void write(ObjectNode net, NetworkSpec spec) {
    if (spec.isDense()) {
      ArrayNode layers = net.putArray("layers");
      for (int s : spec.sizes()) layers.add(s);
      ArrayNode acts = net.putArray("activations");
      for (int l = 0; l < spec.numLayers(); l++) acts.add(spec.activation(l).configName());
      return;
    }
    ArrayNode shape = net.putArray("input_shape");
    NetworkSpec.Shape in = spec.inputShape();
    shape.add(in.c()).add(in.h()).add(in.w());
    ArrayNode layers = net.putArray("layers");
    for (int l = 0; l < spec.numLayers(); l++) {
      ObjectNode o = layers.addObject();
      NetworkSpec.Layer layer = spec.layer(l);
      if (layer instanceof NetworkSpec.Conv c) {
        o.put("type", "conv").put("filters", c.filters()).put("kernel", c.kernel()).put("stride", c.stride())
            .put("padding", c.same() ? "same" : "valid").put("activation", c.activation().configName());
      } else if (layer instanceof NetworkSpec.Pool p) {
        o.put("type", "maxpool").put("size", p.size()).put("stride", p.stride());
      } else {
        NetworkSpec.Dense d = (NetworkSpec.Dense) layer;
        o.put("type", "dense").put("units", d.out()).put("activation", d.activation().configName());
      }
    }
  }

  /** The network of a manifest's {@code network} object; {@code where} names the model in messages. */
  static NetworkSpec read(JsonNode net, String where) {
    if (net.has("input_shape")) return readLayerList(net, where);
    List<Integer> sizes = new ArrayList<>();
    for (JsonNode n : net.path("layers")) {
      if (!n.canConvertToInt() || n.asInt() <= 0) throw new BadModelException(where + ": network.layers holds " + n + ", expected positive integers");
      sizes.add(n.asInt());
    }
    List<Activation> acts = new ArrayList<>();
    for (JsonNode n : net.path("activations")) {
      try {
        acts.add(Activation.parse(n.asText()));
      } catch (IllegalArgumentException e) {
        throw new BadModelException(where + ": network.activations: " + e.getMessage());
      }
    }
    try {
      return new NetworkSpec(sizes.stream().mapToInt(Integer::intValue).toArray(), acts.toArray(new Activation[0]));
    } catch (IllegalArgumentException e) {
      throw new BadModelException(where + ": network: " + e.getMessage());
    }
  }

  private static NetworkSpec readLayerList(JsonNode net, String where) {
    JsonNode shape = net.path("input_shape");
    if (!shape.isArray() || shape.size() != 3) throw new BadModelException(where + ": network.input_shape must be [C, H, W], got " + shape);
    int[] chw = new int[3];
    for (int i = 0; i < 3; i++) chw[i] = positiveInt(shape.get(i), "network.input_shape", where);
    List<NetworkSpec.Layer> layers = new ArrayList<>();
    int i = 0;
    for (JsonNode o : net.path("layers")) {
      String at = "network.layers[" + i++ + "]";
      String type = o.path("type").asText();
      try {
        switch (type) {
          case "conv" -> {
            String padding = o.path("padding").asText();
            if (!padding.equals("same") && !padding.equals("valid")) {
              throw new BadModelException(where + ": " + at + ".padding is '" + padding + "', expected same or valid");
            }
            layers.add(new NetworkSpec.Conv(positiveInt(o.path("filters"), at + ".filters", where),
                positiveInt(o.path("kernel"), at + ".kernel", where), positiveInt(o.path("stride"), at + ".stride", where),
                padding.equals("same"), Activation.parse(o.path("activation").asText())));
          }
          case "maxpool" -> layers.add(new NetworkSpec.Pool(positiveInt(o.path("size"), at + ".size", where),
              positiveInt(o.path("stride"), at + ".stride", where)));
          case "dense" -> layers.add(new NetworkSpec.Dense(positiveInt(o.path("units"), at + ".units", where),
              Activation.parse(o.path("activation").asText())));
          default -> throw new BadModelException(where + ": " + at + ".type is '" + type + "', expected conv, maxpool or dense");
        }
      } catch (BadModelException e) {
        throw e;
      } catch (IllegalArgumentException e) {
        throw new BadModelException(where + ": " + at + ": " + e.getMessage());
      }
    }
    try {
      return new NetworkSpec(new NetworkSpec.Shape(chw[0], chw[1], chw[2]), layers);
    } catch (IllegalArgumentException e) {
      throw new BadModelException(where + ": network: " + e.getMessage());
    }
  }

  private static int positiveInt(JsonNode n, String what, String where) {
    if (!n.canConvertToInt() || n.asInt() <= 0) throw new BadModelException(where + ": " + what + " is " + n + ", expected a positive integer");
    return n.asInt();
  }
}
