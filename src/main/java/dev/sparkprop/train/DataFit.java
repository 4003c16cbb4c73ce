package dev.sparkprop.train;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.RowSubset;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.NetworkSpec;

/**
 * Where a training configuration meets its data: the input shape a layer list takes from the
 * data, the checks that the data's width fits the network, the parameters {@code init.from}
 * names, and the validation rows {@code validation.fraction} holds out. {@link TrainConfig} itself
 * only parses and checks the keys.
 */
public final class DataFit {
  private DataFit() {}

  /**
   * {@code cfg} with {@code input.shape} taken from the data when a layer list needs it
   * (an IDX file's 1,rows,cols; a table's width as a vector W,1,1 for dense layers, as a square
   * 1,side,side for convolutions); otherwise {@code cfg}.
   *
   * @param rows, cols the IDX images' rows and columns, or 0, 0 for a table
   * @param features values per row of the data
   */
  public static TrainConfig withInputFrom(TrainConfig cfg, int rows, int cols, int features, String where) {
    if (!cfg.needsInputShape()) return cfg;
    String shape;
    boolean dense = NetworkSpec.parseLayers(cfg.get("layers"), Activation.RELU).stream()
        .allMatch(l -> l instanceof NetworkSpec.Dense);
    if (rows > 0 && cols > 0) {
      shape = "1," + rows + "," + cols;
    } else if (dense) { // a table's rows for dense layers: a vector of any width
      shape = features + ",1,1";
    } else {
      int side = (int) Math.round(Math.sqrt(features));
      if (side * side != features) {
        throw new ConfigException("input.shape: the layer list needs the images' shape, and " + where + " has "
            + features + " values per row, not a square; set input.shape=C,H,W");
      }
      shape = "1," + side + "," + side;
    }
    return cfg.with("input.shape", shape);
  }

  /**
   * Refuses evaluation data ({@code key}: test.path, validation.path) whose width differs from the
   * training data's, which the network was checked against; naming both widths (the hint for
   * layers= would be wrong: the network fits the training data).
   */
  public static void checkSameWidth(String key, String what, int width, int trainingWidth) {
    if (width == trainingWidth) return;
    throw new ConfigException(key + ": " + what + " has " + width + " features per row, but the training data have "
        + trainingWidth + " (as the network does); training, validation and test data must have the same width");
  }

  /**
   * Refuses data whose rows do not fit the network's input, naming the key to change.
   *
   * @param have the data's width as a phrase: "the data have 784 (training) and 784 (test)"
   * @param width the training data's width, suggested as the first size
   */
  public static void checkInputWidth(TrainConfig cfg, boolean fits, String have, int width) {
    if (fits) return;
    NetworkSpec spec = cfg.spec();
    throw new ConfigException(NetworkSpec.isSizeList(cfg.get("layers"))
        ? "layers: the first size is " + spec.inputSize() + " but " + have + " features per row; set layers="
            + width + ",..."
        : "input.shape: " + spec.inputShape() + " is " + spec.inputSize() + " values but " + have + " values per row"
            + "; set input.shape to the images' C,H,W");
  }

  /**
   * The parameters of the model {@code init.from} names, refused unless its network is this
   * configuration's; null when the key is unset.
   */
  public static float[] initFromModel(TrainConfig cfg) throws java.io.IOException {
    if (cfg.get("init.from").isEmpty()) return null;
    dev.sparkprop.io.SavedModel m = dev.sparkprop.io.ModelStore.load(cfg.get("init.from"));
    if (!m.spec().equals(cfg.spec())) {
      throw new ConfigException("init.from: the model in " + cfg.get("init.from") + " is " + m.spec()
          + ", the configured network is " + cfg.spec());
    }
    return m.params();
  }

  /**
   * The training data and the validation data held out of it by {@code validation.fraction}
   * ({training, validation}), or {@code {train, null}} without one. The split covers the first
   * {@code train.limit} rows (all without a limit).
   */
  public static DataSpec[] holdOut(TrainConfig cfg, DataSpec train) {
    if (cfg.validationFraction() == 0) return new DataSpec[] {train, null};
    int rows = cfg.trainLimit() > 0 ? Math.min(cfg.trainLimit(), train.count) : train.count;
    RowSubset[] sides;
    try {
      sides = RowSubset.split(rows, cfg.validationFraction(), cfg.seed());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    return new DataSpec[] {train.withSubset(sides[0]), train.withSubset(sides[1])};
  }
}
