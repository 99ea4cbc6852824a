package io.toedit.text;

/** What the edit rule needs to know about a tokenizer's vocabulary, without the tokenizer. */
public interface Vocabulary {

  /** Number of token ids. */
  int size();

  /** The raw piece, e.g. {@code "▁the"} or {@code "<0xE2>"}. */
  String piece(int id);

  /**
   * The text this token contributes when it follows other text: {@code "▁the"} gives
   * {@code " the"}. Returns {@code null} for a byte-fallback token that is not a complete UTF-8
   * character on its own, and for special tokens.
   */
  String surface(int id);

  /** True for BOS, EOS, padding, unknown and other control tokens: never drawn as replacements. */
  boolean isSpecial(int id);

  int bosId();

  int eosId();
}
