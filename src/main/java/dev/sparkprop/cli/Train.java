package dev.sparkprop.cli;

import dev.sparkprop.data.DataFingerprint;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.train.Checkpoints;
import dev.sparkprop.train.ConfigException;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.DivergenceException;
import dev.sparkprop.train.EpochMetrics;
import dev.sparkprop.train.RunDirectory;
import dev.sparkprop.train.TrainConfig;
import dev.sparkprop.train.TrainResult;
import dev.sparkprop.train.TrainState;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
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
    System.exit(run(args, System.out));
  }

  /** Everything checked before Spark starts. */
  private record Plan(TrainConfig cfg, DataSpec train, DataSpec test, String outDir, Checkpoints checkpoints,
      TrainState resumed, float[] initFrom) {}

  /** Runs the job; returns the process exit code. */
  public static int run(String[] args, PrintStream out) {
    Plan plan;
    try {
      plan = plan(args, out);
    } catch (Exception e) {
      return Failures.beforeSpark(e);
    }
    TrainConfig cfg = plan.cfg();
    SparkSession spark = SparkSession.builder().appName("sparkprop train").getOrCreate();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      RunDirectory run = new RunDirectory(Path.of(plan.outDir()));
      run.writeConfig(cfg);
      out.println("sparkprop: master " + jsc.master() + ", default parallelism " + jsc.defaultParallelism()
          + ", run directory " + run.path());
      long t0 = System.nanoTime();
      TrainState state = plan.resumed() != null ? plan.resumed()
          : TrainState.fresh(cfg, plan.initFrom() != null ? plan.initFrom() : cfg.initializer().initialize(cfg.spec(), cfg.seed()));
      TrainResult result = new DistributedTrainer(jsc, cfg, out)
          .fit(plan.train(), plan.test(), run, state, cfg.checkpointEvery() > 0 ? plan.checkpoints() : null);
      String modelDir = run.path().resolve("model").toString();
      ModelStore.save(modelDir, new SavedModel(cfg.spec(), result.params(), Map.of(), modelInfo(cfg, plan, result)),
          cfg.overwrite());
      out.println("confusion matrix of the final evaluation (rows: actual, columns: predicted):");
      out.print(result.finalEval().confusionTable());
      out.printf("final test accuracy %.4f, test loss %.4f; %d epochs in %.1f s; model %s%n",
          result.finalEval().accuracy(), result.finalEval().meanLoss(), result.epochs().size(),
          (System.nanoTime() - t0) / 1e9, modelDir);
      return ExitCodes.OK;
    } catch (DivergenceException e) {
      System.err.println("error: " + e.getMessage() + (cfg.checkpointEvery() > 0
          ? "; the last good checkpoint is in " + plan.outDir() + "/checkpoints" : ""));
      return ExitCodes.FAILED;
    } catch (Exception e) { // also SparkException, which Scala throws unchecked
      return Failures.report(e);
    } finally {
      spark.stop();
    }
  }

  private static Plan plan(String[] args, PrintStream out) throws IOException {
    TrainConfig cfg = Args.parse(args);
    String outDir = cfg.outDir();
    String modelDir = outDir + "/model";
    if (ModelStore.exists(modelDir) && !cfg.overwrite()) {
      throw new ConfigException("out: " + outDir + " already holds a model (" + modelDir
          + "); set overwrite=true to replace it, or choose another out=");
    }
    Checkpoints checkpoints = new Checkpoints(outDir, cfg.checkpointKeep(), out);
    boolean hasCheckpoints = checkpoints.any();
    if (cfg.resume().equals("true") && !hasCheckpoints) {
      throw new ConfigException("resume=true but " + outDir + "/checkpoints holds no checkpoint");
    }
    if (cfg.resume().equals("false") && hasCheckpoints) {
      throw new ConfigException("out: " + outDir + " holds checkpoints of an earlier run and resume=false; "
          + "use resume=auto to continue it, or another out=");
    }
    float[] initFrom = null;
    if (!cfg.get("init.from").isEmpty()) {
      SavedModel m = ModelStore.load(cfg.get("init.from"));
      if (!m.spec().equals(cfg.spec())) {
        throw new ConfigException("init.from: the model in " + cfg.get("init.from") + " is " + m.spec()
            + ", the configured network is " + cfg.spec());
      }
      initFrom = m.params();
    }
    String[] tr = MnistFiles.locate(cfg.get("train.path"), "train");
    String[] te = MnistFiles.locate(cfg.get("test.path"), "t10k");
    DataSpec train = DataSpec.check(tr[0], tr[1], cfg.classes());
    DataSpec test = DataSpec.check(te[0], te[1], cfg.classes());
    int inputs = cfg.spec().inputSize();
    if (train.features != inputs || test.features != inputs) {
      throw new ConfigException("layers: the first size is " + inputs + " but the images have "
          + train.features + " (training) and " + test.features + " (test) pixels; set layers="
          + train.features + ",...");
    }
    TrainState resumed = hasCheckpoints ? checkpoints.loadNewest(cfg) : null;
    return new Plan(cfg, train, test, outDir, checkpoints, resumed, initFrom);
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
    info.put("metrics", metrics);
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("train_images", plan.train().imagesPath);
    data.put("train_images_sha256", DataFingerprint.sha256(plan.train().imagesPath));
    data.put("train_labels", plan.train().labelsPath);
    data.put("train_labels_sha256", DataFingerprint.sha256(plan.train().labelsPath));
    data.put("train_rows_used", cfg.trainLimit() > 0 ? Math.min(cfg.trainLimit(), plan.train().count) : plan.train().count);
    info.put("training_data", data);
    return info;
  }

}
