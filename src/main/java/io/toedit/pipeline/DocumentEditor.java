package io.toedit.pipeline;

import io.toedit.edit.EditResult;
import io.toedit.edit.Editor;
import io.toedit.model.Scorer;
import io.toedit.text.ContextToken;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Tokenize, score and edit a batch of documents: the one code path shared by the batch
 * {@code edit} command and the streaming pipeline, so both give byte-identical output.
 *
 * <p><b>Reproducibility.</b> Every edit is a pure function of (config, id, text, scores), but a real
 * scorer's float results for a sequence depend slightly on the padded batch it was packed into
 * (measured with stories260k on CPU: about 2 % of log-probs differ in the last bits, up to 8e-6,
 * between a sequence scored alone and in a batch of 120). That is enough to change the written
 * probabilities and, rarely, an edit. So by default ({@link ScoringMode#PER_DOCUMENT}) each
 * document is scored in its own {@link Scorer#score} call: its forward passes then have a shape
 * that depends on the document alone, and the output is byte-identical whatever the batch
 * composition, for the same model settings (device, threads per worker). Parallelism then comes
 * from calling {@link #process} from several threads. {@link ScoringMode#BATCHED} packs the whole
 * batch into one call (worth it on a GPU), at the price of that last-bit variation.
 *
 * <p>A document that fails (in any stage) never takes its neighbours down: in batched mode a
 * failing scoring batch is split in halves and retried until the poison document is isolated, so
 * one bad document costs about 2·log2(batch) extra scoring calls and the others are still scored.
 * Thread-safe if the scorer is.
 */
public final class DocumentEditor {

  /** How documents reach the scorer; see the class comment. */
  public enum ScoringMode {
    /** One {@link Scorer#score} call per document: batch-invariant output (default). */
    PER_DOCUMENT,
    /** One call per batch, split on failure: faster on a GPU, last-bit variation with batch composition. */
    BATCHED
  }

  private final TextTokenizer tokenizer;
  private final Scorer scorer;
  private final Editor editor;
  private final ScoringMode mode;
  private final LongAdder tokenizeNanos = new LongAdder();
  private final LongAdder scoreNanos = new LongAdder();
  private final LongAdder editNanos = new LongAdder();

  /** Time spent in each stage since construction, summed over threads (so it can exceed wall time). */
  public record StageTimes(long tokenizeNanos, long scoreNanos, long editNanos) {
    public StageTimes minus(StageTimes earlier) {
      return new StageTimes(tokenizeNanos - earlier.tokenizeNanos, scoreNanos - earlier.scoreNanos,
          editNanos - earlier.editNanos);
    }
  }

  public DocumentEditor(TextTokenizer tokenizer, Scorer scorer, Editor editor) {
    this(tokenizer, scorer, editor, ScoringMode.PER_DOCUMENT);
  }

  public DocumentEditor(TextTokenizer tokenizer, Scorer scorer, Editor editor, ScoringMode mode) {
    this.tokenizer = tokenizer;
    this.scorer = scorer;
    this.editor = editor;
    this.mode = mode;
  }

  public ScoringMode scoringMode() {
    return mode;
  }

  public StageTimes stageTimes() {
    return new StageTimes(tokenizeNanos.sum(), scoreNanos.sum(), editNanos.sum());
  }

  public Editor editor() {
    return editor;
  }

  /** The token put before every document, and the rule that chose it, for provenance. */
  public ContextToken contextToken() {
    return tokenizer.contextToken();
  }

  /** The scoring model's identifier, for provenance. */
  public String modelId() {
    return scorer.modelId();
  }

  /** One outcome per input document, in input order. Never throws for a single bad document. */
  public List<DocumentOutcome> process(List<SourceDocument> documents) {
    int n = documents.size();
    DocumentOutcome[] outcomes = new DocumentOutcome[n];
    Tokenized[] tokens = new Tokenized[n];
    List<Integer> toScore = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      SourceDocument doc = documents.get(i);
      try {
        if (doc.text() == null) {
          throw new IllegalArgumentException("document '" + doc.id() + "' has no text");
        }
        long t0 = System.nanoTime();
        tokens[i] = tokenizer.encode(doc.text());
        tokenizeNanos.add(System.nanoTime() - t0);
        toScore.add(i);
      } catch (RuntimeException e) {
        outcomes[i] = DocumentOutcome.failed(doc.id(), null, e, "tokenize");
      }
    }
    TokenScores[] scores = new TokenScores[n];
    scoreSplitting(toScore, tokens, scores, documents, outcomes);
    for (int i : toScore) {
      if (outcomes[i] != null) {
        continue;
      }
      SourceDocument doc = documents.get(i);
      try {
        long t0 = System.nanoTime();
        EditResult result = editor.edit(doc.id(), tokens[i], scores[i]);
        editNanos.add(System.nanoTime() - t0);
        outcomes[i] = DocumentOutcome.success(doc.id(), tokens[i], scores[i], result);
      } catch (RuntimeException e) {
        outcomes[i] = DocumentOutcome.failed(doc.id(), tokens[i], e, "edit");
      }
    }
    return List.of(outcomes);
  }

  /**
   * Scores the documents at {@code indices}; on failure splits them in halves and recurses, so a
   * poison document fails alone. A BOS-only document (empty text) has nothing to score and never
   * reaches the scorer.
   */
  private void scoreSplitting(List<Integer> indices, Tokenized[] tokens, TokenScores[] scores,
      List<SourceDocument> documents, DocumentOutcome[] outcomes) {
    List<Integer> real = new ArrayList<>(indices.size());
    for (int i : indices) {
      if (tokens[i].length() <= 1) {
        int[] ids = tokens[i].ids().clone();
        scores[i] = new TokenScores(ids, nanRow(ids.length), new int[ids.length][0], new float[ids.length][0]);
      } else {
        real.add(i);
      }
    }
    if (mode == ScoringMode.PER_DOCUMENT) {
      for (int i : real) {
        scoreOrSplit(List.of(i), tokens, scores, documents, outcomes);
      }
    } else {
      scoreOrSplit(real, tokens, scores, documents, outcomes);
    }
  }

  private void scoreOrSplit(List<Integer> indices, Tokenized[] tokens, TokenScores[] scores,
      List<SourceDocument> documents, DocumentOutcome[] outcomes) {
    if (indices.isEmpty()) {
      return;
    }
    List<int[]> sequences = new ArrayList<>(indices.size());
    for (int i : indices) {
      sequences.add(tokens[i].ids());
    }
    RuntimeException failure;
    try {
      long t0 = System.nanoTime();
      List<TokenScores> result;
      try {
        result = scorer.score(sequences);
      } finally {
        scoreNanos.add(System.nanoTime() - t0);
      }
      if (result == null || result.size() != indices.size()) {
        throw new IllegalStateException("Scorer returned " + (result == null ? "null" : result.size() + " results")
            + " for " + indices.size() + " sequences");
      }
      for (int j = 0; j < indices.size(); j++) {
        int i = indices.get(j);
        TokenScores s = result.get(j);
        if (s == null || !Arrays.equals(s.ids(), tokens[i].ids())) {
          outcomes[i] = DocumentOutcome.failed(documents.get(i).id(), tokens[i],
              new IllegalStateException("Scorer returned scores of a different sequence"), "score");
        } else {
          scores[i] = s;
        }
      }
      return;
    } catch (RuntimeException e) {
      failure = e;
    }
    if (indices.size() == 1) {
      int i = indices.get(0);
      outcomes[i] = DocumentOutcome.failed(documents.get(i).id(), tokens[i], failure, "score");
      return;
    }
    int mid = indices.size() / 2;
    scoreOrSplit(indices.subList(0, mid), tokens, scores, documents, outcomes);
    scoreOrSplit(indices.subList(mid, indices.size()), tokens, scores, documents, outcomes);
  }

  private static float[] nanRow(int n) {
    float[] row = new float[n];
    Arrays.fill(row, Float.NaN);
    return row;
  }
}
