package io.toedit.cli;

import io.toedit.drift.DocumentObservation;
import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.SummaryConfig;
import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import io.toedit.pipeline.DocumentLines;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Tokenizes and (optionally) scores the documents of a JSONL corpus and folds them into a drift
 * {@link Reference} cut into pseudo-windows. Glue between {@code model} and {@code drift}, which know
 * nothing of each other. The lines are read as {@code run}, {@code edit} and {@code drift} read them
 * ({@link DocumentLines}); a refused line goes to the caller's sink and is left out.
 */
final class CorpusProfiler {

  private static final int BATCH = 64;
  private final TextTokenizer tokenizer;
  private final Scorer scorer;
  private final int maxTokens;
  private final double threshold;

  /**
   * @param scorer {@code null} for an n-gram-only profile (no NLL, so no contamination signal)
   * @param maxTokens keep at most this many ids per document, BOS included ({@code 0} = all)
   */
  CorpusProfiler(TextTokenizer tokenizer, Scorer scorer, int maxTokens, double threshold) {
    this.tokenizer = tokenizer;
    this.scorer = scorer;
    this.maxTokens = maxTokens;
    this.threshold = threshold;
  }

  /**
   * The reference of the documents of {@code lines}, {@code null} when none was accepted.
   *
   * @param rejected receives each refused line (its {@code reason} says why)
   * @throws IllegalArgumentException when the gzip stream is corrupt or truncated
   */
  Reference profile(DocumentLines lines, String name, SummaryConfig config, int documentsPerWindow,
      Consumer<DocumentLines.Line> rejected) throws IOException {
    Reference.Accumulator acc = Reference.accumulator(name, config);
    List<int[]> batch = new ArrayList<>();
    long documents = 0;
    for (DocumentLines.Line line = lines.next(); line != null; line = lines.next()) {
      if (!line.isDocument()) {
        rejected.accept(line);
        continue;
      }
      documents++;
      batch.add(Corpus.cut(tokenizer.encode(line.document().text()).ids(), maxTokens));
      if (batch.size() == BATCH) {
        flush(batch, acc, documentsPerWindow);
      }
    }
    flush(batch, acc, documentsPerWindow);
    return documents == 0 ? null : acc.build();
  }

  private void flush(List<int[]> batch, Reference.Accumulator acc, int documentsPerWindow) {
    if (batch.isEmpty()) {
      return;
    }
    List<TokenScores> scores = scorer == null ? null : scorer.score(batch);
    for (int i = 0; i < batch.size(); i++) {
      int[] ids = batch.get(i);
      DocumentObservation obs = scores == null
          ? DocumentObservation.unscored("profile", StreamKind.RAW, 0, Arrays.copyOfRange(ids, 1, ids.length), 0, 0)
          : DocumentObservation.scored("profile", StreamKind.RAW, 0, ids, scores.get(i).logProbs(), threshold, 0, 0);
      acc.addDocument(obs, documentsPerWindow);
    }
    batch.clear();
  }
}
