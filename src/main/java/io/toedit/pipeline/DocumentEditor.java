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
 * <p><b>Batched by default.</b> {@link ScoringMode#BATCHED} hands the whole batch to one
 * {@link Scorer#score} call, which packs it into as few forward passes as its token budget allows
 * (callers sort by length so each pass pads little). On CPU the scores of a sequence are
 * bit-identical alone and in any right-padded batch (every row is padded to a multiple of the
 * model's row alignment, so each row is summed in the same order; {@code ScorerBehaviourTest} and
 * {@code RealScorerDeterminismTest} check it), so the output does not depend on the batching.
 *
 * <p><b>Replay on a GPU.</b> Every edit is a pure function of (config, id, text, scores) and each
 * draw is keyed by (seed, document id, position), so a replay draws the same random numbers; only
 * the probabilities can move, because GPU kernels may reduce in an order that depends on the batch
 * shape. A probability that moves across the threshold or a candidate boundary changes that one
 * edit. {@link ScoringMode#PER_DOCUMENT} scores each document in its own call: its forward passes
 * then have a shape that depends on the document alone, which makes replay bit-exact on a given
 * device and library version, at the cost of throughput.
 *
 * <p><b>Failures.</b> A document that fails (in any stage) never takes its neighbours down: a
 * failing scoring call is split in halves and retried until the poison document is isolated, so
 * one bad document costs about 2·log2(batch) extra scoring calls and the others are still scored.
 * An {@link Error} thrown by the scorer (e.g. {@link OutOfMemoryError} for one huge document) is
 * isolated the same way. A document that fails alone is retried {@code retries} more times with
 * exponential backoff (a transient failure then succeeds) before its failure is reported.
 * Thread-safe if the scorer is.
 */
public final class DocumentEditor {

  /** How documents reach the scorer; see the class comment. */
  public enum ScoringMode {
    /** One {@link Scorer#score} call per document: bit-exact replay on any device, slower. */
    PER_DOCUMENT,
    /** One call per batch, split on failure (default): batch-invariant on CPU, see the class comment. */
    BATCHED
  }

  /**
   * What to do when scoring fails: a document that failed alone gets {@code retries} more attempts,
   * the first after {@code backoffMs}, each further one after twice the previous wait. When
   * {@code brokenAfter} documents in a row (over all callers) failed every attempt and no scoring call
   * succeeded in between, the model is taken as broken: {@link #process} throws
   * {@link BrokenModelException} instead of failing every document one by one; 0 never does.
   */
  public record RetryPolicy(int retries, long backoffMs, int brokenAfter) {
    public static final RetryPolicy NONE = new RetryPolicy(0, 0, 0);
  }

  /** Thrown by {@link #process} when the model failed on every document of a long run: nothing is wrong with them. */
  public static final class BrokenModelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BrokenModelException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private final TextTokenizer tokenizer;
  private final Scorer scorer;
  private final Editor editor;
  private final ScoringMode mode;
  private final RetryPolicy retry;
  /** Documents in a row whose scoring failed on every attempt, reset by any successful scoring call. */
  private final java.util.concurrent.atomic.AtomicInteger failedInARow = new java.util.concurrent.atomic.AtomicInteger();
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
    this(tokenizer, scorer, editor, ScoringMode.BATCHED);
  }

  public DocumentEditor(TextTokenizer tokenizer, Scorer scorer, Editor editor, ScoringMode mode) {
    this(tokenizer, scorer, editor, mode, RetryPolicy.NONE);
  }

  public DocumentEditor(TextTokenizer tokenizer, Scorer scorer, Editor editor, ScoringMode mode, RetryPolicy retry) {
    this.tokenizer = tokenizer;
    this.scorer = scorer;
    this.editor = editor;
    this.mode = mode;
    this.retry = retry;
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

  /**
   * One outcome per input document, in input order. Never throws for a single bad document. A document
   * that carries its {@link SourceDocument#tokens() tokens} is not tokenized again: they must come from
   * this editor's tokenizer.
   */
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
        if (doc.tokens() != null) {
          tokens[i] = doc.tokens(); // tokenized by the caller, with this editor's tokenizer
        } else {
          long t0 = System.nanoTime();
          tokens[i] = tokenizer.encode(doc.text());
          tokenizeNanos.add(System.nanoTime() - t0);
        }
        toScore.add(i);
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
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
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
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
    Throwable failure;
    try {
      long t0 = System.nanoTime();
      List<TokenScores> result;
      try {
        result = scorer.score(sequences);
      } finally {
        scoreNanos.add(System.nanoTime() - t0);
      }
      failedInARow.set(0);
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
    } catch (RuntimeException | Error e) {
      // An Error (OutOfMemoryError for a huge document, StackOverflowError) is isolated like any
      // other failure: the halves are smaller and may well fit.
      failure = e;
    }
    if (indices.size() == 1) {
      int i = indices.get(0);
      int attempt = 1;
      long backoff = retry.backoffMs();
      while (attempt <= retry.retries()) {
        sleep(backoff);
        backoff *= 2;
        attempt++;
        try {
          long t0 = System.nanoTime();
          List<TokenScores> result;
          try {
            result = scorer.score(List.of(tokens[i].ids()));
          } finally {
            scoreNanos.add(System.nanoTime() - t0);
          }
          TokenScores s = result == null || result.size() != 1 ? null : result.get(0);
          if (s != null && Arrays.equals(s.ids(), tokens[i].ids())) {
            failedInARow.set(0);
            scores[i] = s;
            return;
          }
          failure = new IllegalStateException("Scorer returned scores of a different sequence");
        } catch (RuntimeException | Error e) {
          failure = e;
        }
      }
      int inARow = failedInARow.incrementAndGet();
      if (retry.brokenAfter() > 0 && inARow >= retry.brokenAfter()) {
        failedInARow.set(0);
        throw new BrokenModelException("the model failed on " + inARow + " documents in a row (each after "
            + attempt + " attempt(s)) and scored none in between: it looks broken, not the documents. Last failure: "
            + failure + ". Stopping without dead-lettering them: fix the model (or its device) and restart, they "
            + "will be scored then.", failure);
      }
      outcomes[i] = DocumentOutcome.failed(documents.get(i).id(), tokens[i],
          attempt > 1 ? new ScoringFailedException("scoring failed " + attempt + " times: " + failure, failure)
              : failure, "score");
      return;
    }
    int mid = indices.size() / 2;
    scoreOrSplit(indices.subList(0, mid), tokens, scores, documents, outcomes);
    scoreOrSplit(indices.subList(mid, indices.size()), tokens, scores, documents, outcomes);
  }

  private static void sleep(long ms) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A document's scoring failed on every attempt; the cause is the last failure. */
  public static final class ScoringFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ScoringFailedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private static float[] nanRow(int n) {
    float[] row = new float[n];
    Arrays.fill(row, Float.NaN);
    return row;
  }
}
