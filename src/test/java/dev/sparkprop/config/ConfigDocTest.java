package dev.sparkprop.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** README's configuration table lists every key with its default, and no key that is gone. */
class ConfigDocTest {
  @Test
  void readmeListsEveryKeyWithItsDefault() throws Exception {
    String readme = Files.readString(TestData.projectDir().resolve("README.md"), StandardCharsets.UTF_8);
    List<String> wrong = new ArrayList<>();
    for (ConfigKeys.Key k : ConfigKeys.ALL) {
      String row = "| `" + k.name() + "` | " + (k.defaultValue().isEmpty() ? "(unset)" : "`" + k.defaultValue() + "`") + " |";
      if (!readme.contains(row)) wrong.add(row);
    }
    for (String gone : List.of("`sync.rendezvous", "sync.mode=allreduce")) {
      if (readme.contains(gone)) wrong.add("still mentions " + gone);
    }
    assertTrue(wrong.isEmpty(), "README.md (Configuration) disagrees with ConfigKeys.ALL: " + wrong);
  }
}
