package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkContext$;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad configuration is refused with the key's name, exit code 2, before Spark starts. */
class TrainArgumentsTest {
  @TempDir Path dir;

  private String[] errOf(String... args) {
    CliRun r = CliRun.of(Train::run, args);
    return new String[] {String.valueOf(r.code()), r.err()};
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "lerning.rate=0.1 | unknown config key 'lerning.rate'",
      "lr=-0.1 | lr: the learning rate must be positive",
      "lr=fast | lr: expected a number, got 'fast'",
      "batch.size=0 | batch.size: must be a positive integer, got 0",
      "epochs=ten | epochs: expected an integer, got 'ten'",
      "shuffle=yes | shuffle: expected true or false",
      "optimizer=lbfgs | optimizer: unknown 'lbfgs'",
      "activation=gelu | activation: unknown 'gelu'; expected relu, sigmoid, tanh, identity or softmax",
      "layers=784,512,1 | layers: the output layer has 1 unit; a classifier needs at least 2 (one per class)",
      "layers=784 | layers: need at least an input and an output size",
      "momentum=1.5 | momentum: momentum must be in [0, 1)",
      "lr.schedule=linear | lr.schedule: unknown 'linear'",
      "=novalue | a setting has no key before its '=' (value 'novalue'); write key=value",
      "layers=784,0,10 | error: layers: sizes must be positive, got [784, 0, 10]",
      "layers=784;512;10 | layers: expected comma-separated integers like 784,512,10, or a layer list",
      "layers=conv(32) relu, dense(10) | layers: cannot read 'conv(32) relu' (item 1): conv takes FILTERS,KERNEL first",
      "layers=conv(8,3), pool(2), dense(1) | layers: the output layer has 1 unit",
      "input.shape=1,28 | input.shape: expected C,H,W such as 1,28,28, got '1,28'",
      "input.shape=1,28,27 | input.shape: 1x28x27 is 756 values, but layers=784,512,10 starts with 784",
      "layers=conv(8,3) | layers: the output layer must be dense with softmax"})
  void impossibleValuesAreRefusedWithTheKeyBeforeSparkStarts(String arg, String message) {
    String[] r = errOf(arg, "train.path=" + dir, "test.path=" + dir);
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains(message), "expected '" + message + "' in: " + r[1]);
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty(), "no SparkContext was started");
  }

  /** classes, when set, must be the output layer's units; unset, it is them, and the labels must fit. */
  @Test
  void classesAndTheOutputLayerAgree() {
    String mnist = TestData.mnistDir().toString();
    String[] r = errOf("layers=784,512,7", "classes=10", "train.path=" + mnist, "test.path=" + mnist);
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("layers: the last size is 7 but classes is 10"), r[1]);
    r = errOf("layers=conv(8,3), pool(2), dense(7)", "classes=10", "train.path=" + mnist, "test.path=" + mnist);
    assertTrue(r[1].contains("layers: the output layer dense(7) softmax has 7 units but classes is 10"), r[1]);
    r = errOf("layers=784,512,7", "train.path=" + mnist, "test.path=" + mnist); // MNIST's labels go to 9
    assertEquals("3", r[0], r[1]);
    assertTrue(r[1].contains("train-labels-idx1-ubyte") && r[1].contains("7"), r[1]);
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty());
  }

  @Test
  void layerSizesThatDoNotMatchTheDataAreRefused() {
    String mnist = TestData.mnistDir().toString();
    String[] r = errOf("layers=700,512,10", "train.path=" + mnist, "test.path=" + mnist);
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("layers: the first size is 700 but the data have 784 (training) and 784 (test) features per row"), r[1]);
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty());
  }

  @Test
  void missingDataFolderNamesThePathAndTheFix() {
    String[] r = errOf("train.path=" + dir.resolve("nope"));
    assertEquals("3", r[0], r[1]);
    assertTrue(r[1].contains(dir.resolve("nope").toString()) && r[1].contains("fetch-mnist"), r[1]);
  }

  @Test
  void configFileIsReadAndArgumentsOverrideIt() throws Exception {
    Path conf = dir.resolve("job.properties");
    Files.writeString(conf, "epochs=3\nbogus.key=1\n");
    String[] r = errOf("--config", conf.toString());
    assertEquals("2", r[0]);
    assertTrue(r[1].contains("unknown config key 'bogus.key'"), r[1]);
    String[] missing = errOf("--config", dir.resolve("absent.properties").toString());
    assertTrue(missing[1].contains("no such file"), missing[1]);
    Files.writeString(conf, "epochs=3\n=novalue\n");
    String[] empty = errOf("--config", conf.toString());
    assertEquals("2", empty[0]);
    assertTrue(empty[1].contains("--config " + conf + ": a line has no key before its '=' (value 'novalue')"), empty[1]);
  }

  /**
   * A --config file must be UTF-8 text of one line per key, and a regular file: a binary file, a
   * file in another encoding, a key set twice and a named pipe are each refused with one line.
   */
  @Test
  void aConfigFileThatIsNotTextOrSetsAKeyTwiceOrIsAPipeIsRefused() throws Exception {
    Path binary = dir.resolve("binary.properties");
    Files.write(binary, new byte[] {'P', 'K', 3, 4, 0, 0, 'x'});
    String[] r = errOf("--config", binary.toString());
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("--config " + binary + ": not a text file (a NUL byte at offset 4)"), r[1]);
    Path latin1 = dir.resolve("latin1.properties");
    Files.write(latin1, "out=caf\u00e9\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)); // é as one byte 0xE9
    r = errOf("--config", latin1.toString());
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("--config " + latin1 + ": not UTF-8 text"), r[1]);
    Path twice = dir.resolve("twice.properties");
    Files.writeString(twice, "epochs=2\nlr=0.1\nepochs = 3\n");
    r = errOf("--config", twice.toString());
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("--config " + twice + ": a key is set twice: epochs (2, then 3); keep one line per key"), r[1]);
    Path pipe = fifo(dir.resolve("pipe.properties"));
    String[] p = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
        () -> errOf("--config", pipe.toString()), "a pipe in place of the config file blocks the reader");
    assertEquals("2", p[0], p[1]);
    assertTrue(p[1].contains("--config " + pipe + ": is a named pipe (FIFO), not a regular file or folder"), p[1]);
  }

  /** A named pipe (or socket, device) in place of a data file is refused at once, naming it; the reader never blocks on it. */
  @Test
  void aPipeInPlaceOfADataFileIsRefusedAtOnce() throws Exception {
    Path data = Files.createDirectories(dir.resolve("piped"));
    for (String f : new String[] {"train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
      Files.createSymbolicLink(data.resolve(f), TestData.mnistDir().resolve(f));
    }
    fifo(data.resolve("train-images-idx3-ubyte"));
    String[] r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
        () -> errOf("train.path=" + data, "test.path=" + data, "out=" + dir.resolve("o")));
    assertEquals("3", r[0], r[1]);
    assertTrue(r[1].contains(data.resolve("train-images-idx3-ubyte") + ": is a named pipe (FIFO), not a regular file or folder"), r[1]);
    Path table = Files.createDirectories(dir.resolve("piped-table"));
    fifo(table.resolve("part-0.csv"));
    r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
        () -> errOf("train.path=" + table, "test.path=" + TestData.mnistDir(), "out=" + dir.resolve("o")));
    assertEquals("3", r[0], r[1]);
    assertTrue(r[1].contains(table.resolve("part-0.csv") + ": is a named pipe (FIFO)"), r[1]);
    assertFalse(Files.exists(dir.resolve("o")), "a refused run leaves no run directory");
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty(), "no SparkContext was started");
  }

  /**
   * A data file this user may not read: one line naming it (was a raw FileNotFoundException,
   * exit 1). As root, whom file modes do not stop, the command runs in a child JVM without the
   * capabilities that let root read any file.
   */
  @Test
  void anUnreadableDataFileIsNamed() throws Exception {
    Path data = Files.createDirectories(dir.resolve("unreadable"));
    for (String f : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
      Files.copy(TestData.mnistDir().resolve(f), data.resolve(f));
    }
    Path images = data.resolve("t10k-images-idx3-ubyte");
    Files.setPosixFilePermissions(images, java.util.Set.of());
    String[] args = {"train.path=" + data, "test.path=" + data, "out=" + dir.resolve("o")};
    String code;
    String err;
    if (!"root".equals(System.getProperty("user.name"))) {
      String[] r = errOf(args);
      code = r[0];
      err = r[1];
    } else {
      org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")),
          "root without setpriv: no way to be refused a read here");
      java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("/usr/bin/setpriv", "--inh-caps=-all",
          "--bounding-set=-dac_override,-dac_read_search", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), "dev.sparkprop.cli.Train"));
      cmd.addAll(java.util.List.of(args));
      Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      err = new String(p.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the child JVM did not end");
      code = String.valueOf(p.exitValue());
    }
    assertEquals("3", code, err);
    assertTrue(err.contains(images + ": permission denied for user root (mode ---------, owner root); make it readable")
        || err.contains(images + ": permission denied for user " + System.getProperty("user.name")), err);
    assertEquals(1, err.strip().lines().count(), "one line: " + err);
  }

  /** A network too large for the heap is refused before Spark starts with the figures and the setting (was an OutOfMemoryError). */
  @Test
  void aNetworkTooLargeForTheHeapIsRefusedBeforeSparkStarts() {
    String mnist = TestData.mnistDir().toString();
    String[] r = errOf("layers=784,2000000,10", "train.path=" + mnist, "test.path=" + mnist, "out=" + dir.resolve("big"));
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("layers: this network needs at least ") && r[1].contains(" in the driver (")
        && r[1].contains("set spark.driver.memory (in conf/spark-defaults.conf, or spark-submit's --driver-memory) to "), r[1]);
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty(), "no SparkContext was started");
    assertFalse(Files.exists(dir.resolve("big")), "a refused run leaves no run directory");
  }

  /** Test data of another width than the training data's: both widths named, not a hint to change layers. */
  @Test
  void testDataOfAnotherWidthNamesTheTrainingWidth() throws Exception {
    Path data = Files.createDirectories(dir.resolve("widths"));
    dev.sparkprop.data.IdxTestFiles.write(data, "train-images-idx3-ubyte", dev.sparkprop.data.IdxTestFiles.images(30, 28, 28, 1));
    dev.sparkprop.data.IdxTestFiles.write(data, "train-labels-idx1-ubyte", dev.sparkprop.data.IdxTestFiles.labels(30, 10, 2));
    dev.sparkprop.data.IdxTestFiles.write(data, "t10k-images-idx3-ubyte", dev.sparkprop.data.IdxTestFiles.images(10, 10, 10, 3));
    dev.sparkprop.data.IdxTestFiles.write(data, "t10k-labels-idx1-ubyte", dev.sparkprop.data.IdxTestFiles.labels(10, 10, 4));
    String[] r = errOf("train.path=" + data, "test.path=" + data, "out=" + dir.resolve("o"));
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("test.path: the test data (") && r[1].contains(") has 100 features per row, but the training data have 784"), r[1]);
    assertFalse(r[1].contains("set layers="), r[1]);
  }

  /** A model holding a NaN is refused by init.from and by export-onnx too (evaluate and predict: EvaluatePredictTest). */
  @Test
  void aModelWithANaNIsRefusedByInitFromAndExportOnnx() throws Exception {
    dev.sparkprop.nn.NetworkSpec spec = dev.sparkprop.nn.NetworkSpec.of(new int[] {784, 512, 10}, dev.sparkprop.nn.Activation.RELU);
    float[] p = new float[spec.numParams()];
    p[spec.weightOffset(1) + 11] = Float.NaN;
    Path model = dir.resolve("nan-model");
    dev.sparkprop.io.ModelStore.save(model.toString(), new dev.sparkprop.io.SavedModel(spec, p, java.util.Map.of(), java.util.Map.of()), false);
    String mnist = TestData.mnistDir().toString();
    String[] r = errOf("init.from=" + model, "train.path=" + mnist, "test.path=" + mnist, "out=" + dir.resolve("o"));
    assertEquals("3", r[0], r[1]);
    assertTrue(r[1].contains("dense_1_W.npy: tensor 'dense_1_W' holds NaN at index 11 (of 5120)"), r[1]);
    CliRun e = CliRun.of(ExportOnnx::run, "model=" + model);
    e.expect(3, "dense_1_W.npy: tensor 'dense_1_W' holds NaN at index 11");
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty(), "no SparkContext was started");
  }

  static Path fifo(Path p) throws Exception {
    Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertEquals(0, mk.waitFor(), "mkfifo " + p);
    return p;
  }

  /**
   * A layer list takes its input shape from the IDX header (1x28x28 for MNIST) and is checked
   * against it before Spark starts: the layer, the shape that reached it and what it needs.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "conv(8,29) relu, dense(10) | layers: conv(8,29) relu (layer 1) needs an input of at least 29x29, but 1x28x28 (the input) reaches it",
      "conv(8,5,stride=2), pool(2), pool(2), pool(2), pool(2), dense(10) | layers: pool(2) (layer 5) needs an input of at least 2x2, but 8x1x1 (after pool(2)) reaches it",
      "conv(8,3), dense(64), conv(4,3), dense(10) | layers: conv(4,3) relu (layer 3) comes after a dense layer"})
  void aLayerListThatDoesNotFitMnistIsRefusedBeforeSparkStarts(String layers, String message) {
    String mnist = TestData.mnistDir().toString();
    String[] r = errOf("layers=" + layers, "train.path=" + mnist, "test.path=" + mnist, "out=" + dir.resolve("o"));
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains(message), "expected '" + message + "' in: " + r[1]);
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty(), "no SparkContext was started");
  }

  @Test
  void anInputShapeThatIsNotTheDatasIsRefused() {
    String mnist = TestData.mnistDir().toString();
    String[] r = errOf("layers=conv(4,3), dense(10)", "input.shape=1,27,27", "train.path=" + mnist, "test.path=" + mnist,
        "out=" + dir.resolve("o"));
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains("input.shape: 1x27x27 is 729 values but the data have 784 (training) and 784 (test) values per row"), r[1]);
  }
}
