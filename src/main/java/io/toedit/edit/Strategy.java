package io.toedit.edit;

import java.util.Locale;

/** The editing strategies of the ToEdit paper's code. */
public enum Strategy {
  /** Resample tokens with P &gt; p (default). */
  UP_REVISE,
  /** Resample tokens with P &gt; p with beta = 1, and delete tokens with P &lt; the low threshold. */
  LOW_DROP_UP_REVISE,
  /** Only delete tokens with P &lt; the low threshold. */
  FILTERING;

  /** The paper code's spelling, e.g. {@code up_revise}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Strategy fromWireName(String name) {
    for (Strategy s : values()) {
      if (s.wireName().equals(name.trim().toLowerCase(Locale.ROOT).replace('-', '_'))) {
        return s;
      }
    }
    throw new IllegalArgumentException("Unknown strategy '" + name
        + "': expected one of up_revise, low_drop_up_revise, filtering");
  }
}
