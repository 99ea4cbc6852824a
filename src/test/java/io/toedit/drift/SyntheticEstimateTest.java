package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The estimator on synthetic distributions with known mixing fractions: human per-document NLL is
 * a shifted log-normal with median 1.40 nats, generated documents are normal around 0.8 (roughly
 * tinystories and temperature-0.7 samples under stories260k), and each document of a window is
 * generated with probability pi. Seeded; thousands of windows per case.
 */
class SyntheticEstimateTest {

  private static final int VOCAB = 512;

  /**
   * A human document: mean NLL 0.85 + log-normal (median 1.40, 2 % quantile about 1.03, long right
   * tail: the shape of tinystories under stories260k), Zipf-ish token ids.
   */
  private static DocumentObservation human(Random rnd) {
    return doc(rnd, 0.85 + 0.55 * Math.exp(0.55 * rnd.nextGaussian()), 1.0);
  }

  /** A generated document: mean NLL normal(0.8, 0.08), ids more concentrated than human ones. */
  private static DocumentObservation generated(Random rnd) {
    return doc(rnd, Math.max(0.3, 0.8 + 0.08 * rnd.nextGaussian()), 2.0);
  }

  private static DocumentObservation doc(Random rnd, double meanNll, double skew) {
    int len = 100 + rnd.nextInt(200);
    int[] ids = new int[len];
    for (int i = 0; i < len; i++) {
      ids[i] = (int) (VOCAB * Math.pow(rnd.nextDouble(), 3 * skew));
    }
    return new DocumentObservation("s", StreamKind.RAW, 0, ids, null, 0, 0, 0, meanNll * len, len);
  }

  private static Reference reference(Random rnd, int documents, int perWindow, SummaryConfig config) {
    Reference.Accumulator acc = Reference.accumulator("human", config);
    for (int i = 0; i < documents; i++) {
      acc.addDocument(human(rnd), perWindow);
    }
    return acc.build();
  }

  private static WindowSummary window(Random rnd, int n, double pi, SummaryConfig config) {
    WindowSummary w = new WindowSummary(config);
    for (int i = 0; i < n; i++) {
      w.update(rnd.nextDouble() < pi ? generated(rnd) : human(rnd));
    }
    return w;
  }

  @Test
  void shouldCoverTheTrueFractionAtAboutTheNominalLevel() {
    // KLL k 4096: the sketches are exact (KLL compaction is randomized, unseeded), so this measures
    // the interval alone and is deterministic
    SummaryConfig config = new SummaryConfig(2000, 64, 8, 4096);
    EstimatorConfig est = EstimatorConfig.defaults();
    Random rnd = new Random(14);
    Reference ref = reference(rnd, 2000, 20, config);
    for (int n : new int[] {20, 200}) {
      for (double pi : new double[] {0.1, 0.25, 0.5, 0.75}) {
        int trials = n == 20 ? 2000 : 400;
        int covered = 0;
        double sum = 0;
        for (int t = 0; t < trials; t++) {
          SyntheticEstimate e = SyntheticEstimate.of(window(rnd, n, pi, config), ref, est);
          covered += e.low() <= pi && pi <= e.high() ? 1 : 0;
          sum += e.fraction();
          assertTrue(e.low() <= e.fraction() && e.fraction() <= e.high(), e.toString());
        }
        double coverage = (double) covered / trials;
        System.out.printf(Locale.ROOT, "n=%d pi=%.2f: coverage %.3f of %d, mean estimate %.3f%n", n, pi, coverage,
            trials, sum / trials);
        // Clopper-Pearson is conservative: at least nominal up to Monte Carlo error; close to it for
        // large windows, above it for 20 documents (a discrete count of 20 cannot hit 95 % exactly)
        assertTrue(coverage >= 0.93, "coverage " + coverage + " at n=" + n + " pi=" + pi);
        assertTrue(coverage <= (n == 20 ? 0.999 : 0.99), "coverage " + coverage + " at n=" + n + " pi=" + pi);
        assertEquals(pi, sum / trials, 0.03, "mean estimate at n=" + n + " pi=" + pi);
      }
    }
  }

  @Test
  void shouldRarelyAlertOnHumanWindowsAndOftenOnContaminatedOnes() {
    SummaryConfig config = SummaryConfig.defaults();
    EstimatorConfig est = EstimatorConfig.defaults();
    Random rnd = new Random(1414);
    Reference ref = reference(rnd, 400, 20, config);
    int trials = 1000;
    int[] alerts = new int[4];
    int ksBelow5 = 0;
    int ngramBelow5 = 0;
    double[] pis = {0, 0.25, 0.5, 1.0};
    for (int t = 0; t < trials; t++) {
      for (int i = 0; i < pis.length; i++) {
        SyntheticEstimate e = SyntheticEstimate.of(window(rnd, 20, pis[i], config), ref, est);
        alerts[i] += e.alert() ? 1 : 0;
        if (i == 0) {
          ksBelow5 += e.nllKsPValue() <= 0.05 ? 1 : 0;
          ngramBelow5 += e.ngramPValue() <= 0.05 ? 1 : 0;
        }
      }
    }
    System.out.printf(Locale.ROOT, "alert rate at pi 0/0.25/0.5/1: %.3f %.3f %.3f %.3f; human KS p<=0.05 %.3f,"
        + " n-gram p<=0.05 %.3f%n", alerts[0] / (double) trials, alerts[1] / (double) trials,
        alerts[2] / (double) trials, alerts[3] / (double) trials, ksBelow5 / (double) trials,
        ngramBelow5 / (double) trials);
    assertTrue(alerts[0] <= 0.015 * trials, "false alarms " + alerts[0]);
    assertTrue(alerts[1] >= 0.8 * trials, "detections at 25 % " + alerts[1]);
    assertTrue(alerts[2] >= 0.98 * trials, "detections at 50 % " + alerts[2]);
    assertEquals(trials, alerts[3], "every fully generated window");
    // the tests' p-values are calibrated on human windows: about 5 % at or below 0.05
    assertTrue(ksBelow5 >= 0.02 * trials && ksBelow5 <= 0.08 * trials, "KS p <= 0.05: " + ksBelow5);
    assertTrue(ngramBelow5 >= 0.02 * trials && ngramBelow5 <= 0.09 * trials, "n-gram p <= 0.05: " + ngramBelow5);
  }

  @Test
  void shouldMissGeneratedDocumentsThatLookHuman() {
    // the stated failure mode: a generator whose NLL distribution is the human one is invisible
    SummaryConfig config = SummaryConfig.defaults();
    Random rnd = new Random(7);
    Reference ref = reference(rnd, 400, 20, config);
    double sum = 0;
    for (int t = 0; t < 300; t++) {
      WindowSummary w = new WindowSummary(config);
      for (int i = 0; i < 20; i++) {
        w.update(human(rnd));
      }
      sum += SyntheticEstimate.of(w, ref, EstimatorConfig.defaults()).fraction();
    }
    assertTrue(sum / 300 < 0.05, "a human-like generator is estimated near 0: " + sum / 300);
  }

  @Test
  void shouldComputeEstimateFromCountsBelowTheCutoff() {
    // exact sketches: the reference's 2 % quantile is its 2nd smallest of 100 documents
    SummaryConfig config = new SummaryConfig(100, 8, 4, 1000);
    Reference.Accumulator acc = Reference.accumulator("r", config);
    for (int i = 1; i <= 100; i++) {
      acc.addDocument(new DocumentObservation("s", StreamKind.RAW, 0, new int[] {i % 7, 1}, null, 0, 0, 0,
          2 * (1.0 + i / 100.0), 2), 10);
    }
    Reference ref = acc.build();
    WindowSummary w = new WindowSummary(config);
    double[] nlls = {0.5, 0.6, 0.7, 1.015, 1.02, 1.5, 1.6, 1.7, 1.8, 1.9};
    for (double m : nlls) {
      w.update(new DocumentObservation("s", StreamKind.RAW, 0, new int[] {3, 4}, null, 0, 0, 0, 2 * m, 2));
    }
    SyntheticEstimate e = SyntheticEstimate.of(w, ref, EstimatorConfig.defaults());
    assertEquals(1.02, e.cutoffNll(), 1e-6);
    assertEquals(4, e.belowCutoff(), "0.5, 0.6, 0.7, 1.015 are below 1.02; 1.02 itself is not");
    assertEquals(2.0 / 101, e.humanBelowShare(), 1e-12);
    double q = 2.0 / 101;
    assertEquals((0.4 - q) / (1 - q), e.fraction(), 1e-12);
    // Clopper-Pearson 95 % for 4 of 10 (tables): [0.12155, 0.73762]
    assertEquals((0.12155 - q) / (1 - q), e.low(), 1e-4);
    assertEquals((0.73762 - q) / (1 - q), e.high(), 1e-4);
    assertTrue(e.excessPValue() < 0.01, e.toString());
    assertTrue(e.alert(), e.toString());
    // KS distance: largest at 1.02, where the window's CDF is 5/10 and the reference's 2/100
    assertEquals(0.5 - 0.02, e.nllKsStatistic(), 1e-6);
  }

  @Test
  void shouldBeUndefinedWithoutScoresAndQuietBelowMinDocuments() {
    SummaryConfig config = SummaryConfig.defaults();
    Random rnd = new Random(3);
    Reference ref = reference(rnd, 200, 20, config);
    WindowSummary unscored = new WindowSummary(config);
    unscored.update(DocumentObservation.unscored("s", StreamKind.RAW, 0, new int[] {1, 2, 3}, 0, 0));
    SyntheticEstimate e = SyntheticEstimate.of(unscored, ref, EstimatorConfig.defaults());
    assertTrue(Double.isNaN(e.fraction()) && !e.alert(), e.toString());
    WindowSummary few = new WindowSummary(config);
    List<DocumentObservation> docs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      docs.add(generated(rnd));
    }
    docs.forEach(few::update);
    SyntheticEstimate f = SyntheticEstimate.of(few, ref, EstimatorConfig.defaults());
    assertEquals(1.0, f.fraction(), 0.05, f.toString());
    assertFalse(f.alert(), "4 documents are under minDocuments 5: " + f);
  }
}
