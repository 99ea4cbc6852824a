package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.text.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The evidence table of docs/drift.md: the synthetic-fraction estimate and its alert on real text
 * and the real prior (stories260k). Reference: the first half of {@code tinystories_valid} (405
 * documents) in pseudo-windows of 20. Human windows: the 20 consecutive windows of the second half,
 * and 1,000 resampled windows of 20 distinct documents of it. Mixed windows: 20, 10 or 5
 * documents drawn from the 400 seeded samples at T = 0.7 (and at T = 1.0), the rest from the second
 * half; 500 windows per cell, seed 14. Per-document NLLs are the committed fixtures (the human ones
 * are checked against the model by {@link ContaminationSignalTest}; the samples' NLL was summed while
 * sampling, see {@link SampleSetGenerationTest}).
 */
class SyntheticFractionEvidenceTest {

  private static final int WINDOW = 20;
  private static final int MAX_IDS = 512;
  private static final int TRIALS = 500;
  private static final int BOOTSTRAP = 1000;

  private static DocumentObservation observe(int[] idsWithBos, double nllSum, int predicted) {
    int[] ids = Arrays.copyOfRange(idsWithBos, 1, Math.min(idsWithBos.length, MAX_IDS));
    return new DocumentObservation("evidence", StreamKind.RAW, 0, ids, null, 0, 0, 0, nllSum, predicted);
  }

  static List<DocumentObservation> human() {
    List<JsonNode> texts = CorpusFixtures.lines("/corpora/tinystories_valid.jsonl.gz");
    List<JsonNode> nll = CorpusFixtures.lines("/drift/tinystories_valid_nll.jsonl.gz");
    assertEquals(texts.size(), nll.size(), "one NLL per document");
    List<DocumentObservation> out = new ArrayList<>();
    try (TextTokenizer tokenizer = Models.openTokenizer(ModelSettings.defaults())) {
      for (int i = 0; i < texts.size(); i++) {
        assertEquals(texts.get(i).get("id").asText(), nll.get(i).get("id").asText());
        int[] ids = tokenizer.encode(texts.get(i).get("text").asText()).ids();
        out.add(observe(ids, nll.get(i).get("nll_sum").asDouble(), nll.get(i).get("predicted").asInt()));
      }
    }
    return out;
  }

  static List<DocumentObservation> samples(String resource) {
    List<DocumentObservation> out = new ArrayList<>();
    for (JsonNode n : CorpusFixtures.lines(resource)) {
      JsonNode a = n.get("ids");
      int[] ids = new int[a.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = a.get(i).asInt();
      }
      out.add(observe(ids, n.get("nll_sum").asDouble(), n.get("predicted").asInt()));
    }
    return out;
  }

  private record Cell(String label, double truth, int windows, int alerts, double meanFraction, double meanLow,
      double meanHigh, int covered, int ksAlone, int ngramAlone) {
    String row() {
      return String.format(Locale.ROOT, "| %s | %.2f | %d | %.1f %% | %.3f | [%.3f, %.3f] | %.1f %% | %.1f %% | %.1f %% |",
          label, truth, windows, 100.0 * alerts / windows, meanFraction, meanLow, meanHigh, 100.0 * covered / windows,
          100.0 * ksAlone / windows, 100.0 * ngramAlone / windows);
    }

    double alertRate() {
      return (double) alerts / windows;
    }
  }

  private static Cell cell(String label, double truth, List<WindowSummary> windows, Reference ref) {
    int alerts = 0;
    int covered = 0;
    int ks = 0;
    int ngram = 0;
    double f = 0;
    double lo = 0;
    double hi = 0;
    for (WindowSummary w : windows) {
      SyntheticEstimate e = DriftMetrics.of(w, ref).estimate();
      alerts += e.alert() ? 1 : 0;
      covered += e.low() <= truth && truth <= e.high() ? 1 : 0;
      ks += e.nllKsPValue() <= 0.01 ? 1 : 0;
      ngram += e.ngramPValue() <= 0.01 ? 1 : 0;
      f += e.fraction();
      lo += e.low();
      hi += e.high();
    }
    int n = windows.size();
    return new Cell(label, truth, n, alerts, f / n, lo / n, hi / n, covered, ks, ngram);
  }

  private static WindowSummary window(List<DocumentObservation> docs) {
    WindowSummary w = new WindowSummary(SummaryConfig.defaults());
    docs.forEach(w::update);
    return w;
  }

  /** {@code generated} documents drawn without replacement from {@code pool}, the rest from {@code human}. */
  private static List<WindowSummary> mixed(Random rnd, List<DocumentObservation> pool, List<DocumentObservation> human,
      int generated) {
    List<WindowSummary> out = new ArrayList<>();
    for (int t = 0; t < TRIALS; t++) {
      List<DocumentObservation> docs = new ArrayList<>();
      List<DocumentObservation> shuffled = new ArrayList<>(pool);
      java.util.Collections.shuffle(shuffled, rnd);
      docs.addAll(shuffled.subList(0, generated));
      for (int i = generated; i < WINDOW; i++) {
        docs.add(human.get(rnd.nextInt(human.size())));
      }
      out.add(window(docs));
    }
    return out;
  }

  @Test
  void shouldEstimateGeneratedShareOfMixedWindowsAndRarelyAlertOnHumanOnes() {
    List<DocumentObservation> human = human();
    int half = human.size() / 2;
    List<Cell> cells = table("reference = first half, held out = second half (file order)", human.subList(0, half),
        human.subList(half, human.size()));
    assertTrue(cells.get(0).alertRate() <= 0.01, cells.get(0).row());
    assertTrue(cells.get(1).alertRate() <= 0.01, cells.get(1).row());
    assertTrue(cells.get(2).alertRate() >= 0.95, cells.get(2).row());
    assertTrue(cells.get(3).alertRate() >= 0.95, cells.get(3).row());
    assertTrue(cells.get(4).alertRate() >= 0.80, cells.get(4).row());
    for (int i = 2; i <= 4; i++) {
      assertEquals(cells.get(i).truth(), cells.get(i).meanFraction(), 0.15, cells.get(i).row());
    }
  }

  /**
   * The same with the documents shuffled (seed 2412) before the split: the two halves of the file
   * differ (the second half is harder for the prior: KS flags most of its windows against the
   * first), which confounds the two-sample tests; a random split separates that drift from what the
   * generated documents do.
   */
  @Test
  void shouldGiveTheSameFiguresOnARandomSplit() {
    List<DocumentObservation> human = new ArrayList<>(human());
    java.util.Collections.shuffle(human, new Random(2412));
    int half = human.size() / 2;
    List<Cell> cells = table("reference = random half, held out = the other half", human.subList(0, half),
        human.subList(half, human.size()));
    assertTrue(cells.get(0).alertRate() <= 0.05, cells.get(0).row()); // 20 windows: at most 1
    assertTrue(cells.get(1).alertRate() <= 0.01, cells.get(1).row());
    assertTrue(cells.get(3).alertRate() >= 0.95, cells.get(3).row());
    assertTrue(cells.get(4).alertRate() >= 0.80, cells.get(4).row());
  }

  private static List<Cell> table(String title, List<DocumentObservation> first, List<DocumentObservation> second) {
    Reference ref = Reference.accumulator("reference", SummaryConfig.defaults()).addDocuments(first, WINDOW).build();
    List<DocumentObservation> t07 = samples("/drift/samples_t0.7_n400.jsonl.gz");
    List<DocumentObservation> t10 = samples("/drift/samples_t1.0_n400.jsonl.gz");
    Random rnd = new Random(14);
    List<WindowSummary> consecutive = new ArrayList<>();
    for (int s = 0; s + WINDOW <= second.size(); s += WINDOW) {
      consecutive.add(window(second.subList(s, s + WINDOW)));
    }
    List<WindowSummary> bootstrap = new ArrayList<>();
    for (int t = 0; t < BOOTSTRAP; t++) {
      // each window is 20 distinct documents (a document repeated inside a window is repetition,
      // which the n-gram test is meant to flag); windows are drawn independently
      List<DocumentObservation> shuffled = new ArrayList<>(second);
      java.util.Collections.shuffle(shuffled, rnd);
      bootstrap.add(window(shuffled.subList(0, WINDOW)));
    }
    List<Cell> cells = new ArrayList<>();
    cells.add(cell("human, held out (consecutive)", 0, consecutive, ref));
    cells.add(cell("human, held out (resampled)", 0, bootstrap, ref));
    for (int g : new int[] {20, 10, 5}) {
      cells.add(cell(String.format(Locale.ROOT, "T=0.7, %d of 20", g), g / 20.0, mixed(rnd, t07, second, g), ref));
    }
    for (int g : new int[] {20, 10, 5}) {
      cells.add(cell(String.format(Locale.ROOT, "T=1.0, %d of 20", g), g / 20.0, mixed(rnd, t10, second, g), ref));
    }
    SyntheticEstimate cut = DriftMetrics.of(consecutive.get(0), ref).estimate();
    System.out.println(title);
    System.out.printf(Locale.ROOT, "reference: %d documents, %d windows; cutoff NLL %.4f (q0 %.2f), q = %.4f;"
        + " samples below the cutoff: T=0.7 %.3f, T=1.0 %.3f%n", ref.summary().scoredDocuments(), ref.windows(),
        cut.cutoffNll(), EstimatorConfig.defaults().cutoffQuantile(), cut.humanBelowShare(),
        below(t07, cut.cutoffNll()), below(t10, cut.cutoffNll()));
    System.out.println("| windows | true fraction | windows | alert rate | mean estimate | mean interval"
        + " | interval covers truth | KS p <= 0.01 | n-gram p <= 0.01 |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    cells.forEach(c -> System.out.println(c.row()));
    return cells;
  }

  private static double below(List<DocumentObservation> docs, double cutoff) {
    return docs.stream().filter(d -> d.meanNll() < cutoff).count() / (double) docs.size();
  }
}
