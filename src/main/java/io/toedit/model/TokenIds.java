package io.toedit.model;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The one reader of token ids in a model's {@code config.json}: {@code bos_token_id},
 * {@code eos_token_id} and {@code pad_token_id} may each be a number, a list of numbers (Llama 3.1
 * and 3.2 Instruct list three EOS ids) or absent. {@link LlamaConfig} and the tokenizer both read
 * them here, so they cannot disagree.
 */
public final class TokenIds {

  private TokenIds() {
  }

  /**
   * Every id of {@code field}: one for a number, all for a list, none when absent or null.
   *
   * @throws IllegalArgumentException naming the file and the field for anything else (a string, a
   *     negative or fractional number, a list with such an entry)
   */
  public static int[] read(JsonNode config, String field, String file) {
    JsonNode v = config.get(field);
    if (v == null || v.isNull()) {
      return new int[0];
    }
    if (v.isArray()) {
      int[] ids = new int[v.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = one(v.get(i), field, file);
      }
      return ids;
    }
    return new int[] {one(v, field, file)};
  }

  /** The first id of {@code field} (the canonical one of a list), or {@code dflt} when there is none. */
  public static int first(JsonNode config, String field, int dflt, String file) {
    int[] ids = read(config, field, file);
    return ids.length > 0 ? ids[0] : dflt;
  }

  private static int one(JsonNode v, String field, String file) {
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
      throw new IllegalArgumentException(file + ": field '" + field
          + "' must be a non-negative integer or a list of them, got " + v);
    }
    return v.asInt();
  }
}
