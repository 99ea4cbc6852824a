package io.toedit.edit;

/**
 * Applies the ToEdit rule to one scored document. Pure function of (config, document id, tokens,
 * scores): the same inputs give byte-identical results on any thread, batch or replay.
 */
public final class Editor {

  private final EditConfig config;
  private final Vocabulary vocabulary;

  public Editor(EditConfig config, Vocabulary vocabulary) {
    this.config = config;
    this.vocabulary = vocabulary;
  }

  public EditConfig config() {
    return config;
  }

  /**
   * Edits one document.
   *
   * @param documentId keys the random draws together with the seed and the position
   * @param tokens the tokenization of the original text (BOS first), with character spans
   * @param scores the model's scores of {@code tokens.ids()}
   */
  public EditResult edit(String documentId, Tokenized tokens, TokenScores scores) {
    throw new UnsupportedOperationException("not implemented yet (issue 3)");
  }
}
