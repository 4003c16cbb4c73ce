package dev.sparkprop.spark;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.table.TableInput;
import dev.sparkprop.train.Checkpoints;
import dev.sparkprop.train.DataFit;
import dev.sparkprop.train.TrainingRun;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
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
 * <p>Columns: a label column ({@code label}, or {@link #setLabelCol}) of integer classes, or of
 * strings whose distinct values, sorted, are the classes (kept in the model, see
 * {@link SparkpropModel#labels}); and a features column ({@code image}: binary, one byte 0..255
 * per pixel; {@code features}: an array of float or double, or a Spark ML vector such as
 * {@code VectorAssembler} makes, read without spark-mllib; or {@link #setFeaturesCol}). An integer
 * {@code row} column numbering the rows 0..N-1, if there is one, gives the data their order.
 * Columns are checked before training starts, rows as they are read (a bad one fails the fit
 * naming its row and column). Features other than byte images are standardized by default
 * ({@code features.scale}, computed on the training rows and kept in the model, so that
 * {@code transform} and the model's ONNX graph take the raw values):
 *
 * <pre>{@code
 * Dataset<Row> assembled = new VectorAssembler().setInputCols(new String[] {"age", "income", "visits"})
 *     .setOutputCol("features").transform(customers);           // label: "stays" or "leaves"
 * SparkpropModel churn = new SparkpropClassifier().setLayers("dense(32) relu, dense(2) softmax")
 *     .setEpochs(5).fit(assembled);
 * churn.transform(assembled).select("label", "prediction_label", "probability");
 * }</pre>
 */
public final class SparkpropClassifier {
  /** Keys about files and run directories of the command line; the API takes DataFrames and returns a model. */
  private static final Set<String> COMMAND_LINE_ONLY = Set.of("train.path", "test.path", "train.format", "test.format",
      "out", "overwrite");

  private final Map<String, String> settings = new LinkedHashMap<>();
  private String labelCol = "label";
  private String featuresCol;
  private PrintStream log = System.out;
  private Dataset<Row> testData;
  private String checkpointDir;

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

  /**
   * The features as named numeric columns, in this order ({@code features.columns}); the model
   * keeps their names, and its {@code transform} reads them. Without a features column and
   * without this, every numeric column but the label and {@code row} is a feature.
   */
  public SparkpropClassifier setFeaturesCols(String... columns) {
    return set("features.columns", String.join(",", columns));
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
   * A test set, evaluated on the cluster after the epochs {@code eval.every} says and after the
   * last: its accuracy and loss per epoch go to the progress lines and the final ones to the
   * model's metrics ({@code test_accuracy}, {@code test_loss}). It never chooses the model (the
   * validation set does). Null: none.
   */
  public SparkpropClassifier setTestData(Dataset<Row> test) {
    testData = test;
    return this;
  }

  /**
   * Writes checkpoints into {@code folder} (a local path or any Hadoop URI) every
   * {@code checkpoint.every} epochs (1 unless set; or steps: {@code checkpoint.unit=step}),
   * keeping the newest {@code checkpoint.keep}; and a fit whose folder holds checkpoints written
   * with the same training settings continues from the newest, ending with the parameters of an
   * uninterrupted fit ({@code resume=auto}; {@code resume=true} requires a checkpoint,
   * {@code resume=false} refuses a folder that holds one). Null: none.
   */
  public SparkpropClassifier setCheckpointDir(String folder) {
    checkpointDir = folder;
    return this;
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
    List<DataSpec> views = new ArrayList<>();
    try {
      DataSpec trainData = view(views, TableInput.inspect(train, "training DataFrame", labelCol, featuresCol, cfg.regression(), cfg.featureColumns()));
      DataSpec validationData = validation == null ? null
          : view(views, TableInput.inspect(validation, "validation DataFrame", labelCol, featuresCol, cfg.regression(), cfg.featureColumns()));
      DataSpec test = testData == null ? null
          : view(views, TableInput.inspect(testData, "test DataFrame", labelCol, featuresCol, cfg.regression(), cfg.featureColumns()));
      cfg = DataFit.withInputFrom(cfg, 0, 0, trainData.features, "the training DataFrame");
      Checkpoints checkpoints = null;
      if (checkpointDir != null) {
        if (!settings.containsKey("checkpoint.every")) cfg = cfg.with("checkpoint.every", "1");
        checkpoints = Checkpoints.in(checkpointDir, cfg.checkpointKeep(), log);
      } else if (cfg.checkpointEvery() > 0 || cfg.resume() == TrainConfig.Resume.TRUE) {
        throw new ConfigException((cfg.checkpointEvery() > 0 ? "checkpoint.every" : "resume")
            + ": checkpoints need a folder; set one with setCheckpointDir");
      }
      TrainingRun run = new TrainingRun(jsc, cfg, log).setNoun("DataFrame").validation(validationData).test(test)
          .source(Map.of("source", "DataFrame (Spark application API)")).writeTo(null, checkpoints);
      if (checkpoints != null) run.resumeFrom(checkpoints.startingState(cfg, "another folder (setCheckpointDir)"));
      return SparkpropModel.of(run.fit(trainData).model());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (DataSpec v : views) spark.catalog().dropTempView(v.imagesPath);
    }
  }

  /** {@code data}, whose temporary view is dropped after the fit. */
  private static DataSpec view(List<DataSpec> views, DataSpec data) {
    views.add(data);
    return data;
  }

}
