package io.toedit.stream;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Kafka client (and Streams) configuration the way Kafka's own tools build it: a properties file
 * first, then explicit overrides, then defaults with {@code putIfAbsent}. Every client setting passes
 * through unchanged, SASL and SSL included, so anything a Kafka client accepts can be configured.
 *
 * <p>Secrets: never print a configuration as is, print {@link #redacted(Properties)} or
 * {@link #describe(Properties)}. A key is secret when it contains {@code password}, {@code secret},
 * {@code jaas}, {@code credential}, {@code user.info} or is {@code ssl.keystore.key}.
 */
public final class KafkaConfigs {

  /** What {@link #redacted} puts in place of a secret value. */
  public static final String REDACTED = "[redacted]";

  private static final List<String> SECRET_MARKERS =
      List.of("password", "secret", "jaas", "credential", "user.info");

  private KafkaConfigs() {
  }

  /**
   * Merges a configuration.
   *
   * @param configFile a Kafka properties file, read first; {@code null} for none
   * @param overrides  explicit settings, applied over the file (insertion order; later wins)
   * @param defaults   applied only to keys still absent
   * @throws IllegalArgumentException if the file is missing or unreadable
   */
  public static Properties merge(Path configFile, Map<String, String> overrides, Map<String, String> defaults) {
    Properties props = configFile == null ? new Properties() : load(configFile);
    overrides.forEach((k, v) -> {
      if (v != null) {
        props.setProperty(k, v);
      }
    });
    defaults.forEach((k, v) -> {
      if (v != null) {
        props.putIfAbsent(k, v);
      }
    });
    return props;
  }

  /** Reads a Kafka properties file (UTF-8). */
  public static Properties load(Path file) {
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(in);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("Kafka config file not found: " + file, e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the Kafka config file " + file + ": " + e.getMessage(), e);
    }
    return props;
  }

  /**
   * Parses {@code key=value} overrides (split at the first '='; the value may contain '=', as JAAS
   * configurations do).
   *
   * @throws IllegalArgumentException for an item without '=' or with an empty key
   */
  public static Map<String, String> parseOverrides(List<String> items) {
    Map<String, String> out = new LinkedHashMap<>();
    if (items == null) {
      return out;
    }
    for (String item : items) {
      int eq = item.indexOf('=');
      if (eq <= 0) {
        // never echo the item: it may be a secret typed without its key
        throw new IllegalArgumentException("a Kafka property override must look like key=value"
            + (eq == 0 ? " (the key is empty)" : " (no '=' found)"));
      }
      out.put(item.substring(0, eq).strip(), item.substring(eq + 1));
    }
    return out;
  }

  /** Whether the value of this key must never be printed. */
  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    if (k.equals("ssl.keystore.key")) {
      return true;
    }
    for (String marker : SECRET_MARKERS) {
      if (k.contains(marker)) {
        return true;
      }
    }
    return false;
  }

  /** A copy with every secret value replaced by {@link #REDACTED}. */
  public static Properties redacted(Properties props) {
    Properties out = new Properties();
    for (String key : props.stringPropertyNames()) {
      out.setProperty(key, isSecret(key) ? REDACTED : props.getProperty(key));
    }
    for (Map.Entry<Object, Object> e : props.entrySet()) {
      // non-string values (e.g. a Serde class object) are shown by type only
      if (!(e.getKey() instanceof String) || !(e.getValue() instanceof String)) {
        String key = String.valueOf(e.getKey());
        out.setProperty(key, isSecret(key) ? REDACTED : "<" + e.getValue().getClass().getName() + ">");
      }
    }
    return out;
  }

  /** One line, keys sorted, secrets redacted: safe to log. */
  public static String describe(Properties props) {
    Properties safe = redacted(props);
    List<String> parts = new ArrayList<>();
    new TreeMap<>(safe).forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(", ", parts);
  }
}
