package dev.sparkprop.cli;

import dev.sparkprop.train.ConfigException;
import dev.sparkprop.train.TrainConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;

/** Command-line arguments: {@code [--config FILE] [key=value ...]}; later values win. */
final class Args {
  static final String USAGE = "usage: Train [--config FILE] [key=value ...]   (keys: see README.md, Configuration)";

  private Args() {}

  static TrainConfig parse(String[] args) {
    Properties props = new Properties();
    Properties overrides = new Properties();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--config")) {
        if (i + 1 >= args.length) throw new ConfigException("--config needs a file name");
        load(Path.of(args[++i]), props);
      } else if (a.startsWith("--config=")) {
        load(Path.of(a.substring("--config=".length())), props);
      } else if (a.contains("=") && !a.startsWith("-")) {
        int eq = a.indexOf('=');
        overrides.setProperty(a.substring(0, eq).trim(), a.substring(eq + 1).trim());
      } else {
        throw new ConfigException("unexpected argument '" + a + "'; " + USAGE);
      }
    }
    props.putAll(overrides);
    return TrainConfig.of(props);
  }

  private static void load(Path file, Properties into) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (NoSuchFileException e) {
      throw new ConfigException("--config: no such file " + file);
    } catch (IOException e) {
      throw new ConfigException("--config: cannot read " + file + ": " + e.getMessage());
    }
    if (p.containsKey("")) {
      throw new ConfigException("--config " + file + ": a line has no key before its '=' (value '" + p.getProperty("")
          + "'); write key=value");
    }
    into.putAll(p);
  }
}
