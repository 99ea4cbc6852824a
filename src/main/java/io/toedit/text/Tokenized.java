package io.toedit.text;

/**
 * A text and its token ids, with each token's character span in the original text.
 *
 * <p>{@code ids[0]} is the context token (the tokenizer's BOS, or the model's document separator)
 * with the empty span {@code [0, 0)}. For every other position {@code [charStart[t], charEnd[t])} is
 * the range of UTF-16 indices of {@link #text()} that the token covers. The tokenizer derives spans
 * from the tokens' bytes when they are exactly the text's UTF-8; the tokens of a
 * <em>partial-character group</em> (consecutive tokens whose boundaries fall inside a UTF-8
 * character: byte-fallback pieces, or byte-level pieces of an emoji or a CJK character) all share the
 * span of the whole group. Spans are non-decreasing and never overlap except in that shared case.
 */
public record Tokenized(String text, int[] ids, int[] charStart, int[] charEnd) {

  public Tokenized {
    if (ids.length != charStart.length || ids.length != charEnd.length) {
      throw new IllegalArgumentException("Tokenized arrays must have one entry per token: ids="
          + ids.length + " charStart=" + charStart.length + " charEnd=" + charEnd.length);
    }
  }

  public int length() {
    return ids.length;
  }
}
