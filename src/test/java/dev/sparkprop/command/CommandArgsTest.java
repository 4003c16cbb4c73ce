package dev.sparkprop.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkprop.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one reader of every command's arguments. */
class CommandArgsTest {
  @TempDir
  Path dir;

  @Test
  void keyValueArgumentsWinOverEveryConfigFileAndLaterFilesOverEarlierOnes() throws Exception {
    Path a = Files.writeString(dir.resolve("a.properties"), "epochs=3\nlr=0.1\nseed=1\n");
    Path b = Files.writeString(dir.resolve("b.properties"), "lr=0.2\n");
    Map<String, String> v = CommandArgs.read("train", new String[] {"epochs=5", "--config", a.toString(), "--config=" + b,
        "seed = 9"}, true);
    assertEquals(Map.of("epochs", "5", "lr", "0.2", "seed", "9"), v);
  }

  @Test
  void anUnknownKeyNamesTheNearestAndARequiredOneIsNamed() {
    Map<String, String> keys = new LinkedHashMap<>();
    keys.put("model", null);
    keys.put("data", "data/mnist");
    ConfigException e = assertThrows(ConfigException.class,
        () -> CommandArgs.parse("evaluate", new String[] {"modle=m"}, keys));
    assertEquals("evaluate: unknown key 'modle' (did you mean 'model'?); the keys are [model, data]", e.getMessage());
    e = assertThrows(ConfigException.class, () -> CommandArgs.parse("evaluate", new String[] {"data=x"}, keys));
    assertEquals("evaluate: model= is required", e.getMessage());
    e = assertThrows(ConfigException.class, () -> CommandArgs.parse("evaluate", new String[] {"--config", "x"}, keys));
    assertEquals("evaluate: unexpected argument '--config'; expected key=value ...", e.getMessage());
    assertEquals("data/mnist", CommandArgs.parse("evaluate", new String[] {"model=m"}, keys).get("data"));
  }
}
