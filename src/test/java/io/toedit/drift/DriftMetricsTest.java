package io.toedit.drift;

import static io.toedit.drift.SummaryFixtures.SOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The metric definitions and the contamination rule on synthetic windows whose properties are set
 * by construction. The rule's evidence on real model-generated text is in ContaminationSignalTest.
 */
class DriftMetricsTest {

  private static final SummaryConfig CONFIG = SummaryConfig.defaults();

  /** A window of docs with mean NLLs ~ N(mean, sd) and ids drawn from the first {@code vocab} ids. */
  private static WindowSummary window(Random rnd, int docs, double nllMean, double nllSd, int vocab) {
    WindowSummary w = new WindowSummary(CONFIG);
    for (int d = 0; d < docs; d++) {
      int[] ids = rnd.ints(200, 0, vocab).toArray();
      double m = Math.max(0.05, nllMean + nllSd * rnd.nextGaussian());
      w.update(new DocumentObservation(SOURCE, StreamKind.RAW, d, ids, null, 0, 0, 0, m * ids.length,
          ids.length));
    }
    return w;
  }

  private static Reference humanReference(Random rnd) {
    Reference.Accumulator acc = Reference.accumulator("human", CONFIG);
    for (int i = 0; i < 20; i++) {
      acc.add(window(rnd, 20, 1.27, 0.16, 512));
    }
    return acc.build();
  }

  @Test
  void shouldBeZeroDivergenceAgainstItself() {
    WindowSummary w = window(new Random(1), 10, 1.3, 0.2, 512);
    DriftMetrics m = DriftMetrics.of(w, Reference.of("self", w));
    assertEquals(0.0, m.jsd(), 1e-12);
    assertEquals(0.0, m.klSmoothed(), 1e-12);
    assertEquals(0.0, DriftMetrics.compare(w, w.copy()), 1e-12);
    assertTrue(Double.isNaN(m.contaminationScore()), "a single summary has no window spread");
    assertFalse(m.contaminated());
  }

  @Test
  void shouldComputeRatiosEntropyAndPerplexityOfSimpleWindow() {
    // two documents "1 2 1 2" and "3 4": 6 unigrams (4 distinct), 4 bigrams (3 distinct)
    WindowSummary w = new WindowSummary(CONFIG)
        .update(new DocumentObservation(SOURCE, StreamKind.RAW, 0, new int[] {1, 2, 1, 2}, null, 1, 2, 0, 4.0, 4))
        .update(new DocumentObservation(SOURCE, StreamKind.RAW, 1, new int[] {3, 4}, null, 0, 1, 0, 1.0, 2));
    DriftMetrics m = DriftMetrics.of(w, Reference.of("self", w));
    assertEquals(4.0 / 6, m.distinct1Ratio(), 0.01);
    assertEquals(3.0 / 4, m.distinct2Ratio(), 0.01);
    assertEquals(1.0, m.top40BigramShare(), 1e-12, "fewer than 40 bigrams");
    // unigram counts {2, 2, 1, 1} (no collision among 4 ids in 10,000 buckets): H = 1.918... bits
    double h = -(2 * (2.0 / 6) * Math.log(2.0 / 6) + 2 * (1.0 / 6) * Math.log(1.0 / 6)) / Math.log(2);
    assertEquals(h, m.entropy1(), 1e-12);
    assertEquals(5.0 / 6, m.meanNll(), 1e-12);
    assertEquals(Math.exp(5.0 / 6), m.perplexity(), 1e-12);
    assertEquals(3.0 / 6, m.editRate(), 1e-12);
    assertEquals(1.0 / 6, m.overThresholdRate(), 1e-12);
    assertEquals((1.0 + 0.5) / 2, m.documentNllMean(), 1e-12);
  }

  @Test
  void shouldMeasureDisjointVocabulariesAsFarApart() {
    Random rnd = new Random(2);
    WindowSummary low = window(rnd, 5, 1, 0.1, 50);
    WindowSummary high = new WindowSummary(CONFIG);
    for (int d = 0; d < 5; d++) {
      high.update(DocumentObservation.unscored(SOURCE, StreamKind.EDITED, d,
          rnd.ints(200, 100_000, 100_050).toArray(), 0, 0));
    }
    double jsd = DriftMetrics.compare(low, high);
    // 1 bit for disjoint n-grams; ~2,550 keys per side in 10,000 buckets collide a little
    assertTrue(jsd > 0.9, "jsd " + jsd);
  }

  @Test
  void shouldFireWhenNllShiftsLowNarrowsAndNGramsConcentrate() {
    Random rnd = new Random(3);
    Reference ref = humanReference(rnd);
    DriftMetrics human = DriftMetrics.of(window(rnd, 20, 1.27, 0.16, 512), ref);
    DriftMetrics synthetic = DriftMetrics.of(window(rnd, 20, 0.83, 0.06, 60), ref);
    assertFalse(human.contaminated(), human.toString());
    assertTrue(human.contaminationScore() < 2, human.toString());
    assertTrue(synthetic.contaminated(), synthetic.toString());
    assertTrue(synthetic.shiftZ() > 2 && synthetic.narrowZ() > 2 && synthetic.concentrationZ() > 2,
        synthetic.toString());
  }

  @Test
  void shouldNotFireWhenOnlyOneConditionHolds() {
    Random rnd = new Random(4);
    Reference ref = humanReference(rnd);
    DriftMetrics lowButDiverse = DriftMetrics.of(window(rnd, 20, 0.83, 0.06, 512), ref);
    assertFalse(lowButDiverse.contaminated(), lowButDiverse.toString());
    assertTrue(lowButDiverse.shiftZ() > 2, lowButDiverse.toString());
    DriftMetrics concentratedButHuman = DriftMetrics.of(window(rnd, 20, 1.27, 0.16, 60), ref);
    assertFalse(concentratedButHuman.contaminated(), concentratedButHuman.toString());
    assertTrue(concentratedButHuman.concentrationZ() > 2, concentratedButHuman.toString());
  }

  @Test
  void shouldNotFireOnTooFewDocuments() {
    Random rnd = new Random(5);
    Reference ref = humanReference(rnd);
    DriftMetrics tiny = DriftMetrics.of(window(rnd, 4, 0.83, 0.06, 60), ref);
    assertFalse(tiny.contaminated(), "4 documents are under minDocuments 5: " + tiny);
  }
}
