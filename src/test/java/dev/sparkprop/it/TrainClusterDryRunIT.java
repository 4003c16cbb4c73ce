package dev.sparkprop.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** submit/train-cluster --dry-run for the masters that cannot run here: YARN and Kubernetes. */
class TrainClusterDryRunIT {
  private final Path root = TestData.projectDir();

  private String[] dryRun(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(root.resolve("submit/train-cluster").toString()));
    cmd.addAll(List.of(args));
    cmd.add("--dry-run");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("SPARK_HOME");
    pb.environment().put("SPARKPROP_CLUSTER_DIR", root.resolve("target/no-cluster").toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(1, TimeUnit.MINUTES));
    return new String[] {String.valueOf(p.exitValue()), out};
  }

  @Test
  void yarnRunsTheDriverInTheClusterAndShipsTheConfig() throws Exception {
    String[] r = dryRun("--master", "yarn", "epochs=3", "train.path=hdfs:///data/mnist", "test.path=hdfs:///data/mnist");
    assertEquals("0", r[0], r[1]);
    String cmd = r[1];
    String jar = root.resolve("target/sparkprop.jar").toString();
    for (String part : new String[] {root.resolve("submit/spark-submit").toString(), "--master yarn",
        "--deploy-mode cluster", "--class dev.sparkprop.cli.Train", "--files " + root.resolve("conf/mnist-mlp.properties"),
        "--executor-memory 2g", jar + " --config mnist-mlp.properties epochs=3 train.path=hdfs:///data/mnist test.path=hdfs:///data/mnist",
        "ejml-fdense"}) {
      assertTrue(cmd.contains(part), "'" + part + "' missing in: " + cmd);
    }
    assertTrue(!cmd.contains(root.resolve("data/mnist").toString()), "no local data path for YARN: " + cmd);
  }

  @Test
  void kubernetesPassesUserConfAndCustomConfigFile() throws Exception {
    String[] r = dryRun("--master", "k8s://https://10.0.0.1:6443", "--config", root.resolve("conf/seed-notebook.properties").toString(),
        "--conf", "spark.kubernetes.container.image=repo/spark:4.2.0", "train.path=s3a://bucket/mnist");
    assertEquals("0", r[0], r[1]);
    for (String part : new String[] {"--master k8s://https://10.0.0.1:6443", "--deploy-mode cluster",
        "--conf spark.kubernetes.container.image=repo/spark:4.2.0", "--config seed-notebook.properties",
        "train.path=s3a://bucket/mnist"}) {
      assertTrue(r[1].contains(part), "'" + part + "' missing in: " + r[1]);
    }
  }

  @Test
  void standaloneMakesLocalPathsAbsoluteAndBadArgumentsAreRefused() throws Exception {
    String[] r = dryRun("--master", "spark://10.1.2.3:7077", "out=runs/x");
    assertEquals("0", r[0], r[1]);
    assertTrue(r[1].contains("--deploy-mode client"), r[1]);
    assertTrue(r[1].contains("train.path=" + root.resolve("data/mnist")), r[1]);
    assertTrue(r[1].contains("out=/"), r[1]);
    String[] missing = dryRun("epochs=1");
    assertEquals("2", missing[0]);
    assertTrue(missing[1].contains("--master URL is required"), missing[1]);
    String[] local = dryRun("--master", "local[2]");
    assertEquals("2", local[0]);
    assertTrue(local[1].contains("train-local"), local[1]);
  }

  /** A --config in a folder that does not exist: exit 2 and the path as given, from each script that takes one. */
  @Test
  void aConfigInAMissingFolderIsNamedAsGiven() throws Exception {
    for (String script : new String[] {"train-cluster", "train-local", "bench"}) {
      List<String> cmd = new ArrayList<>(List.of(root.resolve("submit/" + script).toString()));
      if (script.equals("train-cluster")) cmd.addAll(List.of("--master", "spark://10.1.2.3:7077", "--dry-run"));
      cmd.addAll(List.of("--config", "nodir/x.properties", "epochs=1"));
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().remove("SPARK_HOME");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      assertTrue(p.waitFor(1, TimeUnit.MINUTES));
      assertEquals(2, p.exitValue(), script + ": " + out);
      assertEquals("error: no config file nodir/x.properties", out, script);
    }
  }
}
