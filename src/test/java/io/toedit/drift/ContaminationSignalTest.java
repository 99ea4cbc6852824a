package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.toedit.edit.TokenScores;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.model.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contamination signal on real text scored by the real prior model (stories260k): a reference
 * from the first half of {@code tinystories_valid} in pseudo-windows of 20 documents, then a
 * stream of windows of 20 documents from the second half, into which a window of stories generated
 * by the same model is inserted. The generated stories are committed in src/test/resources/drift
 * ({@link SampleGenerator} makes them: full distribution, temperature 0.7 and 1.0). The printed
 * figures are the ones in the README.
 */
class ContaminationSignalTest {

  private static final int WINDOW = 20;
  private static TextTokenizer tokenizer;
  private static Scorer scorer;

  @BeforeAll
  static void open() {
    tokenizer = Models.openTokenizer(ModelSettings.defaults());
    scorer = Models.openScorer(ModelSettings.defaults());
  }

  @AfterAll
  static void close() {
    scorer.close();
    tokenizer.close();
  }

  /** Scores sequences (BOS first), keeping the first 512 ids, the model's context. */
  private static List<DocumentObservation> observe(List<int[]> sequences, String source) {
    List<int[]> cut = new ArrayList<>();
    for (int[] ids : sequences) {
      cut.add(ids.length > 512 ? Arrays.copyOf(ids, 512) : ids);
    }
    List<TokenScores> scores = scorer.score(cut);
    List<DocumentObservation> out = new ArrayList<>();
    for (int i = 0; i < cut.size(); i++) {
      out.add(DocumentObservation.scored(source, StreamKind.RAW, i, cut.get(i), scores.get(i).logProbs(), 0.99, 0, 0));
    }
    return out;
  }

  private static List<int[]> generated(String resource) {
    List<int[]> out = new ArrayList<>();
    for (JsonNode n : CorpusFixtures.lines(resource)) {
      int[] ids = new int[n.get("ids").size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = n.get("ids").get(i).asInt();
      }
      out.add(ids);
    }
    return out;
  }

  private static WindowSummary window(List<DocumentObservation> docs) {
    WindowSummary w = new WindowSummary(SummaryConfig.defaults());
    docs.forEach(w::update);
    return w;
  }

  private static String describe(String label, DriftMetrics m) {
    return String.format(Locale.ROOT, "%-28s docs=%d docNLL mean=%.3f sd=%.3f top40=%.3f JSD=%.3f"
        + " | shiftZ=%.1f narrowZ=%.1f concZ=%.1f score=%.2f contaminated=%s", label, m.documents(),
        m.documentNllMean(), m.documentNllSd(), m.top40BigramShare(), m.jsd(), m.shiftZ(), m.narrowZ(),
        m.concentrationZ(), m.contaminationScore(), m.contaminated());
  }

  @Test
  void shouldRaiseContaminationSignalOnlyInWindowOfGeneratedText() {
    List<int[]> humanIds = new ArrayList<>();
    for (String text : CorpusFixtures.texts("/corpora/tinystories_valid.jsonl.gz")) {
      humanIds.add(tokenizer.encode(text).ids());
    }
    List<DocumentObservation> human = observe(humanIds, "tinystories");
    List<DocumentObservation> t07 = observe(generated("/drift/generated_t0.7.jsonl.gz"), "generated-t0.7");
    List<DocumentObservation> t10 = observe(generated("/drift/generated_t1.0.jsonl.gz"), "generated-t1.0");
    int half = human.size() / 2;
    Reference ref = Reference.accumulator("tinystories first half", SummaryConfig.defaults())
        .addDocuments(human.subList(0, half), WINDOW).build();
    System.out.println(String.format(Locale.ROOT, "reference: %d windows of %d, window docNLL mean %.3f"
        + " (sd across windows %.3f), within-window sd %.3f (%.3f), top40 %.3f (%.3f)", ref.windows(), WINDOW,
        ref.windowMean(Reference.Stat.DOCUMENT_NLL_MEAN), ref.windowSd(Reference.Stat.DOCUMENT_NLL_MEAN),
        ref.windowMean(Reference.Stat.DOCUMENT_NLL_SD), ref.windowSd(Reference.Stat.DOCUMENT_NLL_SD),
        ref.windowMean(Reference.Stat.TOP40_BIGRAM_SHARE), ref.windowSd(Reference.Stat.TOP40_BIGRAM_SHARE)));

    List<DriftMetrics> humanWindows = new ArrayList<>();
    double maxHumanScore = Double.NEGATIVE_INFINITY;
    for (int start = half; start + WINDOW <= human.size(); start += WINDOW) {
      DriftMetrics m = DriftMetrics.of(window(human.subList(start, start + WINDOW)), ref);
      humanWindows.add(m);
      maxHumanScore = Math.max(maxHumanScore, m.contaminationScore());
    }
    long falseAlarms = humanWindows.stream().filter(DriftMetrics::contaminated).count();
    DriftMetrics burst = DriftMetrics.of(window(t07.subList(0, WINDOW)), ref);
    List<DocumentObservation> mixed = new ArrayList<>(human.subList(human.size() - WINDOW / 2, human.size()));
    mixed.addAll(t07.subList(0, WINDOW / 2));
    DriftMetrics halfBurst = DriftMetrics.of(window(mixed), ref);
    DriftMetrics t1 = DriftMetrics.of(window(t10.subList(0, WINDOW)), ref);
    System.out.println(String.format(Locale.ROOT, "human windows: %d, contaminated: %d, max score %.2f",
        humanWindows.size(), falseAlarms, maxHumanScore));
    System.out.println(describe("human window (first)", humanWindows.get(0)));
    System.out.println(describe("burst T=0.7 (20 generated)", burst));
    System.out.println(describe("half burst T=0.7 (10 + 10)", halfBurst));
    System.out.println(describe("burst T=1.0 (20 generated)", t1));

    assertEquals(0, falseAlarms, "no human window may raise the signal");
    assertTrue(burst.contaminated(), describe("burst", burst));
    assertTrue(burst.contaminationScore() > maxHumanScore + 1, "the burst must stand out of the human windows");
    assertFalse(Double.isNaN(t1.contaminationScore()), "the T=1 window gets a score too");
  }
}
