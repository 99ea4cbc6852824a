package io.toedit.pipeline;

import io.toedit.text.Tokenized;

/**
 * A document to edit: its stable id (which keys the random draws) and its text.
 *
 * @param tokens the text already tokenized by the editor's tokenizer (so {@link DocumentEditor} does not
 *     tokenize it again), or {@code null}; when given, its text must be {@code text}
 */
public record SourceDocument(String id, String text, Tokenized tokens) {

  public SourceDocument {
    if (tokens != null && !tokens.text().equals(text)) {
      throw new IllegalArgumentException("the tokens of document '" + id + "' are not of its text");
    }
  }

  public SourceDocument(String id, String text) {
    this(id, text, null);
  }
}
