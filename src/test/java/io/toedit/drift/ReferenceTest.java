package io.toedit.drift;

import static io.toedit.drift.SummaryFixtures.assertSameSummary;
import static io.toedit.drift.SummaryFixtures.randomDocuments;
import static io.toedit.drift.SummaryFixtures.summarize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReferenceTest {

  static Reference goldenReference() {
    return Reference.accumulator("human-故事", WindowSummaryTest.GOLDEN_CONFIG)
        .addDocuments(randomDocuments(99, 12, 20, 10), 4).build();
  }

  @Test
  void shouldKeepSpreadOfWindowStatisticsWhenBuiltFromWindows() {
    SummaryConfig config = new SummaryConfig(10_000, 4096, 16, 2000); // exact sketches
    List<DocumentObservation> docs = randomDocuments(11, 30, 100, 30);
    Reference.Accumulator acc = Reference.accumulator("first-3-windows", config);
    double[] means = new double[3];
    for (int w = 0; w < 3; w++) {
      WindowSummary window = summarize(config, docs.subList(10 * w, 10 * w + 10));
      means[w] = window.documentNllMean();
      acc.add(window);
    }
    Reference ref = acc.build();
    assertEquals(3, ref.windows());
    double mean = (means[0] + means[1] + means[2]) / 3;
    double var = 0;
    for (double m : means) {
      var += (m - mean) * (m - mean);
    }
    assertEquals(mean, ref.windowMean(Reference.Stat.DOCUMENT_NLL_MEAN), 1e-12);
    assertEquals(Math.sqrt(var / 2), ref.windowSd(Reference.Stat.DOCUMENT_NLL_MEAN), 1e-12);
    assertSameSummary(summarize(config, docs), ref.summary());
  }

  @Test
  void shouldCutDocumentsIntoPseudoWindowsAndDropTooShortTail() {
    Reference ref = Reference.accumulator("corpus", SummaryConfig.defaults())
        .addDocuments(randomDocuments(12, 23, 50, 10), 5).build();
    assertEquals(5, ref.windows(), "23 = 4 x 5 + 3, and a tail of 3 >= 5/2 is a window");
    Reference ref2 = Reference.accumulator("corpus", SummaryConfig.defaults())
        .addDocuments(randomDocuments(12, 22, 50, 10), 5).build();
    assertEquals(4, ref2.windows(), "22 = 4 x 5 + 2: the 2 are merged but not a window");
    assertEquals(22, ref2.summary().documents());
  }

  @Test
  void shouldRoundTripThroughBytes() {
    Reference ref = goldenReference();
    Reference back = Reference.fromBytes(ref.toByteArray());
    assertEquals(ref.name(), back.name());
    assertEquals(ref.windows(), back.windows());
    for (Reference.Stat s : Reference.Stat.values()) {
      assertEquals(ref.windowMean(s), back.windowMean(s), 0.0);
      assertEquals(ref.windowSd(s), back.windowSd(s), 0.0);
    }
    assertSameSummary(ref.summary(), back.summary());
    assertSameSummary(ref.summary(), Reference.fromBytes(back.toByteArray()).summary());
  }

  @Test
  void shouldRejectEveryCorruptedByte() {
    byte[] good = goldenReference().toByteArray();
    for (int i = 0; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= 0x10;
      int at = i;
      SummaryFormatException e = assertThrows(SummaryFormatException.class, () -> Reference.fromBytes(bad),
          () -> "byte " + at);
      assertTrue(e.getMessage().startsWith("Possible corruption: Reference"), e.getMessage());
    }
    byte[] summary = goldenReference().summary().toByteArray();
    SummaryFormatException e = assertThrows(SummaryFormatException.class, () -> Reference.fromBytes(summary));
    assertTrue(e.getMessage().contains("magic byte 3 must be 82: 83 (not a Reference)"), e.getMessage());
  }

  @Test
  void shouldMatchGoldenReferenceBytes() throws IOException {
    byte[] actual = goldenReference().toByteArray();
    try (InputStream in = ReferenceTest.class.getResourceAsStream("/drift/reference-v2.bin")) {
      if (in == null || !Arrays.equals(in.readAllBytes(), actual)) {
        Path dump = Path.of("target", "reference-v2.actual.bin");
        Files.createDirectories(dump.getParent());
        Files.write(dump, actual);
        fail("Reference format changed (actual written to " + dump + "): bump Reference.SERIAL_VERSION, keep"
            + " reading the old versions, and add a new golden file");
      }
    }
  }

  @Test
  void shouldStillReadVersion1ReferencesWithoutTheNGramNull() throws IOException {
    byte[] v1;
    try (InputStream in = ReferenceTest.class.getResourceAsStream("/drift/reference-v1.bin")) {
      assertTrue(in != null, "missing /drift/reference-v1.bin");
      v1 = in.readAllBytes();
    }
    assertEquals(1, v1[4], "version byte of the old golden file");
    Reference old = Reference.fromBytes(v1);
    Reference now = goldenReference();
    assertEquals(now.name(), old.name());
    assertEquals(3, old.windows());
    for (Reference.Stat s : List.of(Reference.Stat.DOCUMENT_NLL_MEAN, Reference.Stat.DOCUMENT_NLL_SD,
        Reference.Stat.TOP40_BIGRAM_SHARE)) {
      assertEquals(now.windowMean(s), old.windowMean(s), 0.0, s.name());
      assertEquals(now.windowSd(s), old.windowSd(s), 0.0, s.name());
    }
    assertEquals(0, old.windows(Reference.Stat.WINDOW_LOG_JSD), "version 1 has no n-gram null");
    assertEquals(3, now.windows(Reference.Stat.WINDOW_LOG_JSD), "one leave-one-out JSD per window");
    assertSameSummary(now.summary(), old.summary());
    // a v1 reference still gives an estimate, only without the n-gram p-value
    SyntheticEstimate e = SyntheticEstimate.of(now.summary(), old, EstimatorConfig.defaults());
    assertTrue(Double.isNaN(e.ngramPValue()) && !Double.isNaN(e.nllKsPValue()), e.toString());
  }

  @Test
  void shouldKeepTheExactLowestDocumentNllsWhileWindowsAreExact() {
    SummaryConfig config = new SummaryConfig(100, 8, 4, 8); // KLL k 8: the total sketch compacts
    List<DocumentObservation> docs = randomDocuments(21, 60, 50, 20);
    Reference ref = Reference.accumulator("tail", config).addDocuments(docs, 6).build();
    float[] expected = new float[docs.size()];
    for (int i = 0; i < expected.length; i++) {
      expected[i] = (float) docs.get(i).meanNll();
    }
    Arrays.sort(expected);
    assertArrayEquals(expected, ref.lowTail(), "windows of 6 <= k 8 are exact, the 60 documents are not");
    assertArrayEquals(expected, Reference.fromBytes(ref.toByteArray()).lowTail());
    // a window beyond k compacts: the tail is no longer known exactly
    Reference coarse = Reference.accumulator("coarse", config).addDocuments(docs, 20).build();
    assertEquals(0, coarse.lowTail().length);
  }

  @Test
  void shouldComputeLeaveOneOutJsdOfEachWindow() {
    SummaryConfig config = new SummaryConfig(500, 256, 10, 200);
    List<DocumentObservation> docs = randomDocuments(5, 40, 300, 40);
    Reference.Accumulator acc = Reference.accumulator("loo", config);
    List<WindowSummary> windows = new java.util.ArrayList<>();
    for (int w = 0; w < 8; w++) {
      WindowSummary window = summarize(config, docs.subList(5 * w, 5 * w + 5));
      windows.add(window);
      acc.add(window);
    }
    Reference ref = acc.build();
    double sum = 0;
    double sumSq = 0;
    for (int w = 0; w < 8; w++) {
      WindowSummary rest = new WindowSummary(config);
      for (int o = 0; o < 8; o++) {
        if (o != w) {
          rest.merge(windows.get(o));
        }
      }
      // independent of Distributions.jsd: entropy form H(M) - (H(P) + H(Q)) / 2
      double v = Math.log(jsdByEntropy(windows.get(w).unigramBigramCounts(), rest.unigramBigramCounts()));
      sum += v;
      sumSq += v * v;
    }
    double mean = sum / 8;
    assertEquals(8, ref.windows(Reference.Stat.WINDOW_LOG_JSD));
    assertEquals(mean, ref.windowMean(Reference.Stat.WINDOW_LOG_JSD), 1e-9);
    assertEquals(Math.sqrt((sumSq - 8 * mean * mean) / 7), ref.windowSd(Reference.Stat.WINDOW_LOG_JSD), 1e-9);
  }

  private static double jsdByEntropy(long[] p, long[] q) {
    double tp = 0;
    double tq = 0;
    for (int i = 0; i < p.length; i++) {
      tp += p[i];
      tq += q[i];
    }
    double hm = 0;
    double hp = 0;
    double hq = 0;
    for (int i = 0; i < p.length; i++) {
      double a = p[i] / tp;
      double b = q[i] / tq;
      double m = (a + b) / 2;
      hm -= m > 0 ? m * Math.log(m) : 0;
      hp -= a > 0 ? a * Math.log(a) : 0;
      hq -= b > 0 ? b * Math.log(b) : 0;
    }
    return (hm - (hp + hq) / 2) / Math.log(2);
  }
}
