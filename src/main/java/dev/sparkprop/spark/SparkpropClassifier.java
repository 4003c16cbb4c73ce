package dev.sparkprop.spark;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.table.TableInput;
import dev.sparkprop.train.ConfigException;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.EpochMetrics;
import dev.sparkprop.train.TrainConfig;
import dev.sparkprop.train.TrainResult;
import dev.sparkprop.train.TrainState;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Trains a network on a DataFrame inside a Spark application, with the same training as the
 * command line (the same keys, README "Configuration"; the driver adds the partitions' gradient
 * sums, averages them and applies the optimizer every step):
 *
 * <pre>{@code
 * SparkpropModel model = new SparkpropClassifier()
 *     .setLayers("784,512,10").setEpochs(3)
 *     .fit(spark.read().parquet("data/mnist-parquet/train"));
 * Dataset<Row> scored = model.transform(spark.read().parquet("data/mnist-parquet/test"));
 * model.save("hdfs:///models/mnist");
 * }</pre>
 *
 * <p>Columns: an integer label column ({@code label}, or {@link #setLabelCol}) and a features
 * column ({@code image}: binary, one byte 0..255 per pixel, or {@code features}: array of float
 * or double in [0, 1]; or {@link #setFeaturesCol}); an integer {@code row} column numbering the
 * rows 0..N-1, if there is one, gives the data their order. Columns are checked before training
 * starts, rows as they are read (a bad one fails the fit naming its row and column).
 */
public final class SparkpropClassifier {
  /** Keys about files and run directories of the command line; the API takes DataFrames and returns a model. */
  private static final Set<String> COMMAND_LINE_ONLY = Set.of("train.path", "test.path", "train.format", "test.format",
      "out", "overwrite", "checkpoint.every", "checkpoint.unit", "checkpoint.keep", "resume");

  private final Map<String, String> settings = new LinkedHashMap<>();
  private String labelCol = "label";
  private String featuresCol;
  private PrintStream log = System.out;

  /**
   * Sets any training key of README "Configuration" ({@code layers}, {@code lr}, {@code optimizer},
   * {@code sync.mode}, ...); checked at once with the command line's messages.
   *
   * @throws ConfigException an unknown key, a bad value, or a key of the command line's files
   */
  public SparkpropClassifier set(String key, String value) {
    if (COMMAND_LINE_ONLY.contains(key)) {
      throw new ConfigException(key + ": a key of the command line's files and run directory; fit takes the data as "
          + "DataFrames and returns the model, which you save with SparkpropModel.save");
    }
    Map<String, String> next = new LinkedHashMap<>(settings);
    next.put(key, value);
    TrainConfig.of(next); // validates
    settings.put(key, value);
    return this;
  }

  /** Every key in {@code values}, as {@link #set}. */
  public SparkpropClassifier set(Map<String, String> values) {
    values.forEach(this::set);
    return this;
  }

  /** {@code 784,512,10}, or a layer list such as {@code conv(32,3) relu, pool(2), dense(10) softmax}. */
  public SparkpropClassifier setLayers(String layers) {
    return set("layers", layers);
  }

  /** {@code C,H,W} of the images, for a layer list (else a square single-channel image is assumed). */
  public SparkpropClassifier setInputShape(String shape) {
    return set("input.shape", shape);
  }

  public SparkpropClassifier setEpochs(int epochs) {
    return set("epochs", String.valueOf(epochs));
  }

  public SparkpropClassifier setBatchSize(int batchSize) {
    return set("batch.size", String.valueOf(batchSize));
  }

  public SparkpropClassifier setLearningRate(double lr) {
    return set("lr", String.valueOf(lr));
  }

  /** {@code sgd}, {@code momentum}, {@code nesterov}, {@code rmsprop} or {@code adam}. */
  public SparkpropClassifier setOptimizer(String optimizer) {
    return set("optimizer", optimizer);
  }

  public SparkpropClassifier setSeed(long seed) {
    return set("seed", String.valueOf(seed));
  }

  /** Partitions of the training data (0: Spark's default parallelism). */
  public SparkpropClassifier setPartitions(int partitions) {
    return set("partitions", String.valueOf(partitions));
  }

  /** {@code barrier} (default) or {@code job}. */
  public SparkpropClassifier setSyncMode(String mode) {
    return set("sync.mode", mode);
  }

  public SparkpropClassifier setLabelCol(String column) {
    labelCol = column;
    return this;
  }

  /** The features column; by default the one of {@code image} and {@code features} that the DataFrame has. */
  public SparkpropClassifier setFeaturesCol(String column) {
    featuresCol = column;
    return this;
  }

  /** Where progress lines go (default standard output; null: nowhere). */
  public SparkpropClassifier setLog(PrintStream out) {
    log = out != null ? out : new PrintStream(OutputStream.nullOutputStream());
    return this;
  }

  /** The configuration a fit would use (every key, defaults included). */
  public Map<String, String> config() {
    return TrainConfig.of(settings).resolved();
  }

  /** Trains on {@code train}; the model's metrics are the training loss per epoch. */
  public SparkpropModel fit(Dataset<Row> train) {
    return fit(train, null);
  }

  /**
   * Trains on {@code train}, evaluating on {@code validation} (null: none) after every epoch; with
   * {@code keep=best} the model is the epoch with the lowest validation loss, and
   * {@code early.stop.patience=N} stops after N epochs without a lower one.
   */
  public SparkpropModel fit(Dataset<Row> train, Dataset<Row> validation) {
    SparkSession spark = train.sparkSession();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    TrainConfig cfg = TrainConfig.of(settings);
    DataSpec trainData = TableInput.inspect(train, "training DataFrame", labelCol, featuresCol);
    DataSpec validationData = null;
    try {
      if (validation != null) {
        if (cfg.validationFraction() > 0) {
          throw new ConfigException("validation.fraction is set and a validation DataFrame is given; choose one validation set");
        }
        validationData = TableInput.inspect(validation, "validation DataFrame", labelCol, featuresCol);
      }
      cfg = cfg.withInputFrom(0, 0, trainData.features, "the training DataFrame");
      DataSpec[] sides = cfg.holdOut(trainData); // {train, null} without validation.fraction
      trainData = sides[0];
      if (sides[1] != null) validationData = sides[1];
      NetworkSpec spec = cfg.spec();
      checkWidth(cfg, trainData, "training");
      if (validationData != null) checkWidth(cfg, validationData, "validation");
      float[] init = cfg.initFromModel();
      if (init == null) init = cfg.initializer().initialize(spec, cfg.seed());
      TrainResult r = new DistributedTrainer(jsc, cfg, log).validateOn(validationData)
          .fit(trainData, null, null, TrainState.fresh(cfg, init), null);
      return new SparkpropModel(new SavedModel(spec, r.params(), Map.of(), info(cfg, r, validationData != null)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      spark.catalog().dropTempView(trainData.imagesPath);
      if (validationData != null) spark.catalog().dropTempView(validationData.imagesPath);
    }
  }

  private static void checkWidth(TrainConfig cfg, DataSpec data, String which) {
    cfg.checkInputWidth(data.features == cfg.spec().inputSize(), "the " + which + " DataFrame has " + data.features,
        data.features);
  }

  private static Map<String, Object> info(TrainConfig cfg, TrainResult r, boolean validated) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("created", Instant.now().toString());
    info.put("config", cfg.resolved());
    Map<String, Object> metrics = new LinkedHashMap<>();
    List<EpochMetrics> epochs = r.epochs();
    metrics.put("epochs", epochs.size());
    metrics.put("final_train_loss", epochs.get(epochs.size() - 1).trainLoss());
    metrics.put("kept_epoch", r.keptEpoch());
    if (validated) {
      metrics.put("validation_accuracy", r.validationEval().accuracy());
      metrics.put("validation_loss", r.validationEval().meanLoss());
    }
    info.put("metrics", metrics);
    info.put("training_data", Map.of("source", "DataFrame (Spark application API)"));
    return info;
  }
}
