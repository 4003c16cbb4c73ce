package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.train.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.server.resourcemanager.rmapp.RMApp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code submit/train-cluster --master yarn} against a real YARN and HDFS: Hadoop's
 * MiniYARNCluster and MiniDFSCluster in this JVM ({@link MiniHadoop}), the NodeManager running
 * the ApplicationMaster (with the driver: cluster deploy mode) and two executors as containers,
 * separate JVMs. The job reads MNIST from HDFS and writes its run directory there; the test reads
 * the model back. An undisturbed run, then in each transport the same run with one executor
 * container killed (SIGKILL) in its second epoch, which must finish SUCCEEDED with the same bits.
 */
class YarnIT {
  private static MiniHadoop hadoop;
  private static String mnist;
  private static final List<ApplicationId> apps = new ArrayList<>();

  @BeforeAll
  static void up() throws Exception {
    hadoop = new MiniHadoop(TestData.projectDir().resolve("target/minihadoop-" + ProcessHandle.current().pid()), true);
    mnist = "hdfs:///data/mnist"; // the cluster's default file system, as a user of it writes
    hadoop.copyIdx(TestData.mnistDir(), hadoop.uri("/data/mnist"));
  }

  @AfterAll
  static void down() throws Exception {
    if (hadoop == null) return;
    hadoop.close();
    // nothing of the applications outlives the cluster
    long until = System.nanoTime() + 30_000_000_000L;
    List<ProcessHandle> left;
    do {
      left = containers("");
      if (left.isEmpty()) break;
      Thread.sleep(200);
    } while (System.nanoTime() < until);
    assertTrue(left.isEmpty(), "container JVMs left after the cluster stopped: " + left.stream().map(p -> p.pid()).toList());
  }

  /** JVMs of YARN containers (ApplicationMaster or executor) of application {@code appId} ("" for any of this test's). */
  private static List<ProcessHandle> containers(String appId) {
    List<ProcessHandle> out = new ArrayList<>();
    ProcessHandle.allProcesses().forEach(p -> {
      String cmd = p.info().commandLine().orElse("");
      boolean ours = apps.stream().anyMatch(a -> cmd.contains(a.toString())) && cmd.contains(appId);
      if (ours && (cmd.contains("YarnCoarseGrainedExecutorBackend") || cmd.contains("ApplicationMaster"))) out.add(p);
    });
    return out;
  }

  private static List<ProcessHandle> executors(ApplicationId app) {
    return containers(app.toString()).stream()
        .filter(p -> p.info().commandLine().orElse("").contains("YarnCoarseGrainedExecutorBackend")).toList();
  }

  /** The outcome of one submission: spark-submit's exit code and output, YARN's application and final status. */
  private record Submitted(int code, String output, ApplicationId app, FinalApplicationStatus status) {}

  /**
   * Submits a short training run (6,000 rows, 3 epochs, two executors of one core) in cluster
   * deploy mode and waits for spark-submit to return; {@code duringRun} is called every 100 ms
   * with the application while it runs.
   */
  private static Submitted submit(String mode, String out, java.util.function.Consumer<ApplicationId> duringRun)
      throws Exception {
    return submit(mode, out, hadoop.confDir, duringRun);
  }

  /** {@link #submit} with {@code HADOOP_CONF_DIR=confDir}. */
  private static Submitted submit(String mode, String out, java.nio.file.Path confDir,
      java.util.function.Consumer<ApplicationId> duringRun) throws Exception {
    java.nio.file.Path root = TestData.projectDir();
    java.nio.file.Path log = Files.createTempFile("yarn-submit", ".log");
    int before = hadoop.applications().size();
    ProcessBuilder pb = new ProcessBuilder(root.resolve("submit/train-cluster").toString(), "--master", "yarn",
        "--conf", "spark.executor.instances=2",
        "--conf", "spark.yarn.maxAppAttempts=1",
        "layers=784,256,10", "epochs=3", "batch.size=100", "train.limit=6000", "test.limit=2000", "partitions=2",
        "shuffle=true", "lr=0.1", "sync.mode=" + mode, "train.path=" + mnist, "test.path=" + mnist, "out=" + out)
        .redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("HADOOP_CONF_DIR", confDir.toString());
    env.put("SPARKPROP_DRIVER_MEMORY", "1g");
    env.put("SPARKPROP_EXECUTOR_MEMORY", "1g");
    env.remove("SPARK_HOME");
    Process p = pb.start();
    ApplicationId app = null;
    try {
      long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(6);
      while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > until) throw new AssertionError("the YARN run did not end in 6 minutes:\n" + Files.readString(log));
        List<RMApp> all = hadoop.applications();
        if (app == null && all.size() > before) {
          app = all.get(all.size() - 1).getApplicationId();
          apps.add(app);
        }
        if (app != null) duringRun.accept(app);
      }
    } finally {
      if (p.isAlive()) p.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    Files.deleteIfExists(log);
    assertTrue(app != null, "no application reached YARN:\n" + output);
    if (p.exitValue() != 0) output += "\n" + hadoop.containerLogs(app);
    return new Submitted(p.exitValue(), output, app, hadoop.finalStatus(app));
  }

  /** {@code hdfs:///path} as this cluster's full URI (the test JVM's default file system is local). */
  private static String onCluster(String defaultFsUri) {
    return hadoop.uri(defaultFsUri.substring("hdfs://".length()));
  }

  /** The model of run directory {@code out} (hdfs:///...), read back from HDFS. */
  private static SavedModel model(String out) throws Exception {
    return ModelStore.load(onCluster(out) + "/model");
  }

  /** Submits with one executor container killed (SIGKILL) once the first epoch's metrics are on HDFS. */
  private static Submitted submitAndKillAnExecutor(String mode, String out) throws Exception {
    long[] killed = {-1};
    Submitted s = submit(mode, out, app -> {
      try {
        if (killed[0] >= 0 || !hadoop.fs.exists(new org.apache.hadoop.fs.Path(onCluster(out), "metrics.csv"))) return;
        List<ProcessHandle> execs = executors(app);
        if (execs.size() < 2) return;
        killed[0] = execs.get(0).pid(); // the first epoch is done: kill while the second runs
        new ProcessBuilder("kill", "-9", String.valueOf(killed[0])).start().waitFor();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertTrue(killed[0] > 0, "an executor container was killed during the run:\n" + s.output());
    System.out.printf("YARN, sync.mode=%s: executor container JVM %d killed in epoch 2; application %s %s%n", mode,
        killed[0], s.app(), s.status());
    return s;
  }

  /**
   * The barrier transport undisturbed (submitted with HADOOP_CONF_DIR alone), then each
   * transport with an executor container killed:
   * all three applications SUCCEEDED with the same parameters, bit for bit (the two transports
   * compute the same bits by design: DistributedTrainerTest).
   */
  @Test
  void trainsOnYarnInClusterModeAndSurvivesAKilledExecutorContainerInBothTransports() throws Exception {
    String out = "hdfs:///runs/barrier";
    // The cluster's configuration alone, as a user of a real cluster has it (no shortcut
    // properties: spark-submit uploads the Spark runtime's jars to the application's staging folder)
    java.nio.file.Path plain = Files.createDirectories(hadoop.confDir.resolveSibling("conf-plain"));
    for (String f : List.of("core-site.xml", "hdfs-site.xml", "yarn-site.xml")) {
      Files.copy(hadoop.confDir.resolve(f), plain.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Submitted whole = submit("barrier", out, plain, app -> {});
    assertEquals(0, whole.code(), whole.output());
    assertEquals(FinalApplicationStatus.SUCCEEDED, whole.status(), whole.output());
    SavedModel m = model(out);
    @SuppressWarnings("unchecked")
    Map<String, Object> metrics = (Map<String, Object>) m.info().get("metrics");
    double accuracy = ((Number) metrics.get("test_accuracy")).doubleValue();
    System.out.printf("YARN, sync.mode=barrier: application %s %s, test accuracy %.4f (2,000 test rows)%n", whole.app(),
        whole.status(), accuracy);
    assertTrue(accuracy > 0.85, "accuracy " + accuracy);
    for (String mode : List.of("job", "barrier")) {
      String disturbedOut = "hdfs:///runs/" + mode + "-killed";
      Submitted disturbed = submitAndKillAnExecutor(mode, disturbedOut);
      assertEquals(0, disturbed.code(), disturbed.output());
      assertEquals(FinalApplicationStatus.SUCCEEDED, disturbed.status(), disturbed.output());
      assertArrayEquals(m.params(), model(disturbedOut).params(), mode + ": the parameters after the kill, bit for bit");
    }
  }
}
