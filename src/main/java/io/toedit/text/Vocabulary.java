package io.toedit.text;

/**
 * What the edit rule needs to know about a tokenizer's vocabulary, without the tokenizer.
 *
 * <p>Ids run from 0 to {@link #size()} - 1. A model may have more output rows than that (Qwen pads
 * 151,669 ids to 151,936 rows): ids at or beyond {@link #size()} have no text and are never drawn.
 */
public interface Vocabulary {

  /** Number of token ids the tokenizer defines (holes included). */
  int size();

  /**
   * The raw vocabulary string, e.g. {@code "▁the"}, {@code "Ġthe"} or {@code "<0xE2>"}; {@code ""}
   * for an id the tokenizer does not define.
   */
  String piece(int id);

  /**
   * The exact bytes this token decodes to when it follows other text, as the tokenizer's own decoder
   * writes them: {@code "Ġthe"} and {@code "▁the"} give the UTF-8 of {@code " the"}, {@code "<0xE2>"}
   * gives the single byte {@code E2}, a special token gives its literal content. {@code null} for an id
   * the tokenizer does not define. The caller must not modify the array.
   */
  byte[] bytes(int id);

  /**
   * The text this token contributes when it follows other text: {@link #bytes} as UTF-8. Returns
   * {@code null} for a token whose bytes are not whole UTF-8 characters (part of a character), for
   * special tokens and for ids without bytes.
   */
  String surface(int id);

  /** True for BOS, EOS, padding, unknown and other control tokens: never drawn as replacements. */
  boolean isSpecial(int id);

  /**
   * The context token put before every document so that its first real token can be scored: the BOS
   * the tokenizer's post-processor adds, or the model's document separator where it adds none.
   */
  int bosId();

  int eosId();
}
