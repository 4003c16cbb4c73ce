package dev.sparkprop.config;

import java.util.function.Supplier;

/** A configuration that cannot be used; the message names the key, the value and what is expected. */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  /** What {@code f} makes; its IllegalArgumentException as this key's refusal ("key: message", the key named once). */
  public static <T> T naming(String key, Supplier<T> f) {
    try {
      return f.get();
    } catch (IllegalArgumentException e) {
      String m = String.valueOf(e.getMessage());
      throw new ConfigException(m.startsWith(key + ": ") ? m : key + ": " + m); // not "layers: layers: ..."
    }
  }
}
