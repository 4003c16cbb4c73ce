package dev.sparkprop.cli;

import dev.sparkprop.train.ConfigException;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code key=value} arguments of the evaluate and predict commands, checked against their keys. */
final class CommandArgs {
  private final Map<String, String> values;

  private CommandArgs(Map<String, String> values) {
    this.values = values;
  }

  /**
   * @param keys every accepted key with its default; a null default marks a required key
   */
  static CommandArgs parse(String command, String[] args, Map<String, String> keys) {
    Map<String, String> v = new LinkedHashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq <= 0) throw new ConfigException(command + ": unexpected argument '" + a + "'; expected key=value with keys " + keys.keySet());
      String k = a.substring(0, eq).trim();
      if (!keys.containsKey(k)) throw new ConfigException(command + ": unknown key '" + k + "'; the keys are " + keys.keySet());
      v.put(k, a.substring(eq + 1).trim());
    }
    for (Map.Entry<String, String> e : keys.entrySet()) {
      if (!v.containsKey(e.getKey())) {
        if (e.getValue() == null) throw new ConfigException(command + ": " + e.getKey() + "= is required");
        v.put(e.getKey(), e.getValue());
      }
    }
    return new CommandArgs(v);
  }

  String get(String key) {
    return values.get(key);
  }

  int nonNegative(String key) {
    try {
      int n = Integer.parseInt(get(key));
      if (n < 0) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": expected 0 or a positive integer, got '" + get(key) + "'");
    }
  }
}
