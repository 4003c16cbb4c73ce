package dev.sparkprop.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * README's configuration table is the one {@link ConfigKeys#readmeTable} generates from the keys'
 * declarations (every key, its default, its documentation with a CHOICE key's words), and names
 * no key that is gone.
 */
class ConfigDocTest {
  @Test
  void readmeHoldsTheGeneratedTable() throws Exception {
    String readme = Files.readString(TestData.projectDir().resolve("README.md"), StandardCharsets.UTF_8);
    List<String> wrong = new ArrayList<>();
    String table = String.join("\n", ConfigKeys.readmeTable());
    if (!readme.contains("\n" + table + "\n")) {
      for (String row : ConfigKeys.readmeTable()) if (!readme.contains(row)) wrong.add(row);
      if (wrong.isEmpty()) wrong.add("the rows are there but not as one table in the keys' order");
      wrong.add("(print the table with: java -cp \"target/classes:target/lib/*:target/spark-home/jars/*\" "
          + "dev.sparkprop.config.ConfigKeys)");
    }
    for (String gone : List.of("`sync.rendezvous", "sync.mode=allreduce")) {
      if (readme.contains(gone)) wrong.add("still mentions " + gone);
    }
    assertTrue(wrong.isEmpty(), "README.md (Configuration) disagrees with ConfigKeys.readmeTable(): " + wrong);
  }
}
