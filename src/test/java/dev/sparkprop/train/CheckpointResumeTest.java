package dev.sparkprop.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.run.StepStats;
import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.sync.JobTransport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints and exact resume, and Spark task retries, on local[2] with up to 4 attempts per
 * task: an interrupted and resumed run, or a run whose tasks fail once, ends with parameters
 * bit-identical to an undisturbed run.
 */
class CheckpointResumeTest {
  private static SparkSession spark;
  private static JavaSparkContext jsc;
  private static DataSpec train;
  private static DataSpec test;
  private static final AtomicInteger failedTasks = new AtomicInteger();
  @TempDir Path dir;

  @BeforeAll
  static void start() throws Exception {
    train = TestData.mnist("train");
    test = TestData.mnist("t10k");
    spark = TestData.spark("local[2,4]");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    jsc.sc().addSparkListener(new SparkListener() {
      @Override
      public void onTaskEnd(SparkListenerTaskEnd end) {
        if (!end.taskInfo().successful()) failedTasks.incrementAndGet();
      }
    });
  }

  @AfterAll
  static void stop() {
    if (spark != null) spark.stop();
  }

  /** 2560 rows: 20 steps an epoch; Adam, so the optimizer state matters. */
  private TrainConfig config(String out, String... kv) {
    Properties p = new Properties();
    p.setProperty("train.limit", "2560");
    p.setProperty("batch.size", "128");
    p.setProperty("test.limit", "500");
    p.setProperty("epochs", "3");
    p.setProperty("partitions", "2");
    p.setProperty("optimizer", "adam");
    p.setProperty("lr", "0.001");
    p.setProperty("log.every", "1000");
    p.setProperty("checkpoint.every", "7");
    p.setProperty("checkpoint.unit", "step");
    p.setProperty("checkpoint.keep", "2");
    p.setProperty("out", out);
    for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
    return TrainConfig.of(p);
  }

  private static final class Interrupt extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  private TrainResult run(TrainConfig cfg, int stopEpoch, int stopStep, ByteArrayOutputStream log) throws Exception {
    return run(cfg, stopEpoch, stopStep, log, t -> t);
  }

  private TrainResult run(TrainConfig cfg, int stopEpoch, int stopStep, ByteArrayOutputStream log, JobTransport.TaskWrapper tasks)
      throws Exception {
    PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);
    Checkpoints ck = new Checkpoints(cfg.get("out"), cfg.checkpointKeep(), ps);
    TrainState state = ck.any() ? ck.loadNewest(cfg) : null;
    if (state == null) state = TrainState.fresh(cfg, cfg.initializer().initialize(cfg.spec(), cfg.seed()));
    DataSpec[] sides = DataFit.holdOut(cfg, train); // {train, null} without validation.fraction
    return new DistributedTrainer(jsc, cfg, ps).validateOn(sides[1]).jobTasksThrough(tasks).onStep(st -> {
      if (st.epoch() == stopEpoch && st.step() == stopStep) throw new Interrupt();
    }).fit(sides[0], test, null, state, ck);
  }

  private TrainResult interruptedThenResumed(TrainConfig cfg, int stopEpoch, int stopStep, Runnable between,
      ByteArrayOutputStream log) throws Exception {
    assertThrows(Interrupt.class, () -> run(cfg, stopEpoch, stopStep, log));
    between.run();
    return run(cfg, -1, -1, log);
  }

  private static List<String> checkpoints(String out) throws Exception {
    try (Stream<Path> s = Files.list(Path.of(out, "checkpoints"))) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Step checkpoints in both transports: the driver holds the whole state after every step. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"barrier,'784,512,10'", "job,'784,512,10'",
      "'barrier','conv(6,5,stride=2) relu, pool(2), dense(32) relu, dense(10) softmax'"})
  void interruptedAndResumedRunIsBitIdenticalToAnUninterruptedOne(String mode, String layers) throws Exception {
    String[] kv = {"sync.mode", mode, "layers", layers, "input.shape", "1,28,28"};
    TrainResult whole = run(config(dir.resolve("a").toString(), kv), -1, -1, new ByteArrayOutputStream());
    String out = dir.resolve("b").toString();
    TrainConfig cfg = config(out, kv);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    // stopped after global step 32 (epoch 2, step 12): checkpoints at steps 21 and 28 remain (keep 2)
    TrainResult resumed = interruptedThenResumed(cfg, 1, 12, () -> {
      try {
        assertEquals(List.of("ckpt-000000000021", "ckpt-000000000028"), checkpoints(out));
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }, log);
    assertTrue(log.toString(StandardCharsets.UTF_8).contains("resuming from checkpoint"), log.toString(StandardCharsets.UTF_8));
    assertTrue(log.toString(StandardCharsets.UTF_8).contains("epoch 2, step 8"), log.toString(StandardCharsets.UTF_8));
    assertFalse(log.toString(StandardCharsets.UTF_8).contains("WARNING: resuming"), "the same partitions and kernel: no warning");
    assertArrayEquals(whole.params(), resumed.params(), "resumed parameters, bit for bit");
    assertEquals(whole.finalEval().correct, resumed.finalEval().correct);
    assertEquals(3, resumed.epochs().size());
    for (int e = 0; e < 3; e++) assertEquals(whole.epochs().get(e).testAccuracy(), resumed.epochs().get(e).testAccuracy(), 0.0);
  }

  /** One reduction order for every topology: stopped in the star, resumed in the tree, the uninterrupted star's bits. */
  @Test
  void aResumeAcrossATopologyChangeIsBitIdentical() throws Exception {
    String[] star = {"sync.mode", "barrier", "sync.topology", "star"};
    TrainResult whole = run(config(dir.resolve("a").toString(), star), -1, -1, new ByteArrayOutputStream());
    String out = dir.resolve("b").toString();
    assertThrows(Interrupt.class, () -> run(config(out, star), 1, 12, new ByteArrayOutputStream()));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainResult resumed = run(config(out, "sync.mode", "barrier", "sync.topology", "tree"), -1, -1, log);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("resuming from checkpoint") && text.contains("sync.topology=tree: fan-in 2"), text);
    assertArrayEquals(whole.params(), resumed.params(), "resumed in the tree: the star's parameters, bit for bit");
    assertEquals(whole.finalEval().correct, resumed.finalEval().correct);
  }

  /**
   * A resume with another partition count than the checkpoint's is allowed (a cluster may have
   * changed) and says that its parameters will differ from an uninterrupted run's by rounding.
   */
  @Test
  void aResumeWithAnotherPartitionCountSaysItsBitsDiffer() throws Exception {
    String out = dir.resolve("p").toString();
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    assertThrows(Interrupt.class, () -> run(config(out, "sync.mode", "job"), 1, 12, first));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainResult r = run(config(out, "sync.mode", "job", "partitions", "3"), -1, -1, log);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("resuming from checkpoint"), text);
    assertTrue(text.contains("WARNING: resuming with 3 partitions where the checkpoint was computed with 2: each step's "
        + "sum is added in another order, so the parameters will differ from an uninterrupted run by rounding; set "
        + "partitions=2 for the same bits"), text);
    assertFalse(text.contains("WARNING: resuming on kernel"), "the same kernel: " + text);
    assertEquals(3, r.epochs().size());
  }

  /**
   * Model selection survives a resume: with a held-out validation set, keep=best and a patience,
   * a run interrupted after its best epoch keeps the same epoch's parameters as an uninterrupted
   * one, bit for bit, and stops at the same epoch.
   */
  @Test
  void keepBestAndEarlyStoppingResumeBitIdentically() throws Exception {
    String[] kv = {"epochs", "6", "optimizer", "sgd", "lr", "0.5", "lr.schedule", "constant", "layers", "784,32,10",
        "train.limit", "1280", "validation.fraction", "0.5", "keep", "best", "early.stop.patience", "1",
        "checkpoint.every", "1", "checkpoint.unit", "epoch"};
    TrainResult whole = run(config(dir.resolve("sel-a").toString(), kv), -1, -1, new ByteArrayOutputStream());
    System.out.printf("keep=best: ran %d epochs, kept epoch %d%n", whole.epochs().size(), whole.keptEpoch());
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    // interrupted in the epoch after the kept one (or in the last): the checkpoint holds the best parameters
    int stopEpoch = Math.min(whole.keptEpoch(), whole.epochs().size() - 1);
    TrainResult resumed = interruptedThenResumed(config(dir.resolve("sel-b").toString(), kv), stopEpoch, 2, () -> { }, log);
    assertTrue(log.toString(StandardCharsets.UTF_8).contains("resuming from checkpoint"), log.toString(StandardCharsets.UTF_8));
    assertEquals(whole.keptEpoch(), resumed.keptEpoch());
    assertEquals(whole.epochs().size(), resumed.epochs().size(), "stopped at the same epoch");
    assertArrayEquals(whole.params(), resumed.params(), "the kept parameters, bit for bit");
    assertEquals(whole.validationEval().lossSum, resumed.validationEval().lossSum, 0.0);
    assertEquals(whole.finalEval().correct, resumed.finalEval().correct);
  }

  /** The steps before the checkpoint come back with it: the report of a resumed run has every step. */
  @Test
  void aResumedRunKeepsEveryStepOfItsHistory() throws Exception {
    TrainConfig whole = config(dir.resolve("a").toString());
    TrainState undisturbed = TrainState.fresh(whole, whole.initializer().initialize(whole.spec(), whole.seed()));
    new DistributedTrainer(jsc, whole, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        .fit(train, test, null, undisturbed, null);
    String out = dir.resolve("b").toString();
    assertThrows(Interrupt.class, () -> run(config(out), 1, 12, new ByteArrayOutputStream())); // checkpoint at step 28
    TrainConfig cfg = config(out);
    Checkpoints ck = new Checkpoints(out, cfg.checkpointKeep(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    TrainState resumed = ck.loadNewest(cfg);
    assertEquals(28, resumed.steps().size(), "the checkpoint's steps");
    new DistributedTrainer(jsc, cfg, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        .fit(train, test, null, resumed, ck);
    assertEquals(60, resumed.steps().size());
    for (int i = 0; i < 60; i++) {
      StepStats a = undisturbed.steps().get(i);
      StepStats b = resumed.steps().get(i);
      assertEquals(a.epoch() * 100 + a.step(), b.epoch() * 100 + b.step(), "step " + i);
      assertEquals(a.rows(), b.rows(), "step " + i);
      assertEquals((float) a.loss(), (float) b.loss(), "step " + i + " (kept as a float)");
      assertEquals((float) a.lr(), (float) b.lr(), "step " + i);
    }
  }

  @Test
  void damagedNewestCheckpointIsSkippedWithAWarning() throws Exception {
    TrainResult whole = run(config(dir.resolve("a").toString()), -1, -1, new ByteArrayOutputStream());
    String out = dir.resolve("b").toString();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainResult resumed = interruptedThenResumed(config(out), 1, 12, () -> {
      try {
        Path t = Path.of(out, "checkpoints", "ckpt-000000000028", "dense_0_W.npy");
        byte[] b = Files.readAllBytes(t);
        b[b.length / 2] ^= 1;
        Files.write(t, b);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }, log);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("WARNING: skipping damaged checkpoint ckpt-000000000028") && text.contains("sha256"), text);
    assertTrue(text.contains("epoch 2, step 1"), "resumed from step 21: " + text);
    assertArrayEquals(whole.params(), resumed.params());
  }

  /** A newest checkpoint holding a NaN (written with matching checksums) is skipped as damaged; the resume is bit-identical. */
  @Test
  void aCheckpointHoldingANaNIsSkippedAsDamaged() throws Exception {
    TrainResult whole = run(config(dir.resolve("a").toString()), -1, -1, new ByteArrayOutputStream());
    String out = dir.resolve("n").toString();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainResult resumed = interruptedThenResumed(config(out), 1, 12, () -> {
      try {
        String ck = Path.of(out, "checkpoints", "ckpt-000000000028").toString();
        dev.sparkprop.io.SavedModel m = dev.sparkprop.io.ModelStore.load(ck);
        float[] p = m.params().clone();
        p[7] = Float.NaN;
        dev.sparkprop.io.ModelStore.save(ck, new dev.sparkprop.io.SavedModel(m.spec(), p, m.extraTensors(), m.info()), true, false);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }, log);
    String text = log.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("WARNING: skipping damaged checkpoint ckpt-000000000028") && text.contains("holds NaN at index 7"), text);
    assertArrayEquals(whole.params(), resumed.params());
  }

  @Test
  void epochCheckpointsResumeAtTheEpochBoundary() throws Exception {
    TrainResult whole = run(config(dir.resolve("a").toString(), "checkpoint.unit", "epoch", "checkpoint.every", "1"),
        -1, -1, new ByteArrayOutputStream());
    TrainConfig cfg = config(dir.resolve("b").toString(), "checkpoint.unit", "epoch", "checkpoint.every", "1");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainResult resumed = interruptedThenResumed(cfg, 2, 5, () -> { }, log);
    assertTrue(log.toString(StandardCharsets.UTF_8).contains("epoch 3, step 0"), log.toString(StandardCharsets.UTF_8));
    assertArrayEquals(whole.params(), resumed.params());
  }

  @Test
  void checkpointOfAnotherConfigurationIsRefused() throws Exception {
    String out = dir.resolve("b").toString();
    assertThrows(Interrupt.class, () -> run(config(out), 0, 10, new ByteArrayOutputStream()));
    TrainConfig other = config(out, "lr", "0.002", "seed", "7");
    ConfigException e = assertThrows(ConfigException.class,
        () -> new Checkpoints(out, 2, System.out).loadNewest(other));
    assertTrue(e.getMessage().contains("seed (checkpoint: 42, now: 7)") && e.getMessage().contains("lr (checkpoint: 0.001, now: 0.002)"),
        e.getMessage());
  }

  @Test
  void tasksThatFailOnceAreRetriedAndChangeNothing() throws Exception {
    // Spark retries a failed task of a job; the barrier transport launches its stage again (ClusterIT)
    TrainConfig cfg = config(dir.resolve("a").toString(), "checkpoint.every", "0", "sync.mode", "job");
    TrainResult clean = run(cfg, -1, -1, new ByteArrayOutputStream());
    int before = failedTasks.get();
    TrainResult retried = run(config(dir.resolve("b").toString(), "checkpoint.every", "0", "sync.mode", "job"), -1, -1,
        new ByteArrayOutputStream(), task -> new FailsFirstAttempt(task, java.util.Set.of("0:3:0", "0:3:1", "1:7:1", "2:19:0")));
    jsc.sc().listenerBus().waitUntilEmpty(); // the task ends reach the listener
    assertEquals(4, failedTasks.get() - before, "four task attempts failed and were retried");
    assertArrayEquals(clean.params(), retried.params(), "parameters after retries, bit for bit");
  }

  /** A round's task whose first attempt fails for the listed epoch:step:partition triples (from 0), so that Spark retries it. */
  private static final class FailsFirstAttempt
      implements org.apache.spark.api.java.function.FlatMapFunction<java.util.Iterator<dev.sparkprop.data.Shard>, PartitionSum> {
    private static final long serialVersionUID = 1L;
    private final JobTransport.RoundTask task;
    private final java.util.Set<String> failing;

    FailsFirstAttempt(JobTransport.RoundTask task, java.util.Set<String> failing) {
      this.task = task;
      this.failing = failing;
    }

    @Override
    public java.util.Iterator<PartitionSum> call(java.util.Iterator<dev.sparkprop.data.Shard> it) throws Exception {
      org.apache.spark.TaskContext ctx = org.apache.spark.TaskContext.get();
      String me = task.round().epoch() + ":" + task.round().first() + ":" + ctx.partitionId();
      if (ctx.attemptNumber() == 0 && failing.contains(me)) {
        throw new IllegalStateException("the test fails the first attempt of epoch:step:partition " + me);
      }
      return task.call(it);
    }
  }
}
