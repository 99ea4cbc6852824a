package io.toedit.pipeline;

import io.toedit.edit.Editor;
import io.toedit.model.Scorer;
import io.toedit.model.TextTokenizer;
import java.util.List;

/**
 * Tokenize, score and edit a batch of documents: the one code path shared by the batch
 * {@code edit} command and the streaming pipeline, so both give byte-identical output.
 *
 * <p>A document that fails (in any stage) never takes its neighbours down: a failing scoring batch
 * is split and retried until the poison document is isolated. Thread-safe if the scorer is.
 */
public final class DocumentEditor {

  private final TextTokenizer tokenizer;
  private final Scorer scorer;
  private final Editor editor;

  public DocumentEditor(TextTokenizer tokenizer, Scorer scorer, Editor editor) {
    this.tokenizer = tokenizer;
    this.scorer = scorer;
    this.editor = editor;
  }

  /** One outcome per input document, in input order. Never throws for a single bad document. */
  public List<DocumentOutcome> process(List<SourceDocument> documents) {
    throw new UnsupportedOperationException("not implemented yet (issue 3)");
  }
}
