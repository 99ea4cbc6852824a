package io.toedit.cli;

import io.toedit.drift.DocumentObservation;
import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.SummaryConfig;
import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tokenizes and (optionally) scores a JSONL corpus and folds it into a drift {@link Reference} cut
 * into pseudo-windows. Glue between {@code model} and {@code drift}, which know nothing of each other.
 */
final class CorpusProfiler {

  private static final int BATCH = 64;
  private final TextTokenizer tokenizer;
  private final Scorer scorer;
  private final String textField;
  private final int maxTokens;
  private final double threshold;

  /**
   * @param scorer {@code null} for an n-gram-only profile (no NLL, so no contamination signal)
   * @param maxTokens keep at most this many ids per document, BOS included ({@code 0} = all)
   */
  CorpusProfiler(TextTokenizer tokenizer, Scorer scorer, String textField, int maxTokens, double threshold) {
    this.tokenizer = tokenizer;
    this.scorer = scorer;
    this.textField = textField;
    this.maxTokens = maxTokens;
    this.threshold = threshold;
  }

  Reference profile(Path input, String name, SummaryConfig config, int documentsPerWindow) throws IOException {
    Reference.Accumulator acc = Reference.accumulator(name, config);
    List<int[]> batch = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(input)) {
      Corpus.forEachDocument(raw, input.toString(), textField, (id, text) -> {
        batch.add(Corpus.cut(tokenizer.encode(text).ids(), maxTokens));
        if (batch.size() == BATCH) {
          flush(batch, acc, documentsPerWindow);
        }
      });
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + " (choose the text field with --text-field)", e);
    }
    flush(batch, acc, documentsPerWindow);
    return acc.build();
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
