package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end through the real entry point: submit/spark-submit (the launcher and SparkSubmit from
 * the packaged Spark runtime) with the packaged application jar, on local[2], real MNIST.
 */
class TrainLocalIT {
  @TempDir Path out;

  @Test
  void oneEpochOfTheDefaultConfigReaches95PercentAndWritesMetrics() throws Exception {
    Path root = TestData.projectDir();
    TestData.mnistDir();
    List<String> cmd = new ArrayList<>(List.of(root.resolve("submit/spark-submit").toString(),
        "--master", "local[2]", "--class", "dev.sparkprop.cli.Train", "--jars", libJars(root),
        root.resolve("target/sparkprop.jar").toString(),
        "--config", root.resolve("conf/mnist-mlp.properties").toString(),
        "epochs=1", "out=" + out.resolve("run"),
        "train.path=" + root.resolve("data/mnist"), "test.path=" + root.resolve("data/mnist")));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("SPARK_HOME"); // the packaged runtime, whatever the developer's shell has
    pb.environment().remove("SPARK_CONF_DIR");
    Path log = out.resolve("log.txt");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    try {
      assertTrue(p.waitFor(15, TimeUnit.MINUTES), "training did not finish in 15 minutes");
    } finally {
      p.destroyForcibly();
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, p.exitValue(), text);
    Matcher m = Pattern.compile("epoch 1: train loss [0-9.]+, test loss [0-9.]+, test accuracy ([0-9.]+)").matcher(text);
    assertTrue(m.find(), "no epoch line in:\n" + text);
    double acc = Double.parseDouble(m.group(1));
    assertTrue(acc >= 0.95, "test accuracy after one epoch " + acc);
    assertTrue(text.contains("loss at batch 0:") && text.contains("loss at batch 200:"), text);
    List<String> metrics = Files.readAllLines(out.resolve("run/metrics.csv"));
    assertEquals("epoch,train_loss,test_loss,test_accuracy,epoch_seconds,samples_per_second,eval_seconds,lr", metrics.get(0));
    assertEquals(2, metrics.size(), metrics.toString());
    assertTrue(metrics.get(1).startsWith("1,"), metrics.get(1));
    assertTrue(Files.isRegularFile(out.resolve("run/config.properties")));
    assertTrue(Files.size(out.resolve("run/model/dense_0_W.npy")) > 784 * 512 * 4);
    // The reports: summary, per-class table, step losses and the charts (PNG files that decode).
    String summary = Files.readString(out.resolve("run/summary.json"));
    assertTrue(summary.contains("\"final_test_accuracy\" : " + acc) && summary.contains("\"spark_master\" : \"local[2]\""), summary);
    List<String> perClass = Files.readAllLines(out.resolve("run/per_class.csv"));
    assertEquals("class,support,predicted,true_positives,precision,recall,f1", perClass.get(0));
    assertEquals(11, perClass.size());
    assertEquals(1 + 235, Files.readAllLines(out.resolve("run/steps.csv")).size(), "a row per step");
    for (String png : List.of("loss_per_step.png", "epochs.png", "confusion.png")) {
      java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(out.resolve("run/" + png).toFile());
      assertTrue(img != null && img.getWidth() >= 700 && img.getHeight() >= 500, png);
    }
  }

  /** Two runs at once with the same out=: the second is refused at once, the first is untouched. */
  @Test
  void aSecondRunWithTheSameOutIsRefusedWhileTheFirstRuns() throws Exception {
    Path root = TestData.projectDir();
    Path run = out.resolve("shared");
    Process first = start(root, out.resolve("first.txt"), "epochs=2", "out=" + run, "seed=1");
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (!Files.exists(run.resolve("config.properties"))) { // the first one holds the lock and has started
        assertTrue(first.isAlive(), Files.readString(out.resolve("first.txt")));
        assertTrue(System.nanoTime() < deadline, "the first run did not start");
        Thread.sleep(200);
      }
      Process second = start(root, out.resolve("second.txt"), "epochs=2", "out=" + run, "seed=2");
      assertTrue(second.waitFor(2, TimeUnit.MINUTES), "the second run was not refused");
      String text = Files.readString(out.resolve("second.txt"), StandardCharsets.UTF_8);
      System.out.println(text);
      assertEquals(2, second.exitValue(), text);
      assertTrue(text.contains("error: out: " + run + " is in use by another run (process " + first.pid() + " on "), text);
      assertTrue(first.isAlive(), "the first run goes on");
      assertTrue(first.waitFor(10, TimeUnit.MINUTES), "the first run did not finish");
      assertEquals(0, first.exitValue(), Files.readString(out.resolve("first.txt")));
      assertTrue(Files.readString(run.resolve("config.properties")).contains("seed=1"), "the config is the first run's");
    } finally {
      first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * SIGTERM in epoch 2: one line saying where training stood and how to resume, exit 143, no
   * trace; the rerun resumes from the epoch-1 checkpoint and its steps.csv holds every step.
   */
  @Test
  void aTerminatedRunSaysWhereItStoodAndResumesWithItsWholeHistory() throws Exception {
    Path root = TestData.projectDir();
    Path run = out.resolve("sig");
    Path log = out.resolve("sig.txt");
    Process p = start(root, log, "epochs=2", "out=" + run, "checkpoint.every=1");
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      while (!Files.readString(log, StandardCharsets.UTF_8).contains("Epoch 2")) {
        assertTrue(p.isAlive() && System.nanoTime() < deadline, Files.readString(log, StandardCharsets.UTF_8));
        Thread.sleep(100);
      }
      p.destroy(); // SIGTERM
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run did not end");
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(143, p.exitValue(), text);
    Matcher m = Pattern.compile("interrupted at epoch 2 step \\d+; rerun with the same out= \\(" + Pattern.quote(run.toString())
        + "\\) to resume from its newest checkpoint").matcher(text);
    assertTrue(m.find(), text);
    String after = text.substring(m.end());
    // the loop may print its last progress line while the JVM ends; no trace, no error, no relaunch
    assertFalse(after.contains("\tat ") || after.contains("Exception") || after.contains("ERROR")
        || after.contains("launching it again") || after.contains("error:"), "after that line:" + after);
    Process again = start(root, out.resolve("again.txt"), "epochs=2", "out=" + run, "checkpoint.every=1");
    assertTrue(again.waitFor(10, TimeUnit.MINUTES));
    String text2 = Files.readString(out.resolve("again.txt"), StandardCharsets.UTF_8);
    assertEquals(0, again.exitValue(), text2);
    assertTrue(text2.contains("resuming from checkpoint") && text2.contains("epoch 2, step 0"), text2);
    assertEquals(1 + 2 * 235, Files.readAllLines(run.resolve("steps.csv")).size(), "every step of both epochs");
  }

  /** A bad row in a CSV: exit 3 and one line naming file, row and column; no executor or task-set trace before it. */
  @Test
  void aBadTableRowIsOneLineWithoutExecutorTraces() throws Exception {
    Path root = TestData.projectDir();
    Path csv = Files.createDirectories(out.resolve("bad")).resolve("train.csv");
    StringBuilder sb = new StringBuilder("label");
    for (int i = 0; i < 784; i++) sb.append(",pixel").append(i);
    sb.append('\n');
    for (int r = 0; r < 300; r++) {
      sb.append(r % 10);
      for (int i = 0; i < 784; i++) sb.append(',').append(r == 123 && i == 5 ? 300 : (r + i) % 256);
      sb.append('\n');
    }
    Files.writeString(csv, sb.toString());
    Path log = out.resolve("bad.txt");
    Process p = start(root, log, "epochs=1", "out=" + out.resolve("badrun"), "train.path=" + csv);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    String text = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(3, p.exitValue(), text);
    assertTrue(text.contains("error: bad input: train.csv, record 124 (line 125), column pixel5: 300, outside 0..255"), text);
    assertFalse(text.contains("\tat ") || text.contains("Exception in task") || text.contains("Lost task"), text);
    // the JVM's incubator-module warning is not part of what a user reads (submit/spark-class leaves its line out)
    assertFalse(text.contains("WARNING: Using incubator modules"), text);
    assertFalse(text.contains("interrupted"), "no signal, no 'interrupted': " + text);
    assertFalse(Files.exists(out.resolve("badrun")), "the refused run removed the run directory it created");
  }

  /**
   * The example Spark application (examples/, built into target/sparkprop-examples.jar) through
   * spark-submit on the Parquet tables of submit/prepare: it fits, prints the test accuracy and
   * saves a model that loads, with its model.onnx.
   */
  @Test
  void theExampleApplicationFitsTransformsAndSaves() throws Exception {
    Path root = TestData.projectDir();
    Path tables = out.resolve("tables");
    Process prep = new ProcessBuilder(root.resolve("submit/prepare").toString(), "in=" + root.resolve("data/mnist"),
        "out=" + tables).redirectErrorStream(true).redirectOutput(out.resolve("prepare.txt").toFile()).start();
    assertTrue(prep.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, prep.exitValue(), Files.readString(out.resolve("prepare.txt")));
    Path model = out.resolve("example-model");
    List<String> cmd = List.of(root.resolve("submit/spark-submit").toString(), "--master", "local[2]",
        "--class", "dev.sparkprop.examples.MnistApp",
        "--jars", root.resolve("target/sparkprop.jar") + "," + libJars(root),
        root.resolve("target/sparkprop-examples.jar").toString(), tables.toString(), model.toString(), "1");
    Path log = out.resolve("example.txt");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().remove("SPARK_HOME");
    pb.environment().remove("SPARK_CONF_DIR");
    Process p = pb.start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    String text = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(text);
    assertEquals(0, p.exitValue(), text);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("example: test accuracy (0\\.\\d+) on 10000 rows").matcher(text);
    assertTrue(m.find(), text);
    assertTrue(Double.parseDouble(m.group(1)) > 0.95, "one epoch of 784-512-10: " + m.group(1));
    assertTrue(text.contains("example: model saved to " + model), text);
    assertTrue(Files.isRegularFile(model.resolve("model.onnx")));
    assertEquals("784-512(relu)-10(softmax)", dev.sparkprop.io.ModelStore.load(model.toString()).spec().toString());
  }

  /** Starts Train through submit/spark-submit on local[2] with the default config and {@code kv}. */
  private static Process start(Path root, Path log, String... kv) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(root.resolve("submit/spark-submit").toString(),
        "--master", "local[2]", "--class", "dev.sparkprop.cli.Train", "--jars", libJars(root),
        root.resolve("target/sparkprop.jar").toString(),
        "--config", root.resolve("conf/mnist-mlp.properties").toString(),
        "train.path=" + root.resolve("data/mnist"), "test.path=" + root.resolve("data/mnist"), "progress=plain"));
    cmd.addAll(List.of(kv));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().remove("SPARK_HOME");
    pb.environment().remove("SPARK_CONF_DIR");
    return pb.start();
  }

  private static String libJars(Path root) throws Exception {
    StringBuilder sb = new StringBuilder();
    File[] jars = root.resolve("target/lib").toFile().listFiles((d, n) -> n.endsWith(".jar"));
    assertTrue(jars != null && jars.length > 0, "target/lib is empty: run mvn package");
    for (File f : jars) sb.append(sb.length() == 0 ? "" : ",").append(f.getAbsolutePath());
    return sb.toString();
  }
}
