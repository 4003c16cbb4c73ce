package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.run.StepStats;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.TestData;
import dev.sparkprop.train.TrainResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Training on separate executor JVMs of a standalone cluster (two workers, one core each, on
 * loopback, with authentication) against local[2]; an executor killed mid-training; an
 * application without the secret refused.
 */
class ClusterIT {
  private static Cluster cluster;
  private static DataSpec train;
  private static DataSpec test;

  @BeforeAll
  static void up() throws Exception {
    train = TestData.mnist("train");
    test = TestData.mnist("t10k");
    cluster = new Cluster("cluster", 2, 17077);
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster != null) cluster.close();
  }

  private static TrainConfig config(int rows) {
    Properties p = new Properties();
    p.setProperty("train.limit", String.valueOf(rows));
    p.setProperty("test.limit", "2000");
    p.setProperty("epochs", "1");
    p.setProperty("partitions", "2");
    p.setProperty("batch.size", "128");
    p.setProperty("shuffle", "true");
    p.setProperty("log.every", "1000");
    return TrainConfig.of(p);
  }

  /** The id of the application {@link #train} runs, for finding its executor JVMs. */
  private static volatile String appId;
  /** By partition: the executor its latest task started on (barrier stages: one task per partition). */
  private static final java.util.Map<Integer, String> executorOfPartition = new java.util.concurrent.ConcurrentHashMap<>();
  /** What the trainer printed in the last {@link #train}. */
  private static volatile String lastLog = "";

  private static SparkSession session(String master) throws Exception {
    if (master.startsWith("spark://")) cluster.awaitNoExecutors();
    SparkSession.Builder b = SparkSession.builder().master(master).appName("sparkprop-cluster-it")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.task.maxDirectResultSize", "64m")
        .config("spark.log.structuredLogging.enabled", "false");
    if (master.startsWith("spark://")) {
      b.config("spark.jars", cluster.jars())
          .config("spark.executor.memory", "768m")
          .config("spark.executor.cores", "1")
          .config("spark.cores.max", "2");
      for (String k : cluster.auth().stringPropertyNames()) b.config(k, cluster.auth().getProperty(k));
    }
    return b.getOrCreate();
  }

  /** Trains on {@code master}, waiting for both executors first on a cluster. */
  private static TrainResult train(String master, TrainConfig cfg, java.util.function.Consumer<dev.sparkprop.run.StepStats> l,
      int[] executorsSeen) throws Exception {
    SparkSession spark = session(master);
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      appId = jsc.sc().applicationId();
      executorOfPartition.clear();
      jsc.sc().addSparkListener(new org.apache.spark.scheduler.SparkListener() {
        @Override
        public void onTaskStart(org.apache.spark.scheduler.SparkListenerTaskStart e) {
          executorOfPartition.put(e.taskInfo().index(), e.taskInfo().executorId());
        }
      });
      if (master.startsWith("spark://")) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (jsc.sc().statusTracker().getExecutorInfos().length < 3) { // driver + 2 executors
          assertTrue(System.nanoTime() < deadline, "the two executors did not register in 90 s");
          Thread.sleep(200);
        }
      }
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      TrainResult r = new DistributedTrainer(jsc, cfg, new PrintStream(log, true, StandardCharsets.UTF_8))
          .onStep(l).fit(train, test, null);
      if (executorsSeen != null) executorsSeen[0] = jsc.sc().statusTracker().getExecutorInfos().length - 1;
      lastLog = log.toString(StandardCharsets.UTF_8);
      System.out.println(lastLog);
      return r;
    } finally {
      spark.stop();
    }
  }

  /** Of {@code execs}, the JVM of Spark executor {@code id} (its command line says {@code --executor-id ID}). */
  private static ProcessHandle executorOf(List<ProcessHandle> execs, String id) throws java.io.IOException {
    for (ProcessHandle h : execs) {
      String cmd = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + h.pid() + "/cmdline"), StandardCharsets.ISO_8859_1);
      if (cmd.contains("--executor-id\u0000" + id + "\u0000")) return h;
    }
    throw new AssertionError("no executor JVM with id " + id + " among " + execs);
  }

  /**
   * Starts a thread that picks an executor JVM, waits {@code delayMs}, kills it with SIGKILL and
   * waits for it to exit; {@code killedPid[0]} and {@code killed[0]} say which and whether.
   */
  private static Thread killLater(java.util.concurrent.Callable<ProcessHandle> pick, long delayMs, long[] killedPid,
      boolean[] killed) {
    Thread t = new Thread(() -> {
      try {
        ProcessHandle exec = pick.call();
        killedPid[0] = exec.pid();
        Thread.sleep(delayMs);
        killed[0] = new ProcessBuilder("kill", "-9", String.valueOf(exec.pid())).start().waitFor() == 0
            && exec.onExit().get(10, TimeUnit.SECONDS) != null;
      } catch (Exception ex) {
        killed[0] = false;
      }
    });
    t.start();
    return t;
  }

  @Test
  void separateExecutorJvmsGiveBitIdenticalParametersToLocal() throws Exception {
    TrainConfig cfg = config(6400);
    TrainResult local = train("local[2]", cfg.with("sync.mode", "job"), st -> { }, null);
    int[] executors = new int[1];
    long t0 = System.nanoTime();
    List<Double> jobLosses = new ArrayList<>();
    TrainResult remote = train(cluster.url, cfg.with("sync.mode", "job"), st -> jobLosses.add(st.loss()), executors);
    System.out.printf("cluster run with sync.mode=job: %d executors, %.1f s%n", executors[0], (System.nanoTime() - t0) / 1e9);
    assertEquals(2, executors[0], "two executor JVMs");
    assertArrayEquals(local.params(), remote.params(), "cluster and local[2] parameters, bit for bit");
    assertEquals(local.finalEval().correct, remote.finalEval().correct);
    assertEquals(local.finalEval().lossSum, remote.finalEval().lossSum, 0.0);
    assertArrayEquals(local.finalEval().confusion, remote.finalEval().confusion);
    // sync.mode=barrier: the executor JVMs exchange with the driver directly, over TCP and over its Unix socket;
    // in the tree (driver <- 0 <- 1) partition 1's sum goes through partition 0's executor
    for (String[] v : new String[][] {{"tcp", "star"}, {"auto", "star"}, {"tcp", "tree"}, {"auto", "tree"}}) {
      String socket = v[0];
      List<Double> losses = new ArrayList<>();
      t0 = System.nanoTime();
      TrainResult barrier = train(cluster.url, cfg.with("sync.mode", "barrier", "sync.socket", socket, "sync.topology", v[1]),
          st -> losses.add(st.loss()), null);
      System.out.printf("cluster run with sync.mode=barrier sync.socket=%s sync.topology=%s: %.1f s%n", socket, v[1],
          (System.nanoTime() - t0) / 1e9);
      String what = socket + ", " + v[1];
      assertArrayEquals(local.params(), barrier.params(), "barrier (" + what + ") on the cluster and local[2] (job per step), bit for bit");
      assertEquals(local.finalEval().correct, barrier.finalEval().correct);
      assertEquals(jobLosses, losses, "every step's loss, bit for bit (" + what + ")");
      assertEquals(50, losses.size(), "every step reported");
      assertEquals(v[1].equals("tree"), lastLog.contains("sync.topology=tree: fan-in 2"), lastLog);
    }
  }

  /** sync.every=4 (local SGD): the replicas' average through the driver from two executor JVMs equals local[2]'s jobs. */
  @Test
  void localSgdOnSeparateExecutorJvmsEqualsLocal() throws Exception {
    TrainConfig cfg = config(6400).with("sync.every", "4", "optimizer", "adam", "lr", "0.002");
    TrainResult local = train("local[2]", cfg.with("sync.mode", "job"), st -> { }, null);
    TrainResult remote = train(cluster.url, cfg.with("sync.mode", "barrier", "sync.socket", "tcp"), st -> { }, null);
    assertArrayEquals(local.params(), remote.params(), "local SGD: cluster barrier and local[2] jobs, bit for bit");
    assertEquals(local.finalEval().correct, remote.finalEval().correct);
    assertTrue(local.finalEval().accuracy() > 0.8, "accuracy " + local.finalEval().accuracy());
    TrainResult exact = train("local[2]", cfg.with("sync.every", "1"), st -> { }, null);
    assertFalse(Arrays.equals(exact.params(), local.params()), "sync.every=4 is not the exact synchronous result");
  }

  /**
   * Kills one executor JVM with SIGKILL after step 30 of 100, in each transport: the run
   * recovers (job: Spark retries the lost tasks; barrier: the driver launches the stage again
   * from the step that failed) and ends with the undisturbed parameters, bit for bit.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"job", "barrier", "tree"})
  void killedExecutorIsRecoveredAndParametersStayBitIdentical(String mode) throws Exception {
    // tree: driver <- 0 <- 1, and the executor killed is partition 0's, the interior task
    TrainConfig cfg = config(12800).with("sync.mode", mode.equals("job") ? "job" : "barrier", "sync.socket", "tcp",
        "sync.topology", mode.equals("tree") ? "tree" : "star"); // 100 steps
    long[] undisturbedSteps = new long[100];
    TrainResult undisturbed = train(cluster.url, cfg, st -> undisturbedSteps[st.step()] = st.wall(), null);

    long[] steps = new long[100];
    long[] killedPid = {-1};
    Thread[] killer = new Thread[1];
    boolean[] killed = {false};
    TrainResult disturbed = train(cluster.url, cfg, st -> {
      steps[st.step()] = st.wall();
      if (st.step() == 30) {
        List<ProcessHandle> execs;
        try {
          execs = cluster.executors(appId);
        } catch (java.io.IOException ex) {
          throw new AssertionError(ex);
        }
        assertEquals(2, execs.size(), "two executor JVMs of " + appId + " before the kill");
        // Kill while step 31's tasks run, not between steps.
        killer[0] = killLater(() -> mode.equals("tree") ? executorOf(execs, executorOfPartition.get(0)) : execs.get(0), 5,
            killedPid, killed);
      }
    }, null);
    killer[0].join();
    assertTrue(killed[0], "executor " + killedPid[0] + " was killed");
    double[] after = new double[69];
    for (int s = 31; s < 100; s++) after[s - 31] = steps[s] / 1e6;
    double recoveryMs = Arrays.stream(after).max().orElse(0);
    long[] sorted = undisturbedSteps.clone();
    Arrays.sort(sorted);
    System.out.printf("sync.mode=%s: executor %d killed with SIGKILL after step 30: slowest later step %.0f ms "
        + "(the one that waited for recovery), undisturbed median step %.1f ms, whole disturbed run %.1f s%n",
        mode, killedPid[0], recoveryMs, sorted[50] / 1e6, Arrays.stream(steps).sum() / 1e9);
    if (!mode.equals("job")) {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("the barrier stage failed at epoch 1 step (\\d+): ")
          .matcher(lastLog);
      assertTrue(m.find(), "the relaunch is logged with its cause:\n" + lastLog);
      int from = Integer.parseInt(m.group(1));
      assertTrue(from >= 31, "launched again from the step that failed, not the epoch's start: step " + from);
      System.out.println("barrier stage launched again from step " + from);
    }
    assertArrayEquals(undisturbed.params(), disturbed.params(), "parameters after recovery, bit for bit");
    assertEquals(undisturbed.finalEval().correct, disturbed.finalEval().correct);
  }

  /**
   * The doors the secret does not guard are shut: the master runs no REST submission server
   * (which would run anyone's driver), and its web UI kills no application.
   */
  @Test
  void restSubmissionAndWebUiKillAreRefused() throws Exception {
    String master = Files.readString(cluster.run.resolve("logs/master.log"), StandardCharsets.UTF_8);
    assertFalse(master.contains("Started REST server"), "the master started its REST server:\n" + master);
    assertThrows(java.net.ConnectException.class, () -> post("http://127.0.0.1:6066/v1/submissions/create",
        "{\"action\":\"CreateSubmissionRequest\",\"appResource\":\"file:/bin/true\",\"mainClass\":\"x\"}"),
        "nothing listens on the REST port");
    int[] kill = {-1};
    List<Double> losses = new ArrayList<>();
    TrainResult r = train(cluster.url, config(6400), st -> {
      losses.add(st.loss());
      if (st.step() == 5) {
        try {
          kill[0] = post("http://127.0.0.1:" + (cluster.port + 1000) + "/app/kill/?id=" + appId + "&terminate=true", "");
        } catch (java.io.IOException e) {
          throw new AssertionError(e);
        }
      }
    }, null);
    System.out.println("web UI kill answered HTTP " + kill[0]);
    assertTrue(kill[0] >= 0, "the kill request was sent");
    assertEquals(50, losses.size(), "the application ran to its end");
    assertTrue(r.finalEval().accuracy() > 0.8);
    master = Files.readString(cluster.run.resolve("logs/master.log"), StandardCharsets.UTF_8);
    assertFalse(master.contains("Asked to kill application") || master.contains("KILLED"), master);
  }

  /** POSTs {@code body}; the HTTP status (redirects not followed). */
  private static int post(String url, String body) throws java.io.IOException {
    java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(url).toURL().openConnection();
    c.setInstanceFollowRedirects(false);
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setConnectTimeout(5000);
    c.setReadTimeout(10000);
    c.getOutputStream().write(body.getBytes(StandardCharsets.UTF_8));
    int code = c.getResponseCode();
    c.disconnect();
    return code;
  }

  @Test
  void dryRunForThisClusterKeepsTheSecretOffTheCommandLine() throws Exception {
    String out = cluster.script("train-cluster", "--master", cluster.url, "--dry-run", "epochs=1");
    String secret = cluster.auth().getProperty("spark.authenticate.secret");
    assertTrue(secret != null && secret.length() >= 32, "a generated secret");
    assertTrue(out.contains("--properties-file"), out);
    assertFalse(out.contains(secret), "the secret must not appear on a command line: " + out);
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(cluster.run.resolve("conf/auth.conf"))), "the secret file is the owner's only");
  }

  @Test
  void applicationWithoutTheSecretIsRefusedAtOnceInOneLine() throws Exception {
    refusedInOneLine("sparkprop-noauth", null, "closed the connection");
  }

  @Test
  void applicationWithAWrongSecretIsRefusedAtOnceInOneLine() throws Exception {
    refusedInOneLine("sparkprop-wrongauth", "0".repeat(64), "the authentication handshake failed");
  }

  /**
   * Submits a training run to the cluster without its secret ({@code secret} null) or with
   * another: exit 2 within seconds, one line naming the master and what to do, no trace, and
   * nothing registered at the master.
   */
  private void refusedInOneLine(String name, String secret, String says) throws Exception {
    Path root = cluster.root;
    Path confDir = Files.createTempDirectory("noauth-conf");
    Files.copy(root.resolve("conf/log4j2.properties"), confDir.resolve("log4j2.properties"));
    Files.writeString(confDir.resolve("spark-defaults.conf"), Files.readString(root.resolve("conf/spark-defaults.conf"))
        + (secret == null ? "" : "\nspark.authenticate true\nspark.authenticate.secret " + secret + "\n"));
    List<String> cmd = new ArrayList<>(List.of(root.resolve("submit/spark-submit").toString(),
        "--master", cluster.url, "--name", name, "--class", "dev.sparkprop.cli.Train",
        "--conf", "spark.driver.host=127.0.0.1", "--jars", cluster.jars().substring(cluster.jars().indexOf(',') + 1),
        root.resolve("target/sparkprop.jar").toString(), "epochs=1", "train.limit=1280",
        "train.path=" + TestData.mnistDir(), "test.path=" + TestData.mnistDir(),
        "out=" + root.resolve("target/it-" + name + "-run")));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("SPARK_HOME");
    pb.environment().put("SPARK_CONF_DIR", confDir.toString()); // not the cluster's secret
    Path log = Files.createTempFile("noauth", ".log");
    pb.redirectOutput(log.toFile());
    long t0 = System.nanoTime();
    Process p = pb.start();
    int exit;
    try {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the refused application should end within a minute");
      exit = p.exitValue();
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    String text = Files.readString(log, StandardCharsets.UTF_8);
    System.out.println(name + ": exit " + exit + " after " + String.format("%.1f", seconds) + " s:\n" + text);
    assertEquals(2, exit, text);
    List<String> errors = text.lines().filter(l -> l.startsWith("error: ")).toList();
    assertEquals(1, errors.size(), text);
    assertTrue(errors.get(0).contains("master " + cluster.url) && errors.get(0).contains(says), errors.get(0));
    assertFalse(text.contains("\tat "), "no stack trace:\n" + text);
    assertFalse(text.contains("Epoch 1"), "no training may happen without the secret");
    assertFalse(Files.exists(root.resolve("target/it-" + name + "-run")), "a refused run leaves no run directory");
    String master = Files.readString(cluster.run.resolve("logs/master.log"), StandardCharsets.UTF_8);
    assertFalse(master.contains("Registering app " + name), "the master registered the application:\n" + master);
  }
}
