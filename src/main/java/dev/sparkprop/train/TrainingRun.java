package dev.sparkprop.train;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.config.ValidationSet;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.run.EpochMetrics;
import dev.sparkprop.run.RunDirectory;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * One training run, written once for {@code spark.SparkpropClassifier.fit} (DataFrames in, a model
 * out) and the command line's {@code Train} (files in, a run directory out): the validation set
 * (given, or held out of the training rows by {@code validation.fraction}), the check that every
 * set fits the network's input, the starting parameters (a resumed checkpoint, {@code init.from},
 * or the configured initializer), the distributed trainer, and the model with what its
 * {@code model.json} records. A caller describes its data ({@link DataSpec}: IDX files, a table,
 * a DataFrame's view) and adds only its own input and output.
 */
public final class TrainingRun {
  /** What a run produced: the model (its info filled in), the trainer's result, the training rows used. */
  public record Result(SavedModel model, TrainResult result, int trainRows) {}

  private final JavaSparkContext jsc;
  private final TrainConfig cfg;
  private final PrintStream log;
  private DataSpec validation;
  private DataSpec test;
  private TrainState resumed;
  private float[] initial;
  private TrainState start;
  private RunDirectory run;
  private Checkpoints checkpoints;
  private BiConsumer<JavaRDD<Shard>, float[]> onFinish;
  private Map<String, Object> source = Map.of();
  private String setNoun = "data";

  /**
   * @param cfg the run's configuration, the input shape known ({@link TrainConfig#withInputFrom})
   * @param log progress lines
   */
  public TrainingRun(JavaSparkContext jsc, TrainConfig cfg, PrintStream log) {
    this.jsc = jsc;
    this.cfg = cfg;
    this.log = log;
  }

  /** A validation set of its own ({@code validation.path}, or a DataFrame); refused with {@code validation.fraction}. */
  public TrainingRun validation(DataSpec data) {
    validation = data;
    return this;
  }

  /** A test set, evaluated after the epochs {@code eval.every} says and after the last; it never chooses the model. */
  public TrainingRun test(DataSpec data) {
    test = data;
    return this;
  }

  /** Continues from a checkpoint's state instead of starting afresh. */
  public TrainingRun resumeFrom(TrainState state) {
    resumed = state;
    return this;
  }

  /** Starting parameters already read (the command line reads {@code init.from} before Spark starts). */
  public TrainingRun initialParameters(float[] params) {
    initial = params;
    return this;
  }

  /** Where metrics go, and checkpoints when {@code checkpoint.every} is set (both may be null). */
  public TrainingRun writeTo(RunDirectory directory, Checkpoints checkpointStore) {
    run = directory;
    checkpoints = checkpointStore;
    return this;
  }

  /** Called with the test set's shards and the kept parameters after the last epoch (only with a test set). */
  public TrainingRun onFinish(BiConsumer<JavaRDD<Shard>, float[]> f) {
    onFinish = f;
    return this;
  }

  /** What {@code model.json}'s {@code training_data} records about where the training rows came from. */
  public TrainingRun source(Map<String, Object> trainingData) {
    source = trainingData;
    return this;
  }

  /** How messages name the sets: "the training {noun}" ("data" for files, "DataFrame" for the API). */
  public TrainingRun setNoun(String noun) {
    setNoun = noun;
    return this;
  }

  /**
   * The state the run starts from: the resumed checkpoint's, or fresh parameters (those given,
   * else {@code init.from}'s, else the initializer's). The same object the run then advances, so a
   * caller may watch it (the command line reads it on SIGTERM to say where the run stopped).
   */
  public TrainState start() throws IOException {
    if (start == null) {
      if (resumed != null) {
        start = resumed;
      } else {
        float[] p = initial != null ? initial : DataFit.initFromModel(cfg);
        start = p != null ? TrainState.fresh(cfg, p) : TrainState.fresh(cfg);
      }
    }
    return start;
  }

  /** Trains on {@code train} (before any {@code validation.fraction} is held out of it). */
  public Result fit(DataSpec train) throws IOException {
    ValidationSet.checkAtMostOne(cfg, validation != null, "a validation " + setNoun);
    DataSpec[] sides = DataFit.holdOut(cfg, train); // {train, null} without validation.fraction
    DataSpec trainData = sides[0];
    DataSpec validationData = sides[1] != null ? sides[1] : validation;
    checkWidth(trainData, "training");
    if (test != null) checkWidth(test, "test");
    if (validationData != null) checkWidth(validationData, "validation");
    checkClasses(trainData);
    DataSpec testData = test == null ? null : sameLabels(test, trainData, "test");
    validationData = validationData == null ? null : sameLabels(validationData, trainData, "validation");
    // the command line checked this before Spark started; a Spark application's fit, and a table's width, only now
    org.apache.spark.SparkConf conf = jsc.getConf();
    MemoryBudget.checkRun(cfg, jsc.master(), Runtime.getRuntime().maxMemory(), conf.getSizeAsBytes("spark.executor.memory", "1g"),
        conf.getInt("spark.executor.cores", 1));
    if (validationData != null) {
      log.println("data: validation " + validationData.describe() + " (" + validationData.count + " rows)");
    }
    log.println("data: training " + trainData.describe() + " (" + trainData.count + " rows)"
        + (testData != null ? ", test " + testData.describe() + " (" + testData.count + " rows)" : ""));
    if (trainData.stringLabels()) {
      StringBuilder sb = new StringBuilder();
      for (int k = 0; k < trainData.labelNames.size() && k < 20; k++) sb.append(k == 0 ? "" : ", ").append(k).append('=')
          .append(trainData.labelNames.get(k));
      log.println("labels: " + trainData.labelNames.size() + " classes from the training labels, in sorted order: " + sb
          + (trainData.labelNames.size() > 20 ? ", ..." : ""));
    }
    TrainResult r = new DistributedTrainer(jsc, cfg, log).validateOn(validationData).onFinish(onFinish)
        .fit(trainData, testData, run, start(), cfg.checkpointEvery() > 0 ? checkpoints : null);
    int rows = cfg.trainLimit() > 0 ? Math.min(cfg.trainLimit(), trainData.count) : trainData.count;
    SavedModel model = new SavedModel(cfg.spec(), r.params(), Map.of(), info(r, rows), start().scaling(), trainData.columns,
        trainData.regression() ? trainData.targetColumns : trainData.labelNames, start().targetScaling());
    return new Result(model, r, rows);
  }

  /** String labels name the classes: as many as the output layer has units. */
  private void checkClasses(DataSpec train) {
    if (!train.stringLabels() || train.labelNames.size() == cfg.classes()) return;
    List<String> n = train.labelNames;
    throw new ConfigException("classes: the training labels name " + n.size() + " classes (" + String.join(", ",
        n.subList(0, Math.min(8, n.size()))) + (n.size() > 8 ? ", ..." : "") + ") but the network has " + cfg.classes()
        + " outputs; give the output layer " + n.size() + " units (and classes=" + n.size() + " or unset)");
  }

  /**
   * An evaluation set read with the training set's classes: string labels each among the
   * training labels (an unseen one is refused, naming it), integer labels with integer labels.
   */
  private DataSpec sameLabels(DataSpec data, DataSpec train, String which) {
    String key = "data".equals(setNoun) ? which + ".path" : which;
    if (data.stringLabels() != train.stringLabels()) {
      throw new ConfigException(key + ": the " + which + " " + setNoun + " has " + (data.stringLabels() ? "string" : "integer")
          + " labels but the training " + setNoun + " has " + (train.stringLabels() ? "string" : "integer") + " labels");
    }
    if (!data.stringLabels()) return data;
    List<String> unseen = new java.util.ArrayList<>(data.labelNames);
    unseen.removeAll(train.labelNames);
    if (!unseen.isEmpty()) {
      throw new ConfigException(key + ": the " + which + " " + setNoun + " has label" + (unseen.size() > 1 ? "s " : " ")
          + String.join(", ", unseen.subList(0, Math.min(8, unseen.size()))) + (unseen.size() > 8 ? ", ..." : "")
          + " that the training " + setNoun + " does not; the network has no class for " + (unseen.size() > 1 ? "them" : "it"));
    }
    return data.withLabelNames(train.labelNames);
  }

  private void checkWidth(DataSpec data, String which) {
    if (!which.equals("training")) { // the training data were checked first: the network fits them
      DataFit.checkSameWidth("data".equals(setNoun) ? which + ".path" : which, "the " + which + " " + setNoun, data.features,
          cfg.spec().inputSize());
      return;
    }
    DataFit.checkInputWidth(cfg, data.features == cfg.spec().inputSize(), "the " + which + " " + setNoun + " has "
        + data.features, data.features);
  }

  /** What model.json records: when, the configuration, the run's metrics and where the training rows came from. */
  private Map<String, Object> info(TrainResult r, int trainRows) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("created", Instant.now().toString());
    info.put("config", cfg.resolved());
    Map<String, Object> metrics = new LinkedHashMap<>();
    List<EpochMetrics> epochs = r.epochs();
    metrics.put("epochs", epochs.size());
    EvalSum finalEval = r.finalEval();
    if (finalEval != null && finalEval.isRegression()) {
      metrics.put("test_loss", finalEval.meanLoss());
      metrics.put("test_rmse", finalEval.rmse());
      metrics.put("test_mae", finalEval.mae());
      metrics.put("test_r2", finalEval.r2());
    } else if (finalEval != null) {
      metrics.put("test_accuracy", finalEval.accuracy());
      metrics.put("test_loss", finalEval.meanLoss());
      double best = Double.NaN;
      for (EpochMetrics m : epochs) if (!(m.testAccuracy() <= best)) best = m.testAccuracy();
      metrics.put("best_test_accuracy", best);
    }
    metrics.put("final_train_loss", epochs.get(epochs.size() - 1).trainLoss());
    metrics.put("kept_epoch", r.keptEpoch());
    if (r.validationEval() != null && r.validationEval().isRegression()) {
      metrics.put("validation_loss", r.validationEval().meanLoss());
      metrics.put("validation_r2", r.validationEval().r2());
    } else if (r.validationEval() != null) {
      metrics.put("validation_accuracy", r.validationEval().accuracy());
      metrics.put("validation_loss", r.validationEval().meanLoss());
    }
    info.put("metrics", metrics);
    Map<String, Object> data = new LinkedHashMap<>(source);
    data.put("train_rows_used", trainRows);
    info.put("training_data", data);
    return info;
  }
}
