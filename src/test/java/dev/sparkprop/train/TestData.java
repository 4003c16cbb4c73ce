package dev.sparkprop.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** The real MNIST files (fetched by the build before the tests) and a shared local Spark session. */
public final class TestData {
  private TestData() {}

  public static Path projectDir() {
    return Path.of(System.getProperty("sparkprop.project.dir", ".")).toAbsolutePath();
  }

  public static Path mnistDir() {
    Path dir = projectDir().resolve("data/mnist");
    assertTrue(Files.isRegularFile(dir.resolve("train-images-idx3-ubyte")),
        "MNIST is missing in " + dir + "; run submit/fetch-mnist (mvn runs it before the tests)");
    return dir;
  }

  public static DataSpec mnist(String prefix) throws IOException {
    String[] f = MnistFiles.locate(mnistDir().toString(), prefix);
    return DataSpec.check(f[0], f[1], 10);
  }

  /** local[N] for tests: no UI, results sent directly, loopback only. */
  public static SparkSession spark(String master) {
    return SparkSession.builder()
        .master(master)
        .appName("sparkprop-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.task.maxDirectResultSize", "64m")
        .config("spark.log.structuredLogging.enabled", "false")
        .getOrCreate();
  }
}
