package io.toedit.text;

/**
 * A text and its token ids, with each token's character span in the original text.
 *
 * <p>{@code ids[0]} is BOS with the empty span {@code [0, 0)}. For every other position
 * {@code [charStart[t], charEnd[t])} is the range of UTF-16 indices of {@link #text()} that the
 * token covers, as reported by the tokenizer. Several byte-fallback tokens of one multi-byte
 * character share that character's span. Spans are non-decreasing and never overlap except in that
 * shared case.
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
