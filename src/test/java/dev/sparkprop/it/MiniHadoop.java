package dev.sparkprop.it;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.resourcemanager.rmapp.RMApp;

/**
 * A single-machine Hadoop cluster in this JVM, from Hadoop's own test jars
 * ({@code hadoop-client-minicluster}): HDFS (a NameNode and a DataNode) and, optionally, YARN (a
 * ResourceManager and a NodeManager that runs containers as child processes of this JVM), on
 * loopback ports, under {@code base}. {@link #confDir} holds the core-site.xml, hdfs-site.xml and
 * yarn-site.xml a client needs ({@code HADOOP_CONF_DIR}). {@link #close} stops everything, also
 * the containers, and deletes the clusters' data.
 */
public final class MiniHadoop implements AutoCloseable {
  final MiniDFSCluster hdfs;
  final MiniYARNCluster yarn; // null without YARN
  public final FileSystem fs;
  final Path confDir;
  private final Path base;

  public MiniHadoop(Path base, boolean withYarn) throws Exception {
    this.base = base;
    Files.createDirectories(base);
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.resolve("hdfs").toString());
    System.setProperty("test.build.data", base.resolve("yarn").toString()); // MiniYARNCluster's folders
    MiniDFSCluster d = null;
    MiniYARNCluster y = null;
    try {
      d = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
      d.waitActive();
      if (withYarn) {
        YarnConfiguration yc = new YarnConfiguration(d.getConfiguration(0));
        yc.set(YarnConfiguration.RM_HOSTNAME, "127.0.0.1");
        yc.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
        yc.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, 8192); // MiniYARNCluster's own key (default 4 GB)
        yc.setInt(YarnConfiguration.NM_PMEM_MB, 8192);
        yc.setInt(YarnConfiguration.NM_VCORES, 8);
        yc.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        yc.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        yc.set("yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage", "100.0");
        yc.set("yarn.scheduler.capacity.node-locality-delay", "-1");
        // the Java the containers run, as a real cluster's NodeManagers provide it (hadoop-env.sh)
        yc.set(YarnConfiguration.NM_ADMIN_USER_ENV, "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX,JAVA_HOME=" + System.getProperty("java.home"));
        // the capacity scheduler's one queue (no capacity-scheduler.xml comes with the jars)
        yc.set("yarn.scheduler.capacity.root.queues", "default");
        yc.set("yarn.scheduler.capacity.root.default.capacity", "100");
        yc.set("yarn.scheduler.capacity.root.default.maximum-capacity", "100");
        yc.set("yarn.scheduler.capacity.maximum-am-resource-percent", "0.5");
        y = new MiniYARNCluster("sparkprop", 1, 1, 1);
        y.init(yc);
        y.start();
        // start() can return before the ResourceManager has its port in the configuration
        long until = System.nanoTime() + 60_000_000_000L;
        while (y.getConfig().get(YarnConfiguration.RM_ADDRESS, ":0").endsWith(":0")) {
          if (System.nanoTime() > until) throw new IllegalStateException("the ResourceManager did not come up in 60 s");
          Thread.sleep(100);
        }
      }
    } catch (Exception | Error e) {
      if (y != null) y.stop();
      if (d != null) d.shutdown(true);
      throw e;
    }
    hdfs = d;
    yarn = y;
    fs = d.getFileSystem();
    confDir = Files.createDirectories(base.resolve("conf"));
    // What a client needs, and nothing of the clusters' own test settings (such as MiniDFSCluster's
    // rack mapping class, which is not on a job's classpath)
    Configuration client = new Configuration(false);
    client.set("fs.defaultFS", fs.getUri().toString());
    if (yarn != null) {
      for (java.util.Map.Entry<String, String> e : yarn.getConfig()) {
        if (e.getKey().startsWith("yarn.resourcemanager.") && (e.getKey().endsWith("address") || e.getKey().endsWith("hostname"))) {
          client.set(e.getKey(), yarn.getConfig().get(e.getKey()));
        }
      }
    }
    for (String name : List.of("core-site.xml", "hdfs-site.xml", "yarn-site.xml")) {
      try (OutputStream out = Files.newOutputStream(confDir.resolve(name))) {
        client.writeXml(out);
      }
    }
    // A shortcut for spark-submit on this cluster (submit/train-cluster adds it when HADOOP_CONF_DIR
    // is this folder): the Spark runtime's jars used in place, as every container runs on this
    // machine, instead of uploading 280 MB per application.
    Files.writeString(confDir.resolve(SPARK_CONF), "spark.yarn.jars local:" + sparkJars() + "/*\n");
  }

  /** Spark properties for applications on this cluster, in {@link #confDir}. */
  static final String SPARK_CONF = "sparkprop-spark.conf";

  /** The assembled Spark runtime's jars: target/spark-home/jars of this project. */
  private static Path sparkJars() {
    return dev.sparkprop.train.TestData.projectDir().resolve("target/spark-home/jars");
  }

  /**
   * {@code submit/yarn-up}'s cluster: starts HDFS and YARN under {@code RUN/cluster}, copies the
   * IDX files of {@code MNIST_DIR} to hdfs:///data/mnist, writes {@code RUN/ready} (the addresses)
   * and runs until the process is told to stop (SIGTERM: the shutdown hook stops YARN, with its
   * containers, and HDFS, and deletes their data).
   *   MiniHadoop RUN MNIST_DIR
   */
  public static void main(String[] args) throws Exception {
    Path run = Path.of(args[0]);
    MiniHadoop h = new MiniHadoop(run.resolve("cluster"), true);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        h.close();
      } catch (IOException | RuntimeException e) {
        System.err.println("yarn-down: " + e);
      }
    }));
    h.copyIdx(Path.of(args[1]), "/data/mnist");
    Configuration c = h.yarn.getConfig();
    Files.writeString(run.resolve("ready.tmp"), "hdfs " + h.fs.getUri() + "\n"
        + "resourcemanager " + c.get(YarnConfiguration.RM_ADDRESS) + "\n"
        + "resourcemanager-ui http://" + c.get(YarnConfiguration.RM_WEBAPP_ADDRESS) + "\n"
        + "conf " + h.confDir + "\n");
    Files.move(run.resolve("ready.tmp"), run.resolve("ready"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Thread.currentThread().join(); // until SIGTERM
  }

  /** Copies the IDX files of local folder {@code from} into HDFS folder {@code to} (a path or URI). */
  public void copyIdx(Path from, String to) throws IOException {
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(to);
    fs.mkdirs(dir);
    try (var files = Files.list(from)) {
      for (Path f : files.filter(f -> f.getFileName().toString().contains("-idx")).toList()) {
        fs.copyFromLocalFile(new org.apache.hadoop.fs.Path(f.toUri()), new org.apache.hadoop.fs.Path(dir, f.getFileName().toString()));
      }
    }
  }

  /** The HDFS URI of {@code path}. */
  public String uri(String path) {
    return fs.getUri() + path;
  }

  /** Every application the ResourceManager knows, oldest first. */
  List<RMApp> applications() {
    List<RMApp> apps = new ArrayList<>(yarn.getResourceManager().getRMContext().getRMApps().values());
    apps.sort((a, b) -> a.getApplicationId().compareTo(b.getApplicationId()));
    return apps;
  }

  /** The final status YARN recorded for {@code id} (UNDEFINED while it runs). */
  FinalApplicationStatus finalStatus(ApplicationId id) {
    return yarn.getResourceManager().getRMContext().getRMApps().get(id).getFinalApplicationStatus();
  }

  /** The last lines of every container's stderr of {@code app}, for a failure's message. */
  String containerLogs(ApplicationId app) {
    StringBuilder sb = new StringBuilder();
    try (var files = Files.walk(base.resolve("yarn"))) {
      for (Path p : files.filter(f -> f.getFileName().toString().equals("stderr") && f.toString().contains(app.toString()))
          .sorted().toList()) {
        List<String> lines = Files.readAllLines(p);
        sb.append("== ").append(p.getParent().getFileName()).append(" stderr (last 40 lines)\n");
        for (String l : lines.subList(Math.max(0, lines.size() - 40), lines.size())) sb.append(l).append('\n');
      }
    } catch (IOException | RuntimeException e) {
      sb.append("(container logs unreadable: ").append(e).append(")\n");
    }
    return sb.toString();
  }

  @Override
  public void close() throws IOException {
    try {
      if (yarn != null) yarn.stop();
    } finally {
      hdfs.shutdown(true);
      try (var files = Files.walk(base)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }
}
