package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.it.MiniHadoop;
import dev.sparkprop.run.RunLock;
import dev.sparkprop.spark.SparkpropClassifier;
import dev.sparkprop.spark.SparkpropModel;
import dev.sparkprop.train.TestData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The commands against a real HDFS: Hadoop's MiniDFSCluster (a NameNode and a DataNode in this
 * JVM, on loopback ports: {@link MiniHadoop} without YARN), Spark on local[2]. MNIST's IDX files are copied in; training reads them
 * and the Parquet tables that {@code prepare} writes there; the run directory (configuration,
 * metrics, reports, charts, checkpoints, the model) is an {@code hdfs://} URI; a run resumed from
 * a checkpoint on HDFS ends with the same bits; {@code evaluate} and {@code predict} read the model
 * from HDFS; a run directory on HDFS is locked while a run holds it. The cluster is shut down after
 * the class, also when a test fails.
 */
class HdfsTest {
  private static MiniHadoop hadoop;
  private static FileSystem fs;
  private static String root; // hdfs://127.0.0.1:PORT/sparkprop

  @BeforeAll
  static void start() throws Exception {
    System.setProperty("spark.master", "local[2]");
    System.setProperty("spark.ui.enabled", "false");
    System.setProperty("spark.driver.host", "127.0.0.1");
    try {
      hadoop = new MiniHadoop(TestData.projectDir().resolve("target/minidfs-" + ProcessHandle.current().pid()), false);
    } catch (Exception | Error e) {
      stop();
      throw e;
    }
    fs = hadoop.fs;
    root = fs.getUri() + "/sparkprop";
    hadoop.copyIdx(TestData.mnistDir(), root + "/mnist");
  }

  @AfterAll
  static void stop() throws IOException {
    try {
      if (hadoop != null) hadoop.close();
    } finally {
      hadoop = null;
      System.clearProperty("spark.master");
      System.clearProperty("spark.ui.enabled");
      System.clearProperty("spark.driver.host");
    }
  }

  /** Train on 3,000 rows, {@code kv} over the defaults here. */
  private static CliRun train(String out, String trainPath, String testPath, String... kv) {
    List<String> args = new ArrayList<>(List.of("layers=784,32,10", "epochs=2", "batch.size=100", "train.limit=3000",
        "test.limit=1000", "lr=0.1", "train.path=" + trainPath, "test.path=" + testPath, "out=" + out));
    args.addAll(Arrays.asList(kv));
    return CliRun.of(Train::run, args.toArray(new String[0]));
  }

  private static double accuracy(CliRun r) {
    Matcher m = Pattern.compile("final test accuracy (\\d\\.\\d+)").matcher(r.out());
    assertTrue(m.find(), r.out());
    return Double.parseDouble(m.group(1));
  }

  private static String read(String path) throws IOException {
    try (InputStream in = fs.open(new Path(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /**
   * Everything of a run on HDFS: the IDX data read from there, the run directory written there,
   * and a run resumed from a copy of the first epoch's checkpoint ends with the uninterrupted
   * run's parameters, bit for bit.
   */
  @Test
  void aRunOnHdfsWritesItsDirectoryThereAndResumesFromItsCheckpointBitForBit() throws Exception {
    String mnist = root + "/mnist";
    String a = root + "/runs/a";
    CliRun whole = train(a, mnist, mnist, "epochs=3", "checkpoint.every=1", "checkpoint.unit=epoch").expect(0, "run directory " + a);
    assertTrue(accuracy(whole) > 0.8, whole.out());
    for (String f : List.of("config.properties", "metrics.csv", "metrics.json", "steps.csv", "summary.json", "per_class.csv",
        "confusion.csv", "loss_per_step.png", "epochs.png", "confusion.png", "model/model.json", "model/model.onnx")) {
      assertTrue(fs.exists(new Path(a, f)), f + " on HDFS");
    }
    assertFalse(fs.exists(new Path(a, ".lock")), "the lock is gone with the run");
    assertEquals(4, read(a + "/metrics.csv").lines().count(), "header and three epochs");
    FileStatus[] ckpts = fs.listStatus(new Path(a, "checkpoints"));
    Arrays.sort(ckpts);
    assertEquals(2, ckpts.length, "a checkpoint after each epoch but the last");
    assertFalse(Files.exists(java.nio.file.Path.of("hdfs:")), "nothing written to a local folder named after the URI");

    String b = root + "/runs/b";
    fs.mkdirs(new Path(b, "checkpoints"));
    FileUtil.copy(fs, ckpts[0].getPath(), fs, new Path(b + "/checkpoints/" + ckpts[0].getPath().getName()), false, fs.getConf());
    CliRun resumed = train(b, mnist, mnist, "epochs=3", "checkpoint.every=1", "checkpoint.unit=epoch")
        .expect(0, "resuming from checkpoint");
    SavedModel ma = ModelStore.load(a + "/model");
    SavedModel mb = ModelStore.load(b + "/model");
    assertArrayEquals(ma.params(), mb.params(), "resumed from HDFS, bit for bit");
    assertEquals(accuracy(whole), accuracy(resumed), 0.0);
  }

  /**
   * prepare writes Parquet tables to HDFS, training reads them, and evaluate and predict read the
   * model (and the table) from HDFS and write their outputs there.
   */
  @Test
  void parquetOnHdfsTrainsAndTheModelThereEvaluatesAndPredicts() throws Exception {
    String tables = root + "/parquet";
    CliRun.of(Prepare::run, "in=" + root + "/mnist", "out=" + tables, "partitions=2").expect(0, "wrote " + tables + "/train");
    String run = root + "/runs/p";
    CliRun r = train(run, tables + "/train", tables + "/test").expect(0);
    assertTrue(accuracy(r) > 0.8, r.out());
    String model = run + "/model";
    CliRun.of(Evaluate::run, "model=" + model, "data=" + tables + "/test", "out=" + root + "/eval")
        .expect(0, "10000 images", "accuracy");
    assertTrue(read(root + "/eval/per_class.csv").startsWith("class,support,predicted"));
    CliRun.of(Predict::run, "model=" + model, "data=" + tables + "/test", "out=" + root + "/pred.csv")
        .expect(0, "wrote 10000 predictions (csv)");
    long lines = 0;
    for (FileStatus part : fs.listStatus(new Path(root, "pred.csv"))) {
      if (part.getPath().getName().endsWith(".csv")) lines += read(part.getPath().toString()).lines().filter(l -> !l.startsWith("id,")).count();
    }
    assertEquals(10000, lines);

    // The Spark application API on HDFS: a model loaded from there scores the table read from
    // there, is saved back there (with model.onnx) and loads again with the same parameters;
    // a fit checkpoints into an HDFS folder
    SparkSession spark = SparkSession.builder().appName("sparkprop API on HDFS").getOrCreate(); // local[2], above
    try {
      SparkpropModel api = SparkpropModel.load(model);
      Dataset<Row> test = spark.read().parquet(tables + "/test");
      assertEquals(10000L, api.transform(test).count());
      String copy = root + "/api/model";
      api.save(copy);
      assertTrue(fs.exists(new Path(copy, "model.onnx")));
      assertArrayEquals(api.parameters(), SparkpropModel.load(copy).parameters());
      String checkpoints = root + "/api/checkpoints";
      new SparkpropClassifier().setLayers("784,32,10").setEpochs(2).setBatchSize(100).setPartitions(2)
          .set("checkpoint.keep", "5").setCheckpointDir(checkpoints).setLog(null)
          .fit(spark.read().parquet(tables + "/train").where("row < 2000"));
      assertEquals(1, fs.listStatus(new Path(checkpoints)).length, "one checkpoint: after epoch 1 of 2");
    } finally {
      spark.stop();
    }
  }

  /** A run directory on HDFS is held through its lock file's lease: a second run is refused while the first holds it. */
  @Test
  void aRunDirectoryOnHdfsInUseIsRefused() throws Exception {
    String busy = root + "/runs/busy";
    try (RunLock held = RunLock.take(busy)) {
      train(busy, root + "/mnist", root + "/mnist").expect(2, "error: out: " + busy + " is in use by another run (process "
          + ProcessHandle.current().pid() + " on ");
      assertFalse(fs.exists(new Path(busy, "config.properties")), "nothing written by the refused run");
    }
    assertFalse(fs.exists(new Path(busy)), "released, and the folder it made removed");
    try (RunLock again = RunLock.take(busy)) {
      assertTrue(fs.exists(new Path(busy, ".lock")));
    }
  }
}
