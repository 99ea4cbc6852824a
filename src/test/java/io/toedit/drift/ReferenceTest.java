package io.toedit.drift;

import static io.toedit.drift.SummaryFixtures.assertSameSummary;
import static io.toedit.drift.SummaryFixtures.randomDocuments;
import static io.toedit.drift.SummaryFixtures.summarize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
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
    try (InputStream in = ReferenceTest.class.getResourceAsStream("/drift/reference-v1.bin")) {
      assertTrue(in != null, "missing /drift/reference-v1.bin");
      assertArrayEquals(in.readAllBytes(), goldenReference().toByteArray(),
          "Reference format changed: bump Reference.SERIAL_VERSION and add a new golden file");
    }
  }
}
