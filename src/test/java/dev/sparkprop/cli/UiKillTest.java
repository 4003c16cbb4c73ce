package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The application's own web UI (port 4040 and up, every command's driver) cannot cancel jobs:
 * {@code conf/spark-defaults.conf}, which every launcher in submit/ reads, sets
 * {@code spark.ui.killEnabled false}. Spark still answers the kill endpoint with a redirect, so
 * the test asserts what matters: the job the POST names finishes. The same POST with Spark's
 * default does cancel it, which shows the request reaches the handler.
 */
class UiKillTest {
  static volatile CountDownLatch release = new CountDownLatch(1);

  @Test
  void theApplicationUiCannotKillAJobWithTheLaunchersSettings() throws Exception {
    SparkConf defaults = launcherDefaults();
    assertEquals("false", defaults.get("spark.ui.killEnabled", "unset"), "conf/spark-defaults.conf must shut the UI's kill endpoint");
    assertEquals(List.of(0, 1), runAndPostKill(defaults), "the UI's kill request must not cancel the job");

    SparkConf sparksDefault = launcherDefaults().remove("spark.ui.killEnabled");
    ExecutionException killed = assertThrows(ExecutionException.class, () -> runAndPostKill(sparksDefault));
    assertTrue(String.valueOf(killed.getCause()).contains("killed via Web UI"), String.valueOf(killed.getCause()));
  }

  /** conf/spark-defaults.conf read as spark-submit reads it (key, whitespace, value). */
  private static SparkConf launcherDefaults() throws Exception {
    SparkConf conf = new SparkConf(false);
    for (String line : Files.readAllLines(TestData.projectDir().resolve("conf/spark-defaults.conf"))) {
      String t = line.trim();
      if (t.isEmpty() || t.startsWith("#")) continue;
      String[] kv = t.split("\\s+", 2);
      conf.set(kv[0], kv.length > 1 ? kv[1].trim() : "");
    }
    return conf;
  }

  /** Runs a two-task job that waits, POSTs the UI's kill request for it, then lets it finish; its result. */
  private static List<Integer> runAndPostKill(SparkConf conf) throws Exception {
    conf.setMaster("local[2]").setAppName("sparkprop UI kill test").set("spark.ui.enabled", "true")
        .set("spark.ui.port", "0").set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
    release = new CountDownLatch(1);
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      JavaFutureAction<List<Integer>> job = jsc.parallelize(Arrays.asList(0, 1), 2).map(x -> {
        if (!release.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("never released");
        return x;
      }).collectAsync();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (jsc.statusTracker().getActiveJobIds().length == 0 && System.nanoTime() < until) Thread.sleep(20);
      int id = jsc.statusTracker().getActiveJobIds()[0];
      String ui = spark.sparkContext().uiWebUrl().get();
      HttpURLConnection c = (HttpURLConnection) URI.create(ui + "/jobs/job/kill/?id=" + id).toURL().openConnection();
      c.setRequestMethod("POST");
      c.setInstanceFollowRedirects(false);
      int status = c.getResponseCode();
      c.disconnect();
      assertTrue(status < 500, "the UI answered " + status);
      Thread.sleep(500); // a kill, if the UI does one, is posted to the scheduler's event loop
      release.countDown();
      return job.get(60, TimeUnit.SECONDS);
    } finally {
      release.countDown();
      spark.stop();
    }
  }
}
