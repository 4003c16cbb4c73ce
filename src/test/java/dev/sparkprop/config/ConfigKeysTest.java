package dev.sparkprop.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The key declarations of {@link ConfigKeys} and the typed {@link TrainConfig} built from them. */
class ConfigKeysTest {
  private static TrainConfig config(String... kv) {
    Properties p = new Properties();
    for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
    return TrainConfig.of(p);
  }

  /** A value that is not of the key's declared type. */
  private static String wrongValue(ConfigKeys.Type type) {
    return switch (type) {
      case INTEGER -> "1.5";
      case COUNT -> "-1";
      case POSITIVE -> "0";
      case NUMBER -> "many";
      case BOOLEAN -> "maybe";
      case CHOICE -> "bogus";
      case NETWORK, TEXT -> null;
    };
  }

  @Test
  void everyKeyRefusesAValueOfAnotherTypeNamingTheKey() {
    List<String> missed = new ArrayList<>();
    int checked = 0;
    for (ConfigKeys.Key k : ConfigKeys.ALL) {
      String bad = wrongValue(k.type());
      if (bad == null) continue;
      checked++;
      try {
        config(k.name(), bad);
        missed.add(k.name() + "=" + bad + " was accepted");
      } catch (ConfigException e) {
        if (!e.getMessage().startsWith(k.name() + ": ")) missed.add(k.name() + "=" + bad + ": " + e.getMessage());
      }
    }
    assertTrue(missed.isEmpty(), String.join("\n", missed));
    assertTrue(checked > 40, "typed keys checked: " + checked);
  }

  @Test
  void everyChoiceKeyRefusesAnotherWordListingItsDeclaredOnesAndDocumentsThem() {
    List<String> wrong = new ArrayList<>();
    for (ConfigKeys.Key k : ConfigKeys.ALL) {
      if (k.type() != ConfigKeys.Type.CHOICE) continue;
      if (k.choices().size() < 2) wrong.add(k.name() + ": fewer than two words " + k.choices());
      if (!k.choices().contains(k.defaultValue())) wrong.add(k.name() + ": default '" + k.defaultValue() + "' not among " + k.choices());
      for (String w : k.choices()) if (!k.doc().contains(w)) wrong.add(k.name() + ": the documentation does not name '" + w + "'");
      for (String w : k.choices()) { // every declared word is read (some only with other keys: refused for that, not as a word)
        try {
          config(k.name(), w.toUpperCase(java.util.Locale.ROOT));
        } catch (ConfigException e) {
          if (e.getMessage().contains("unknown")) wrong.add(k.name() + "=" + w + ": " + e.getMessage());
        }
      }
      ConfigException e = assertThrows(ConfigException.class, () -> config(k.name(), "zebra"), k.name());
      String expected = k.name() + ": unknown 'zebra'; expected " + k.choiceText();
      if (!e.getMessage().equals(expected)) wrong.add(e.getMessage() + " instead of " + expected);
    }
    assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    assertEquals("auto, star or tree", ConfigKeys.ALL.stream().filter(k -> k.name().equals("sync.topology")).findFirst().orElseThrow().choiceText());
  }

  @Test
  void everyDefaultIsAValidValue() {
    TrainConfig d = config();
    for (ConfigKeys.Key k : ConfigKeys.ALL) {
      // classes unset is the output layer's units: 10 for the default 784,512,10
      assertEquals(k.name().equals("classes") ? "10" : k.defaultValue(), d.get(k.name()), k.name());
    }
  }

  @Test
  void theModesAreEnumsParsedOnce() {
    TrainConfig c = config("sync.mode", "job", "sync.socket", "tcp", "checkpoint.unit", "Steps", "resume", "TRUE",
        "keep", "best", "validation.fraction", "0.1", "progress", "plain", "shuffle", "False");
    assertEquals(TrainConfig.SyncMode.JOB, c.syncMode());
    assertEquals(TrainConfig.SyncSocket.TCP, c.syncSocket());
    assertTrue(c.checkpointPerStep());
    assertEquals(TrainConfig.Resume.TRUE, c.resume());
    assertEquals(TrainConfig.Keep.BEST, c.keep());
    assertEquals(TrainConfig.ProgressMode.PLAIN, c.progress());
    assertEquals(false, c.shuffle());
    assertEquals("Steps", c.get("checkpoint.unit"), "the text is kept as written (config.properties, checkpoints)");
    ConfigException e = assertThrows(ConfigException.class, () -> config("sync.mode", "allreduce"));
    assertTrue(e.getMessage().startsWith("sync.mode: allreduce was replaced by barrier"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> config("optimizer", "lbfgs"));
    assertEquals("optimizer: unknown 'lbfgs'; expected sgd, momentum, nesterov, rmsprop or adam", e.getMessage());
  }

  @Test
  void anUnknownKeyNamesTheNearestKnownOne() {
    ConfigException e = assertThrows(ConfigException.class, () -> config("batch.sise", "32"));
    assertEquals("unknown config key 'batch.sise' (did you mean 'batch.size'?); the keys are listed in README.md "
        + "(Configuration)", e.getMessage());
    e = assertThrows(ConfigException.class, () -> config("completely.different", "1"));
    assertEquals("unknown config key 'completely.different'; the keys are listed in README.md (Configuration)", e.getMessage());
  }

  @Test
  void theMathKeysAreDeclaredOnTheKeys() {
    List<String> math = ConfigKeys.math();
    assertTrue(math.containsAll(List.of("layers", "lr", "seed", "batch.size", "sync.every", "init.from")), math.toString());
    for (String k : List.of("kernel", "partitions")) {
      assertEquals(ConfigKeys.Bits.ROUNDING, ConfigKeys.find(k).bits(), k + ": allowed on resume with a warning");
    }
    for (String k : List.of("out", "sync.mode", "progress", "log.every", "checkpoint.every")) {
      assertEquals(ConfigKeys.Bits.NONE, ConfigKeys.find(k).bits(), k);
    }
  }

  @Test
  void theTypedConfigurationTravelsAsItIs() throws Exception {
    TrainConfig c = config("layers", "conv(4,3) relu, pool(2), dense(10) softmax", "input.shape", "1,28,28",
        "optimizer", "adam", "lr", "0.003", "sync.every", "4", "lr.warmup.epochs", "0.5");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(c);
    }
    TrainConfig back;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = (TrainConfig) in.readObject();
    }
    assertEquals(c.resolved(), back.resolved());
    assertEquals(c.spec(), back.spec());
    assertEquals(c.syncEvery(), back.syncEvery());
    assertEquals(c.optimizer().describe(), back.optimizer().describe());
    double[] a = new double[5];
    double[] b = new double[5];
    for (int s = 0; s < 5; s++) {
      a[s] = c.learningRate().at(s * 100L, 100, 1000);
      b[s] = back.learningRate().at(s * 100L, 100, 1000);
    }
    assertArrayEquals(a, b);
  }
}
