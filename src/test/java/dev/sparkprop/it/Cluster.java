package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A standalone cluster on loopback started with submit/cluster-up for a test class, on its own
 * ports and run directory, and stopped with submit/cluster-down; {@link #close} also checks that
 * no process it started is left.
 */
final class Cluster implements AutoCloseable {
  final Path root = TestData.projectDir();
  final Path run;
  final int port;
  final String url;
  private final List<Long> daemons = new ArrayList<>();

  Cluster(String name, int workers, int port) throws Exception {
    this.run = root.resolve("target/it-" + name);
    this.port = port;
    this.url = "spark://127.0.0.1:" + port;
    String out = script("cluster-up", String.valueOf(workers), "1");
    assertTrue(out.contains("cluster up: " + url), out);
    for (String f : new String[] {"master.pid"}) daemons.add(pid(f));
    for (int i = 1; i <= workers; i++) daemons.add(pid("worker-" + i + ".pid"));
  }

  private long pid(String file) throws IOException {
    return Long.parseLong(Files.readString(run.resolve(file)).trim());
  }

  /** Runs a submit/ script with this cluster's directory and ports; returns its output. */
  String script(String name, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(root.resolve("submit/" + name).toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    env(pb.environment());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(3, TimeUnit.MINUTES), name + " did not finish");
    assertEquals(0, p.exitValue(), name + " failed:\n" + out);
    return out;
  }

  void env(Map<String, String> env) {
    env.remove("SPARK_HOME");
    env.remove("SPARK_CONF_DIR");
    env.put("SPARKPROP_CLUSTER_DIR", run.toString());
    env.put("SPARKPROP_MASTER_PORT", String.valueOf(port));
    env.put("SPARKPROP_MASTER_UI_PORT", String.valueOf(port + 1000));
    env.put("SPARKPROP_WORKER_MEMORY", "1g");
  }

  /** The PIDs of the worker daemons. */
  List<Long> workerPids() {
    return daemons.subList(1, daemons.size());
  }

  /** The executor JVMs: children of the workers running CoarseGrainedExecutorBackend (any application). */
  List<ProcessHandle> executors() {
    List<ProcessHandle> out = new ArrayList<>();
    for (long w : workerPids()) {
      ProcessHandle.of(w).ifPresent(h -> h.children().filter(Cluster::isExecutor).forEach(out::add));
    }
    return out;
  }

  private static boolean isExecutor(ProcessHandle h) {
    try {
      Path cmdline = Path.of("/proc/" + h.pid() + "/cmdline");
      return h.isAlive() && Files.readString(cmdline, StandardCharsets.ISO_8859_1).contains("CoarseGrainedExecutorBackend");
    } catch (IOException e) {
      return false; // exited meanwhile
    }
  }

  /** The executor JVMs of one application (their command line names its id). */
  List<ProcessHandle> executors(String appId) throws IOException {
    List<ProcessHandle> out = new ArrayList<>();
    for (ProcessHandle h : executors()) {
      Path cmdline = Path.of("/proc/" + h.pid() + "/cmdline");
      if (Files.exists(cmdline) && Files.readString(cmdline, StandardCharsets.ISO_8859_1).contains(appId)) out.add(h);
    }
    return out;
  }

  /** Waits until the executors of earlier applications have exited. */
  void awaitNoExecutors() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!executors().isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "executors of an earlier application still run after 60 s: " + executors());
      Thread.sleep(200);
    }
  }

  /** spark.authenticate and the cluster's secret, as cluster-up wrote them. */
  Properties auth() throws IOException {
    Properties p = new Properties();
    try (var r = Files.newBufferedReader(run.resolve("conf/auth.conf"))) {
      p.load(r);
    }
    return p;
  }

  /** The application jar and its libraries, absolute, for spark.jars. */
  String jars() {
    StringBuilder sb = new StringBuilder(root.resolve("target/sparkprop.jar").toString());
    File[] libs = root.resolve("target/lib").toFile().listFiles((d, n) -> n.endsWith(".jar"));
    assertTrue(libs != null && libs.length > 0, "target/lib is empty: run mvn package");
    for (File f : libs) sb.append(',').append(f.getAbsolutePath());
    return sb.toString();
  }

  @Override
  public void close() throws Exception {
    List<ProcessHandle> started = new ArrayList<>(executors());
    for (long d : daemons) ProcessHandle.of(d).ifPresent(started::add);
    try {
      script("cluster-down");
    } finally {
      for (ProcessHandle h : started) {
        assertTrue(!h.isAlive() || h.onExit().get(20, TimeUnit.SECONDS) != null && !h.isAlive(),
            "process " + h.pid() + " is still running after cluster-down");
      }
    }
  }
}
