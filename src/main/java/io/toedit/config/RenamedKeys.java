package io.toedit.config;

import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Settings that were renamed: the old name is still accepted, with a deprecation warning, and
 * means exactly the new one. Giving both with different values is an error.
 */
public final class RenamedKeys {

  /** Old names already warned about in this JVM (a setting is read by several components). */
  private static final Set<String> WARNED = Collections.newSetFromMap(new ConcurrentHashMap<>());

  private RenamedKeys() {
  }

  /** The warning for one deprecated name. */
  public static String warning(String oldName, String newName) {
    return "'" + oldName + "' is deprecated and will be removed: use '" + newName + "'";
  }

  /**
   * A copy of {@code props} in which every old key of {@code renamed} (old name to new name) is
   * replaced by its new name. Each old key found is reported to {@code warnings} (once per JVM
   * when {@code once}).
   *
   * @throws IllegalArgumentException when an old and a new key are both set to different values
   */
  public static Properties apply(Properties props, Map<String, String> renamed, Consumer<String> warnings,
      boolean once) {
    Properties out = new Properties();
    for (String name : props.stringPropertyNames()) {
      out.setProperty(name, props.getProperty(name));
    }
    for (Map.Entry<String, String> r : renamed.entrySet()) {
      String old = r.getKey();
      if (!out.containsKey(old)) {
        continue;
      }
      String value = out.getProperty(old);
      out.remove(old);
      String current = out.getProperty(r.getValue());
      if (current != null && !current.strip().equals(value.strip())) {
        throw new IllegalArgumentException("'" + old + "' (deprecated) and '" + r.getValue()
            + "' are both set, to different values: keep only '" + r.getValue() + "'");
      }
      out.setProperty(r.getValue(), value);
      if (!once || WARNED.add(old)) {
        warnings.accept(warning(old, r.getValue()));
      }
    }
    return out;
  }
}
