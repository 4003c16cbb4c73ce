package dev.sparkprop.cli;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.io.ModelWriter;
import dev.sparkprop.train.ConfigException;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.DivergenceException;
import dev.sparkprop.train.RunDirectory;
import dev.sparkprop.train.TrainConfig;
import dev.sparkprop.train.TrainResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * The training job, run through spark-submit:
 * {@code Train [--config FILE] [key=value ...]}. The master comes from spark-submit, never from here.
 * Configuration and data files are checked before Spark starts; exit code 2 for bad arguments or
 * configuration, 1 for bad data or a failed run.
 */
public final class Train {
  private Train() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out));
  }

  /** Runs the job; returns the process exit code. */
  public static int run(String[] args, PrintStream out) {
    TrainConfig cfg;
    try {
      cfg = Args.parse(args);
    } catch (ConfigException | IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(Args.USAGE);
      return 2;
    }
    DataSpec train;
    DataSpec test;
    try {
      String[] tr = MnistFiles.locate(cfg.get("train.path"), "train");
      String[] te = MnistFiles.locate(cfg.get("test.path"), "t10k");
      train = DataSpec.check(tr[0], tr[1], cfg.classes());
      test = DataSpec.check(te[0], te[1], cfg.classes());
      int inputs = cfg.spec().inputSize();
      if (train.features != inputs || test.features != inputs) {
        throw new ConfigException("layers: the first size is " + inputs + " but the images have "
            + train.features + " (training) and " + test.features + " (test) pixels; set layers="
            + train.features + ",...");
      }
    } catch (ConfigException e) {
      System.err.println("error: " + e.getMessage());
      return 2;
    } catch (BadInputException | IOException e) {
      System.err.println("error: bad input: " + e.getMessage());
      return 1;
    }
    String outDir = cfg.outDir();
    SparkSession spark = SparkSession.builder().appName("sparkprop train").getOrCreate();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      RunDirectory run = new RunDirectory(Path.of(outDir));
      run.writeConfig(cfg);
      out.println("sparkprop: master " + jsc.master() + ", default parallelism " + jsc.defaultParallelism()
          + ", run directory " + run.path());
      long t0 = System.nanoTime();
      TrainResult result = new DistributedTrainer(jsc, cfg, out).fit(train, test, run);
      ModelWriter.write(run.path().resolve("model"), cfg.spec(), result.params());
      out.println("confusion matrix of the final evaluation (rows: actual, columns: predicted):");
      out.print(result.finalEval().confusionTable());
      out.printf("final test accuracy %.4f, test loss %.4f; %d epochs in %.1f s; run directory %s%n",
          result.finalEval().accuracy(), result.finalEval().meanLoss(), result.epochs().size(),
          (System.nanoTime() - t0) / 1e9, run.path());
      return 0;
    } catch (DivergenceException e) {
      System.err.println("error: " + e.getMessage());
      return 1;
    } catch (IOException | RuntimeException e) {
      Throwable root = rootCause(e);
      if (root instanceof BadInputException) {
        System.err.println("error: bad input: " + root.getMessage());
        return 1;
      }
      System.err.println("error: training failed: " + e);
      e.printStackTrace();
      return 1;
    } finally {
      spark.stop();
    }
  }

  private static Throwable rootCause(Throwable t) {
    Throwable cur = t;
    while (cur.getCause() != null && cur.getCause() != cur) cur = cur.getCause();
    if (cur instanceof BadInputException) return cur;
    // Spark wraps task failures in a SparkException whose message holds the remote cause's text.
    if (t instanceof SparkException && t.getMessage() != null && t.getMessage().contains("BadInputException")) {
      return new BadInputException(t.getMessage());
    }
    return cur;
  }
}
