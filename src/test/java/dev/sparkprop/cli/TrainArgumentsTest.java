package dev.sparkprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
      "activation=gelu | activation: unknown activation 'gelu'",
      "layers=784,512,7 | layers: the last size is 7 but classes is 10",
      "layers=784 | layers: need at least an input and an output size",
      "momentum=1.5 | momentum: momentum must be in [0, 1)",
      "lr.schedule=linear | lr.schedule: unknown 'linear'",
      "=novalue | a setting has no key before its '=' (value 'novalue'); write key=value",
      "layers=784,0,10 | error: layers: sizes must be positive, got [784, 0, 10]",
      "layers=784;512;10 | layers: expected comma-separated integers like 784,512,10, or a layer list",
      "layers=conv(32) relu, dense(10) | layers: cannot read 'conv(32) relu' (item 1): conv takes FILTERS,KERNEL first",
      "layers=conv(8,3), pool(2), dense(7) | layers: the output layer dense(7) softmax has 7 units but classes is 10",
      "input.shape=1,28 | input.shape: expected C,H,W such as 1,28,28, got '1,28'",
      "input.shape=1,28,27 | input.shape: 1x28x27 is 756 values, but layers=784,512,10 starts with 784",
      "layers=conv(8,3) | layers: the output layer must be dense with softmax"})
  void impossibleValuesAreRefusedWithTheKeyBeforeSparkStarts(String arg, String message) {
    String[] r = errOf(arg, "train.path=" + dir, "test.path=" + dir);
    assertEquals("2", r[0], r[1]);
    assertTrue(r[1].contains(message), "expected '" + message + "' in: " + r[1]);
    assertTrue(SparkContext$.MODULE$.getActive().isEmpty(), "no SparkContext was started");
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
