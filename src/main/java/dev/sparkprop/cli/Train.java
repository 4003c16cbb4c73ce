package dev.sparkprop.cli;

import dev.sparkprop.command.CommandArgs;
import dev.sparkprop.command.CommandSession;
import dev.sparkprop.command.ExitCodes;
import dev.sparkprop.command.Failures;
import dev.sparkprop.command.MasterCheck;
import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.config.ValidationSet;
import dev.sparkprop.data.DataFingerprint;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.eval.Predictor;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.report.RunReport;
import dev.sparkprop.run.RunDirectory;
import dev.sparkprop.run.RunLock;
import dev.sparkprop.spark.SparkpropModel;
import dev.sparkprop.table.TableInput;
import dev.sparkprop.train.Checkpoints;
import dev.sparkprop.train.DataFit;
import dev.sparkprop.train.DivergenceException;
import dev.sparkprop.train.TrainResult;
import dev.sparkprop.train.TrainState;
import dev.sparkprop.train.TrainingRun;
import dev.sparkprop.train.sync.TaskSlots;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The training job, run through spark-submit:
 * {@code Train [--config FILE] [key=value ...]}. The master comes from spark-submit, never from here.
 * Configuration, data files, the output directory, checkpoints and {@code init.from} are checked
 * before Spark starts. Exit codes: {@link ExitCodes}.
 */
public final class Train {
  private Train() {}

  public static void main(String[] args) {
    ExitCodes.exit(run(args, System.out));
  }

  /** Everything checked before Spark starts. */
  private record Plan(TrainConfig cfg, DataSpec train, DataSpec test, String outDir, Checkpoints checkpoints,
      TrainState resumed, float[] initFrom, DataFormat trainFormat, DataFormat testFormat) {
    /** With the starting state read once the network is known (a table's layer list takes its width from the data). */
    Plan withStart(TrainState resumedState, float[] initial) {
      return new Plan(cfg, train, test, outDir, checkpoints, resumedState, initial, trainFormat, testFormat);
    }
  }

  /** Runs the job; returns the process exit code. */
  public static int run(String[] args, PrintStream out) {
    RunLock lock = null;
    int code = ExitCodes.FAILED;
    try {
      TrainConfig parsed = TrainConfig.of(CommandArgs.read("train", args, true));
      parsed = parsed.withDefaultOut(); // runs/<timestamp> when unset, fixed once
      lock = RunLock.take(parsed.get("out")); // before anything is read from or written to out=
      code = run(parsed, lock, out);
      return code;
    } catch (Exception e) {
      code = Failures.beforeSpark(e);
      return code;
    } finally {
      if (lock != null) lock.close(code == ExitCodes.USAGE || code == ExitCodes.BAD_INPUT);
    }
  }

  private static int run(TrainConfig parsed, RunLock lock, PrintStream out) {
    Plan plan;
    try {
      plan = plan(parsed, out);
      MasterCheck.check(new org.apache.spark.SparkConf());
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    TrainConfig cfg = plan.cfg();
    Interruption interruption = new Interruption(cfg);
    CommandSession session = CommandSession.open("sparkprop train");
    SparkSession spark = session.spark();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      RunDirectory run = new RunDirectory(plan.outDir());
      run.writeConfig(cfg);
      out.println("sparkprop: master " + jsc.master() + ", default parallelism " + jsc.defaultParallelism()
          + ", run directory " + run.location());
      long t0 = System.nanoTime();
      // Tables are inspected through Spark SQL, so only now; IDX files were checked before Spark started.
      DataSpec trainData = plan.train() != null ? plan.train()
          : TableInput.inspect(spark, plan.trainFormat(), cfg.get("train.path"), "train.path", true, cfg.featureColumns(),
              targets(cfg));
      DataSpec testData = plan.test() != null ? plan.test()
          : TableInput.inspect(spark, plan.testFormat(), cfg.get("test.path"), "test.path", true, cfg.featureColumns(),
              targets(cfg));
      boolean deferred = cfg.needsInputShape();
      cfg = DataFit.withInputFrom(cfg, trainData.height, trainData.width, trainData.features, cfg.get("train.path"));
      if (deferred) {
        checkMemory(cfg);
        plan = plan.withStart(plan.checkpoints().startingState(cfg, "another out="), DataFit.initFromModel(cfg));
      }
      List<Dataset<Row>> predictions = new ArrayList<>();
      NetworkSpec spec = cfg.spec();
      TrainState[] started = new TrainState[1]; // its scaling is known once the training rows are cached
      TrainingRun training = new TrainingRun(jsc, cfg, out).validation(validationData(spark, cfg)).test(testData)
          .resumeFrom(plan.resumed()).initialParameters(plan.initFrom()).writeTo(run, plan.checkpoints())
          .source(trainingData(trainData))
          .onFinish(spec.isRegression() ? null : (testShards, params) -> {
            // The final model's predictions of the test set, kept for the Spark SQL reports.
            jsc.setJobDescription("predictions of the final model");
            Broadcast<float[]> bc = jsc.broadcast(params);
            dev.sparkprop.data.FeatureScaling scaling = started[0].scaling();
            Dataset<Row> p = spark.createDataFrame(testShards.mapPartitions(it -> it.hasNext()
                ? Predictor.predict(it.next(), null, bc.value(), spec, scaling).iterator()
                : java.util.Collections.<Row>emptyIterator()), Predictor.schema(spec.outputSize())).cache();
            p.count();
            predictions.add(p);
          });
      TrainState state = training.start();
      started[0] = state;
      interruption.watch(state);
      TrainingRun.Result fitted = training.fit(trainData);
      TrainResult result = fitted.result();
      String modelDir = run.child("model");
      SparkpropModel.of(fitted.model()).save(modelDir, cfg.overwrite());
      int stepsPerEpoch = (fitted.trainRows() + cfg.batchSize() - 1) / cfg.batchSize();
      if (spec.isRegression()) {
        RunReport.writeRegression(spark, run, cfg, result, state.steps(), stepsPerEpoch, (System.nanoTime() - t0) / 1e9, out);
        EvalSum e = result.finalEval();
        out.printf("final test mse %.6g, rmse %.6g, mae %.6g, r2 %.4f; %d epochs in %.1f s; model %s%n", e.mse(), e.rmse(),
            e.mae(), e.r2(), result.epochs().size(), (System.nanoTime() - t0) / 1e9, modelDir);
        return ExitCodes.OK;
      }
      out.println("confusion matrix of the final evaluation (rows: actual, columns: predicted):");
      out.print(result.finalEval().confusionTable());
      RunReport.write(spark, run, cfg, result, state.steps(), stepsPerEpoch, predictions.get(0), (System.nanoTime() - t0) / 1e9, out);
      out.printf("final test accuracy %.4f, test loss %.4f; %d epochs in %.1f s; model %s%n",
          result.finalEval().accuracy(), result.finalEval().meanLoss(), result.epochs().size(),
          (System.nanoTime() - t0) / 1e9, modelDir);
      return ExitCodes.OK;
    } catch (Exception e) { // also SparkException, which Scala throws unchecked
      if (interruption.happened()) return ExitCodes.FAILED; // the shutdown hook said where; Spark's shutdown is no news
      if (e instanceof ConfigException) {
        System.err.println("error: " + e.getMessage());
        return ExitCodes.USAGE;
      }
      if (e instanceof DivergenceException) {
        System.err.println("error: " + e.getMessage() + (cfg.checkpointEvery() > 0
            ? "; the last good checkpoint is in " + plan.outDir() + "/checkpoints" : ""));
        return ExitCodes.FAILED;
      }
      return Failures.report(e);
    } finally {
      interruption.close();
      session.close();
    }
  }

  private static Plan plan(TrainConfig cfg, PrintStream out) throws IOException {
    TaskSlots.checkLocal(cfg, System.getProperty("spark.master")); // set by spark-submit
    String outDir = cfg.outDir();
    String modelDir = outDir + "/model";
    if (ModelStore.exists(modelDir) && !cfg.overwrite()) {
      throw new ConfigException("out: " + outDir + " already holds a model (" + modelDir
          + "); set overwrite=true to replace it, or choose another out=");
    }
    Checkpoints checkpoints = new Checkpoints(outDir, cfg.checkpointKeep(), out);
    DataFormat trainFormat = DataFormat.resolve(cfg.get("train.path"), cfg.get("train.format"), "train.path");
    DataFormat testFormat = DataFormat.resolve(cfg.get("test.path"), cfg.get("test.format"), "test.path");
    DataSpec train = null;
    DataSpec test = null;
    if (cfg.regression() && (trainFormat == DataFormat.IDX || testFormat == DataFormat.IDX)) {
      throw new ConfigException("loss: mse trains on real-valued targets, and IDX files hold classes; give tables "
          + "(Parquet or CSV) with a numeric label column, or label.columns");
    }
    if (trainFormat == DataFormat.IDX) {
      String[] tr = MnistFiles.locate(cfg.get("train.path"), "train");
      train = DataSpec.check(tr[0], tr[1], cfg.classes());
    }
    if (testFormat == DataFormat.IDX) {
      String[] te = MnistFiles.locate(cfg.get("test.path"), "t10k");
      test = DataSpec.check(te[0], te[1], cfg.classes());
    }
    if (train != null) cfg = DataFit.withInputFrom(cfg, train.height, train.width, train.features, cfg.get("train.path"));
    if (train != null && test != null) checkInputSize(cfg, train, test);
    ValidationSet.checkNeeded(cfg, !cfg.get("validation.path").isEmpty() || cfg.validationFraction() > 0, "validation.path");
    if (cfg.needsInputShape()) { // a table's width is known once Spark reads it: run() does the rest then
      return new Plan(cfg, train, test, outDir, checkpoints, null, null, trainFormat, testFormat);
    }
    checkMemory(cfg);
    float[] initFrom = DataFit.initFromModel(cfg);
    TrainState resumed = checkpoints.startingState(cfg, "another out=");
    return new Plan(cfg, train, test, outDir, checkpoints, resumed, initFrom, trainFormat, testFormat);
  }

  /** The data of validation.path (an IDX pair with the prefix "validation", or a table), or null. */
  private static DataSpec validationData(SparkSession spark, TrainConfig cfg) throws IOException {
    String path = cfg.get("validation.path");
    if (path.isEmpty()) return null;
    DataFormat f = DataFormat.resolve(path, cfg.get("validation.format"), "validation.path");
    if (f == DataFormat.IDX) {
      String[] v = MnistFiles.locate(path, "validation");
      return DataSpec.check(v[0], v[1], cfg.classes());
    }
    return TableInput.inspect(spark, f, path, "validation.path", true, cfg.featureColumns(), targets(cfg));
  }

  /** A regression's target columns for {@link TableInput#inspect} (empty: {@code label}); null for classes. */
  private static List<String> targets(TrainConfig cfg) {
    return cfg.regression() ? cfg.labelColumns() : null;
  }

  /** This JVM is the driver: its heap and the executors' memory, against what the network needs. */
  private static void checkMemory(TrainConfig cfg) {
    long heap = Runtime.getRuntime().maxMemory();
    dev.sparkprop.train.MemoryBudget.checkDriverHeap(heap);
    long executor = org.apache.spark.network.util.JavaUtils.byteStringAsBytes(System.getProperty("spark.executor.memory", "1g"));
    int cores = Integer.parseInt(System.getProperty("spark.executor.cores", "1").trim());
    dev.sparkprop.train.MemoryBudget.checkRun(cfg, System.getProperty("spark.master"), heap, executor, cores);
  }

  private static void checkInputSize(TrainConfig cfg, DataSpec train, DataSpec test) {
    int inputs = cfg.spec().inputSize();
    DataFit.checkInputWidth(cfg, train.features == inputs,
        "the data have " + train.features + " (training) and " + test.features + " (test)", train.features);
    DataFit.checkSameWidth("test.path", "the test data (" + test.imagesPath + ")", test.features, train.features);
  }

  /** What model.json records about the training rows' files (TrainingRun adds the rows used). */
  private static Map<String, Object> trainingData(DataSpec train) throws IOException {
    Map<String, Object> data = new LinkedHashMap<>();
    if (train.isTable()) {
      data.put("train_table", train.imagesPath);
      data.put("train_format", train.format.key());
    } else {
      data.put("train_images", train.imagesPath);
      data.put("train_images_sha256", DataFingerprint.sha256(train.imagesPath));
      data.put("train_labels", train.labelsPath);
      data.put("train_labels_sha256", DataFingerprint.sha256(train.labelsPath));
    }
    return data;
  }

}
