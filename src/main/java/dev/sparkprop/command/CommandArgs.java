package dev.sparkprop.command;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.ConfigKeys;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The command line of every command, read one way: {@code key=value} arguments and, for the
 * commands that take the training keys, {@code --config FILE} (properties files; a later file
 * wins over an earlier one, a {@code key=value} argument over every file). A command with keys of its own checks them here: an unknown key is
 * refused with the nearest known one, a missing required one by name.
 */
public final class CommandArgs {
  private final Map<String, String> values;

  private CommandArgs(Map<String, String> values) {
    this.values = values;
  }

  /**
   * The arguments as keys and values (a key given twice keeps its last value).
   *
   * @param configFiles whether {@code --config FILE} is allowed
   */
  public static Map<String, String> read(String command, String[] args, boolean configFiles) {
    Map<String, String> files = new LinkedHashMap<>();
    Map<String, String> given = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (configFiles && a.equals("--config")) {
        if (i + 1 >= args.length) throw new ConfigException("--config needs a file name");
        load(Path.of(args[++i]), files);
      } else if (configFiles && a.startsWith("--config=")) {
        load(Path.of(a.substring("--config=".length())), files);
      } else if (a.contains("=") && !a.startsWith("-")) {
        int eq = a.indexOf('=');
        given.put(a.substring(0, eq).trim(), a.substring(eq + 1).trim());
      } else {
        throw new ConfigException(command + ": unexpected argument '" + a + "'; expected "
            + (configFiles ? "[--config FILE] " : "") + "key=value ...");
      }
    }
    files.putAll(given); // a key=value argument wins over every file
    return files;
  }

  /**
   * A command's keys in order, as name, default, name, default, ...; a null default marks a
   * required key.
   */
  public static Map<String, String> keys(String... nameThenDefault) {
    Map<String, String> k = new LinkedHashMap<>();
    for (int i = 0; i < nameThenDefault.length; i += 2) k.put(nameThenDefault[i], nameThenDefault[i + 1]);
    return java.util.Collections.unmodifiableMap(k);
  }

  /** Reads {@code args} and checks them against {@code keys}. */
  public static CommandArgs parse(String command, String[] args, Map<String, String> keys) {
    return check(command, read(command, args, false), keys);
  }

  /**
   * Checks {@code given} against {@code keys} and fills in the defaults.
   *
   * @param keys every accepted key with its default; a null default marks a required key
   */
  public static CommandArgs check(String command, Map<String, String> given, Map<String, String> keys) {
    Map<String, String> v = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : given.entrySet()) {
      String k = e.getKey();
      if (!keys.containsKey(k)) {
        throw new ConfigException(command + ": unknown key '" + k + "'" + ConfigKeys.suggestion(k, keys.keySet())
            + "; the keys are " + keys.keySet());
      }
      v.put(k, e.getValue());
    }
    for (Map.Entry<String, String> e : keys.entrySet()) {
      if (!v.containsKey(e.getKey())) {
        if (e.getValue() == null) throw new ConfigException(command + ": " + e.getKey() + "= is required");
        v.put(e.getKey(), e.getValue());
      }
    }
    return new CommandArgs(v);
  }

  private static void load(Path file, Map<String, String> into) {
    if (!Files.exists(file)) throw new ConfigException("--config: no such file " + file);
    String unusable = dev.sparkprop.data.InputFile.problem(file);
    if (unusable != null) throw new ConfigException("--config " + file + ": " + unusable);
    String text;
    try {
      text = utf8Text(file, Files.readAllBytes(file));
    } catch (IOException e) {
      String denied = dev.sparkprop.data.InputFile.deniedMessage(file, e);
      throw new ConfigException("--config: " + (denied != null ? denied : "cannot read " + file + ": " + e.getMessage()));
    }
    java.util.Set<String> twice = new java.util.TreeSet<>();
    Properties p = new Properties() {
      private static final long serialVersionUID = 1L;

      @Override
      public synchronized Object put(Object key, Object value) {
        Object was = super.put(key, value);
        if (was != null) twice.add(key + " (" + was + ", then " + value + ")");
        return was;
      }
    };
    try (Reader r = new java.io.StringReader(text)) {
      p.load(r);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("--config " + file + ": cannot read it as key=value lines: " + e.getMessage());
    }
    // the last value would win silently: an edit that forgot the first line, or two files pasted together
    if (!twice.isEmpty()) {
      throw new ConfigException("--config " + file + ": a key is set twice: " + String.join(", ", twice) + "; keep one line per key");
    }
    if (p.containsKey("")) {
      throw new ConfigException("--config " + file + ": a line has no key before its '=' (value '" + p.getProperty("")
          + "'); write key=value");
    }
    for (String k : p.stringPropertyNames()) into.put(k, p.getProperty(k));
  }

  /** The file's text, refused unless it is UTF-8 text (a binary file given by mistake is named as such). */
  private static String utf8Text(Path file, byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == 0) throw new ConfigException("--config " + file + ": not a text file (a NUL byte at offset " + i + "); give a properties file of key=value lines");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new ConfigException("--config " + file + ": not UTF-8 text; give a properties file of key=value lines, saved as UTF-8");
    }
  }

  public String get(String key) {
    return values.get(key);
  }

  /** A key's value as a whole number of at least 0, refused with the key's name otherwise. */
  public int nonNegative(String key) {
    try {
      int n = Integer.parseInt(get(key));
      if (n < 0) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": expected 0 or a positive integer, got '" + get(key) + "'");
    }
  }

  /** A key's value as true or false, refused with the key's name otherwise. */
  public boolean bool(String key) {
    String s = get(key).toLowerCase(java.util.Locale.ROOT);
    if (!s.equals("true") && !s.equals("false")) throw new ConfigException(key + ": expected true or false, got '" + get(key) + "'");
    return s.equals("true");
  }
}
