package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.io.ModelStore;
import dev.sparkprop.train.TestData;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prepare} turns IDX files into Parquet and CSV tables; training on either gives the
 * parameters of training on the IDX files, bit for bit (the "done when").
 */
class PrepareTrainTest {
  private static org.apache.spark.sql.SparkSession spark; // shared by the commands of this class
  @TempDir static Path dir;
  private static Path idx;

  @BeforeAll
  static void setUp() throws Exception {
    spark = CliSession.start();
    // The first 1200 training and 300 test rows of MNIST as their own IDX folder.
    idx = Files.createDirectories(dir.resolve("idx"));
    Path mnist = TestData.mnistDir();
    head(mnist.resolve("train-images-idx3-ubyte"), idx.resolve("train-images-idx3-ubyte"), 16, 784, 1200);
    head(mnist.resolve("train-labels-idx1-ubyte"), idx.resolve("train-labels-idx1-ubyte"), 8, 1, 1200);
    head(mnist.resolve("t10k-images-idx3-ubyte"), idx.resolve("t10k-images-idx3-ubyte"), 16, 784, 300);
    head(mnist.resolve("t10k-labels-idx1-ubyte"), idx.resolve("t10k-labels-idx1-ubyte"), 8, 1, 300);
  }

  @AfterAll
  static void clear() {
    CliSession.stop(spark);
  }

  /** Copies an IDX file's header with the count set to n, and its first n items. */
  private static void head(Path src, Path dst, int headerBytes, int itemBytes, int n) throws Exception {
    try (InputStream in = Files.newInputStream(src)) {
      byte[] header = new DataInputStream(in).readNBytes(headerBytes);
      ByteBuffer.wrap(header).putInt(4, n);
      byte[] body = in.readNBytes(n * itemBytes);
      Files.write(dst, concat(header, body));
    }
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static float[] train(String name, String trainPath, String testPath) throws Exception {
    Path out = dir.resolve("run-" + name);
    List<String> args = new ArrayList<>(List.of("layers=784,32,10", "epochs=2", "batch.size=100", "partitions=3",
        "train.limit=1100", "log.every=1000", "sync.mode=job", "train.path=" + trainPath, "test.path=" + testPath, "out=" + out));
    CliRun r = CliRun.of(Train::run, args.toArray(new String[0])).expect(0, "final test accuracy");
    return ModelStore.load(out.resolve("model").toString()).params();
  }

  @Test
  void parquetAndCsvFromPrepareTrainToTheIdxParameters() throws Exception {
    CliRun.of(Prepare::run, "in=" + idx, "out=" + dir.resolve("parquet"), "partitions=3")
        .expect(0, "wrote " + dir.resolve("parquet/train") + ": 1200 rows, parquet, 3 files, columns row, label, image (784 bytes)",
            "wrote " + dir.resolve("parquet/test") + ": 300 rows, parquet, 3 files");
    CliRun.of(Prepare::run, "in=" + idx, "out=" + dir.resolve("csv"), "format=csv", "partitions=2")
        .expect(0, "1200 rows, csv, 2 files, columns row, label, pixel0..pixel783");
    assertTrue(Files.readString(Files.list(dir.resolve("csv/train")).filter(p -> p.toString().endsWith(".csv"))
        .sorted().findFirst().orElseThrow()).startsWith("row,label,pixel0,pixel1,"));

    float[] fromIdx = train("idx", idx.toString(), idx.toString());
    float[] fromParquet = train("parquet", dir.resolve("parquet/train").toString(), dir.resolve("parquet/test").toString());
    float[] fromCsv = train("csv", dir.resolve("csv/train").toString(), dir.resolve("csv/test").toString());
    assertArrayEquals(fromIdx, fromParquet, "Parquet from prepare trains to the IDX parameters");
    assertArrayEquals(fromIdx, fromCsv, "CSV from prepare trains to the IDX parameters");
    // and it did train: the parameters moved away from the initialisation of another run's seed
    assertTrue(Math.abs(fromIdx[0]) + Math.abs(fromIdx[fromIdx.length - 1]) > 0);
  }

  @Test
  void prepareRefusesAnExistingOutputAndAFolderWithoutIdx() throws Exception {
    Path out = Files.createDirectories(dir.resolve("taken/train"));
    CliRun.of(Prepare::run, "in=" + idx, "out=" + dir.resolve("taken"))
        .expect(2, "out: " + out + " exists; set overwrite=true");
    CliRun.of(Prepare::run, "in=" + dir.resolve("taken"), "out=" + dir.resolve("x"))
        .expect(3, "no IDX pair");
    assertEquals(2, CliRun.of(Prepare::run, "in=" + idx, "out=" + dir.resolve("y"), "format=orc").code());
  }
}
