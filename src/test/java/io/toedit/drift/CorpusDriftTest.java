package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.model.BundledTokenizer;
import io.toedit.text.TextTokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * N-gram drift on real text with the real tokenizer: two halves of one corpus are close, two
 * corpora of different registers are far. The printed figures are the ones in docs/drift.md.
 */
class CorpusDriftTest {

  private static final TextTokenizer tokenizer = BundledTokenizer.get();

  static WindowSummary summarize(List<String> texts, String source) {
    WindowSummary s = new WindowSummary(SummaryConfig.defaults());
    long ts = 0;
    for (String text : texts) {
      int[] ids = tokenizer.encode(text).ids();
      s.update(DocumentObservation.unscored(source, StreamKind.RAW, ts++, Arrays.copyOfRange(ids, 1, ids.length),
          0, 0));
    }
    return s;
  }

  static String describe(String label, DriftMetrics m) {
    return String.format(Locale.ROOT, "%s: docs=%d tokens=%d JSD=%.4f KL=%.4f top1%%=%.4f top40bigrams=%.4f"
        + " distinct1/2/3=%.4f/%.4f/%.4f entropy1/2/3=%.2f/%.2f/%.2f bits", label, m.documents(), m.tokens(),
        m.jsd(), m.klSmoothed(), m.top1PctBucketShare(), m.top40BigramShare(), m.distinct1Ratio(),
        m.distinct2Ratio(), m.distinct3Ratio(), m.entropy1(), m.entropy2(), m.entropy3());
  }

  @Test
  void shouldFindHalvesOfOneCorpusCloseAndDifferentCorporaFar() {
    List<String> stories = CorpusFixtures.texts("/corpora/tinystories_valid.jsonl.gz");
    List<String> brown = CorpusFixtures.texts("/corpora/brown_first100.jsonl.gz");
    List<String> shakespeare = CorpusFixtures.texts("/corpora/tinyshakespeare.jsonl.gz");
    int half = stories.size() / 2;
    WindowSummary first = summarize(stories.subList(0, half), "tinystories-a");
    WindowSummary second = summarize(stories.subList(half, stories.size()), "tinystories-b");
    WindowSummary all = first.copy().merge(second);
    WindowSummary brownSummary = summarize(brown, "brown");

    DriftMetrics halves = DriftMetrics.of(second, Reference.of("tinystories first half", first));
    DriftMetrics far = DriftMetrics.of(brownSummary, Reference.of("tinystories_valid", all));
    DriftMetrics farther = DriftMetrics.of(summarize(shakespeare, "shakespeare"), Reference.of("tinystories", all));
    System.out.println(describe("tinystories 2nd half vs 1st half", halves));
    System.out.println(describe("brown vs tinystories_valid", far));
    System.out.println(describe("tinyshakespeare vs tinystories_valid", farther));

    // measured (docs/drift.md): halves 0.033, brown 0.141, shakespeare 0.182 bits. With a 512-piece
    // vocabulary every English text shares most unigrams and bigrams, so "far" is ~4x, not 100x.
    assertTrue(halves.jsd() < 0.05, describe("halves", halves));
    assertTrue(far.jsd() > 0.1, describe("brown", far));
    assertTrue(far.jsd() > 3 * halves.jsd(), "far must be several times close");
    assertTrue(far.klSmoothed() > 3 * halves.klSmoothed(), "KL must agree with JSD");
    assertTrue(farther.jsd() > far.jsd(), "Shakespeare is farther from children's stories than Brown");
  }
}
