package io.toedit.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/** Typed reads of {@code toedit.*} settings, with errors that name the key and the bad value. */
public final class ConfigValues {

  private ConfigValues() {
  }

  /**
   * The value of every key of {@code defaults}: the one {@code props} sets (stripped), else the
   * default; in the defaults' order, as a mutable map. Other keys of {@code props} are ignored.
   */
  public static Map<String, String> withDefaults(Map<String, String> defaults, Properties props) {
    Map<String, String> v = new LinkedHashMap<>(defaults);
    for (String name : props.stringPropertyNames()) {
      if (defaults.containsKey(name)) {
        v.put(name, props.getProperty(name).strip());
      }
    }
    return v;
  }

  public static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  public static boolean bool(Map<String, String> v, String key) {
    String s = v.get(key).toLowerCase(Locale.ROOT);
    if (!s.equals("true") && !s.equals("false")) {
      throw new IllegalArgumentException(key + " must be true or false, got '" + v.get(key) + "'");
    }
    return Boolean.parseBoolean(s);
  }

  public static int integer(Map<String, String> v, String key) {
    try {
      return Integer.parseInt(v.get(key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got '" + v.get(key) + "'", e);
    }
  }

  public static long longValue(Map<String, String> v, String key) {
    try {
      return Long.parseLong(v.get(key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be an integer, got '" + v.get(key) + "'", e);
    }
  }

  public static double finite(Map<String, String> v, String key) {
    try {
      double d = Double.parseDouble(v.get(key));
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        throw new NumberFormatException("not finite");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a number, got '" + v.get(key) + "'", e);
    }
  }
}
