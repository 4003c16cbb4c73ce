package dev.sparkprop.cli;

import dev.sparkprop.data.DataFingerprint;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.eval.Predictor;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.report.RunReport;
import dev.sparkprop.table.TableFormat;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import dev.sparkprop.table.TableInput;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.train.Checkpoints;
import dev.sparkprop.train.ConfigException;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.DivergenceException;
import dev.sparkprop.train.EpochMetrics;
import dev.sparkprop.train.RunDirectory;
import dev.sparkprop.train.RunLock;
import dev.sparkprop.train.TrainConfig;
import dev.sparkprop.train.TrainResult;
import dev.sparkprop.train.TrainState;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
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
      TrainState resumed, float[] initFrom, TableFormat trainFormat, TableFormat testFormat) {}

  /** Runs the job; returns the process exit code. */
  public static int run(String[] args, PrintStream out) {
    RunLock lock = null;
    try {
      TrainConfig parsed = TrainConfig.of(CommandArgs.read("train", args, true));
      parsed = parsed.with("out", parsed.outDir()); // the default, runs/<timestamp>, fixed once
      lock = RunLock.take(parsed.get("out")); // before anything is read from or written to out=
      return run(parsed, lock, out);
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    } finally {
      if (lock != null) lock.close();
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
          : TableInput.inspect(spark, plan.trainFormat(), cfg.get("train.path"), "train.path");
      DataSpec testData = plan.test() != null ? plan.test()
          : TableInput.inspect(spark, plan.testFormat(), cfg.get("test.path"), "test.path");
      cfg = cfg.withInputFrom(trainData.height, trainData.width, trainData.features, cfg.get("train.path"));
      checkInputSize(cfg, trainData, testData);
      DataSpec[] sides = cfg.holdOut(trainData); // {train, null} without validation.fraction
      trainData = sides[0];
      DataSpec validationData = sides[1] != null ? sides[1] : validationData(spark, cfg);
      if (validationData != null) {
        cfg.checkInputWidth(validationData.features == cfg.spec().inputSize(), "the validation data have "
            + validationData.features, trainData.features);
        out.println("data: validation " + validationData.describe() + " (" + validationData.count + " rows)");
      }
      plan = new Plan(cfg, trainData, testData, plan.outDir(), plan.checkpoints(), plan.resumed(), plan.initFrom(),
          plan.trainFormat(), plan.testFormat());
      out.println("data: training " + trainData.describe() + " (" + trainData.count + " rows), test "
          + testData.describe() + " (" + testData.count + " rows)");
      TrainState state = plan.resumed() != null ? plan.resumed()
          : TrainState.fresh(cfg, plan.initFrom() != null ? plan.initFrom() : cfg.initializer().initialize(cfg.spec(), cfg.seed()));
      interruption.watch(state);
      List<Dataset<Row>> predictions = new ArrayList<>();
      NetworkSpec spec = cfg.spec();
      TrainResult result = new DistributedTrainer(jsc, cfg, out)
          .validateOn(validationData)
          .onFinish((testShards, params) -> {
            // The final model's predictions of the test set, kept for the Spark SQL reports.
            jsc.setJobDescription("predictions of the final model");
            Broadcast<float[]> bc = jsc.broadcast(params);
            Dataset<Row> p = spark.createDataFrame(testShards.mapPartitions(it -> it.hasNext()
                ? Predictor.predict(it.next(), null, bc.value(), spec).iterator()
                : java.util.Collections.<Row>emptyIterator()), Predictor.schema(spec.outputSize())).cache();
            p.count();
            predictions.add(p);
          })
          .fit(plan.train(), plan.test(), run, state, cfg.checkpointEvery() > 0 ? plan.checkpoints() : null);
      String modelDir = run.child("model");
      ModelStore.save(modelDir, new SavedModel(cfg.spec(), result.params(), Map.of(), modelInfo(cfg, plan, result)),
          cfg.overwrite());
      out.println("confusion matrix of the final evaluation (rows: actual, columns: predicted):");
      out.print(result.finalEval().confusionTable());
      int stepsPerEpoch = (int) ((Math.min(cfg.trainLimit() > 0 ? cfg.trainLimit() : Integer.MAX_VALUE, trainData.count)
          + cfg.batchSize() - 1) / cfg.batchSize());
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
    DistributedTrainer.checkLocalSlots(cfg, System.getProperty("spark.master")); // set by spark-submit
    String outDir = cfg.outDir();
    String modelDir = outDir + "/model";
    if (ModelStore.exists(modelDir) && !cfg.overwrite()) {
      throw new ConfigException("out: " + outDir + " already holds a model (" + modelDir
          + "); set overwrite=true to replace it, or choose another out=");
    }
    Checkpoints checkpoints = new Checkpoints(outDir, cfg.checkpointKeep(), out);
    boolean hasCheckpoints = checkpoints.any();
    if (cfg.resume() == TrainConfig.Resume.TRUE && !hasCheckpoints) {
      throw new ConfigException("resume=true but " + outDir + "/checkpoints holds no checkpoint");
    }
    if (cfg.resume() == TrainConfig.Resume.FALSE && hasCheckpoints) {
      throw new ConfigException("out: " + outDir + " holds checkpoints of an earlier run and resume=false; "
          + "use resume=auto to continue it, or another out=");
    }
    TableFormat trainFormat = TableFormat.resolve(cfg.get("train.path"), cfg.get("train.format"), "train.path");
    TableFormat testFormat = TableFormat.resolve(cfg.get("test.path"), cfg.get("test.format"), "test.path");
    DataSpec train = null;
    DataSpec test = null;
    if (trainFormat == TableFormat.IDX) {
      String[] tr = MnistFiles.locate(cfg.get("train.path"), "train");
      train = DataSpec.check(tr[0], tr[1], cfg.classes());
    }
    if (testFormat == TableFormat.IDX) {
      String[] te = MnistFiles.locate(cfg.get("test.path"), "t10k");
      test = DataSpec.check(te[0], te[1], cfg.classes());
    }
    if (train != null) cfg = cfg.withInputFrom(train.height, train.width, train.features, cfg.get("train.path"));
    if (train != null && test != null) checkInputSize(cfg, train, test);
    if (cfg.selectsModel() && cfg.get("validation.path").isEmpty() && cfg.validationFraction() == 0) {
      throw new ConfigException("keep=best and early.stop.patience need a validation set: set validation.path or "
          + "validation.fraction (the test set never chooses the model)");
    }
    float[] initFrom = cfg.initFromModel();
    TrainState resumed = hasCheckpoints ? checkpoints.loadNewest(cfg) : null;
    return new Plan(cfg, train, test, outDir, checkpoints, resumed, initFrom, trainFormat, testFormat);
  }

  /** The data of validation.path (an IDX pair with the prefix "validation", or a table), or null. */
  private static DataSpec validationData(SparkSession spark, TrainConfig cfg) throws IOException {
    String path = cfg.get("validation.path");
    if (path.isEmpty()) return null;
    TableFormat f = TableFormat.resolve(path, cfg.get("validation.format"), "validation.path");
    if (f == TableFormat.IDX) {
      String[] v = MnistFiles.locate(path, "validation");
      return DataSpec.check(v[0], v[1], cfg.classes());
    }
    return TableInput.inspect(spark, f, path, "validation.path");
  }

  private static void checkInputSize(TrainConfig cfg, DataSpec train, DataSpec test) {
    int inputs = cfg.spec().inputSize();
    cfg.checkInputWidth(train.features == inputs && test.features == inputs,
        "the data have " + train.features + " (training) and " + test.features + " (test)", train.features);
  }

  /** What model.json records about where the model came from. */
  private static Map<String, Object> modelInfo(TrainConfig cfg, Plan plan, TrainResult r) throws IOException {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("created", Instant.now().toString());
    info.put("config", cfg.resolved());
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("epochs", r.epochs().size());
    metrics.put("test_accuracy", r.finalEval().accuracy());
    metrics.put("test_loss", r.finalEval().meanLoss());
    double best = Double.NaN;
    for (EpochMetrics m : r.epochs()) if (!(m.testAccuracy() <= best)) best = m.testAccuracy();
    metrics.put("best_test_accuracy", best);
    metrics.put("final_train_loss", r.epochs().get(r.epochs().size() - 1).trainLoss());
    metrics.put("kept_epoch", r.keptEpoch());
    if (r.validationEval() != null) {
      metrics.put("validation_accuracy", r.validationEval().accuracy());
      metrics.put("validation_loss", r.validationEval().meanLoss());
    }
    info.put("metrics", metrics);
    Map<String, Object> data = new LinkedHashMap<>();
    if (plan.train().isTable()) {
      data.put("train_table", plan.train().imagesPath);
      data.put("train_format", plan.train().format);
    } else {
      data.put("train_images", plan.train().imagesPath);
      data.put("train_images_sha256", DataFingerprint.sha256(plan.train().imagesPath));
      data.put("train_labels", plan.train().labelsPath);
      data.put("train_labels_sha256", DataFingerprint.sha256(plan.train().labelsPath));
    }
    data.put("train_rows_used", cfg.trainLimit() > 0 ? Math.min(cfg.trainLimit(), plan.train().count) : plan.train().count);
    info.put("training_data", data);
    return info;
  }

}
