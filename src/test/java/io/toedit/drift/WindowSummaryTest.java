package io.toedit.drift;

import static io.toedit.drift.SummaryFixtures.SOURCE;
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
import java.util.Random;
import org.junit.jupiter.api.Test;

class WindowSummaryTest {

  /** Large enough that the random fixtures below stay exact in every sketch (HLL stays in SET mode). */
  private static final SummaryConfig EXACT = new SummaryConfig(10_000, 4096, 16, 2000);
  /** Small sketches for the golden file: frequent items overflow (64 x 0.75 = 48 entries). */
  static final SummaryConfig GOLDEN_CONFIG = new SummaryConfig(256, 64, 8, 200);
  static final String GOLDEN = "/drift/window-summary-v1.bin";

  static WindowSummary goldenSummary() {
    WindowSummary s = summarize(GOLDEN_CONFIG, randomDocuments(2024, 10, 20, 12));
    s.update(DocumentObservation.unscored("Ünïcode-源", StreamKind.EDITED, 1_700_000_000_000L,
        new int[] {0, 511, 2_097_151, 511, 0}, 2, 1));
    return s;
  }

  @Test
  void shouldCountNGramsHistogramAndNllExactlyForOneDocument() {
    // tokens 5 6 5 6: unigrams {5:2, 6:2}, bigrams {(5,6):2, (6,5):1}, trigrams {(5,6,5):1, (6,5,6):1}
    float[] probs = {0.0f, 0.05f, 0.995f, 1.0f};
    double nll = 3.0;
    WindowSummary s = new WindowSummary(SummaryConfig.defaults()).update(new DocumentObservation(SOURCE,
        StreamKind.RAW, 42L, new int[] {5, 6, 5, 6}, probs, 2, 1, 0, nll, 4));
    assertEquals(1, s.documents());
    assertEquals(4, s.tokens());
    assertEquals(4, s.ngramCount(1));
    assertEquals(3, s.ngramCount(2));
    assertEquals(2, s.ngramCount(3));
    assertEquals(2.0, s.distinctEstimate(1), 0.01);
    assertEquals(2.0, s.distinctEstimate(2), 0.01);
    assertEquals(2.0, s.distinctEstimate(3), 0.01);
    List<NGramCount> bigrams = s.topNGrams(2, 10);
    assertArrayEquals(new int[] {5, 6}, bigrams.get(0).tokenIds());
    assertEquals(2, bigrams.get(0).estimate());
    assertArrayEquals(new int[] {6, 5}, bigrams.get(1).tokenIds());
    assertEquals(1, bigrams.get(1).estimate());
    assertEquals(2, s.topNGrams(3, 10).size());
    assertArrayEquals(new long[] {2, 0, 0, 0, 0, 0, 0, 0, 0, 2}, s.probabilityHistogram());
    assertEquals(0.75, s.meanNll(), 1e-12);
    assertEquals(0.75, s.documentNllMean(), 1e-12);
    assertTrue(Double.isNaN(s.documentNllSd()), "one document has no spread");
    assertEquals(2, s.overThreshold());
    assertEquals(1, s.changed());
    assertEquals(4, Arrays.stream(s.unigramBigramCounts()).sum() - 3);
    assertEquals(0.995, s.tokenProbabilityQuantile(0.75), 1e-6);
  }

  @Test
  void shouldDecodeLargestTokenIdsFromFrequentItems() {
    WindowSummary s = new WindowSummary(SummaryConfig.defaults()).update(
        DocumentObservation.unscored(SOURCE, StreamKind.EDITED, 0, new int[] {2_097_151, 0, 2_097_151}, 0, 0));
    assertArrayEquals(new int[] {2_097_151, 0, 2_097_151}, s.topNGrams(3, 1).get(0).tokenIds());
    assertThrows(IllegalArgumentException.class,
        () -> DocumentObservation.unscored(SOURCE, StreamKind.RAW, 0, new int[] {2_097_152}, 0, 0));
  }

  @Test
  void shouldEqualSummaryOfUnionWhenMergedBelowCapacity() {
    List<DocumentObservation> a = randomDocuments(1, 40, 30, 25);
    List<DocumentObservation> b = randomDocuments(2, 35, 30, 25);
    WindowSummary merged = summarize(EXACT, a).merge(summarize(EXACT, b));
    WindowSummary union = summarize(EXACT, a);
    b.forEach(union::update);
    assertTrue(union.ngramCount(3) > 500, "fixture should have many trigrams: " + union.ngramCount(3));
    assertEquals(0, union.frequentItemsMaxError(3), "fixture must stay below capacity");
    assertSameSummary(union, merged);
  }

  @Test
  void shouldStayWithinErrorBoundsWhenMergedBeyondCapacity() {
    SummaryConfig small = new SummaryConfig(1000, 16, 10, 50);
    List<DocumentObservation> a = randomDocuments(3, 300, 100, 40);
    List<DocumentObservation> b = randomDocuments(4, 300, 100, 40);
    WindowSummary merged = summarize(small, a).merge(summarize(small, b));
    WindowSummary union = summarize(small, a);
    b.forEach(union::update);
    assertArrayEquals(union.bucketCounts(2), merged.bucketCounts(2), "buckets are always exact");
    assertEquals(union.ngramCount(3), merged.ngramCount(3));
    assertEquals(union.distinctEstimate(1), merged.distinctEstimate(1), 0.05 * union.distinctEstimate(1));
    assertEquals(union.documentNllQuantile(0.5), merged.documentNllQuantile(0.5), 0.5);
    assertTrue(merged.frequentItemsMaxError(1) > 0, "fixture should overflow the frequent-items map");
  }

  @Test
  void shouldRejectMergeOfDifferentConfigurations() {
    WindowSummary a = new WindowSummary(SummaryConfig.defaults());
    WindowSummary b = new WindowSummary(new SummaryConfig(512, 1024, 12, 200));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.merge(b));
    assertTrue(e.getMessage().contains("different configurations"), e.getMessage());
  }

  @Test
  void shouldKeepUpdatingAfterSerializationRoundTrip() {
    List<DocumentObservation> first = randomDocuments(5, 30, 50, 20);
    List<DocumentObservation> second = randomDocuments(6, 30, 50, 20);
    WindowSummary live = summarize(EXACT, first);
    WindowSummary restored = WindowSummary.fromBytes(live.toByteArray());
    assertSameSummary(live, restored);
    second.forEach(live::update);
    second.forEach(restored::update);
    // not byte-identical: an HLL in SET mode may store the same coupons in another slot order
    assertSameSummary(live, restored);
    assertSameSummary(live, WindowSummary.fromBytes(restored.toByteArray()));
  }

  @Test
  void shouldRoundTripEmptySummary() {
    WindowSummary empty = new WindowSummary(SummaryConfig.defaults());
    WindowSummary back = WindowSummary.fromBytes(empty.toByteArray());
    assertSameSummary(empty, back);
    assertTrue(Double.isNaN(back.meanNll()));
    back.update(DocumentObservation.unscored(SOURCE, StreamKind.RAW, 1, new int[] {1, 2}, 0, 0));
    assertEquals(1, back.ngramCount(2));
  }

  @Test
  void shouldRejectEveryCorruptedByteWithClearMessage() {
    byte[] good = goldenSummary().toByteArray();
    for (int i = 0; i < good.length; i++) {
      for (int flip : new int[] {0x01, 0x80, 0xFF}) {
        byte[] bad = good.clone();
        bad[i] ^= (byte) flip;
        int at = i;
        SummaryFormatException e = assertThrows(SummaryFormatException.class, () -> WindowSummary.fromBytes(bad),
            () -> "byte " + at + " flipped by " + flip + " was accepted");
        assertTrue(e.getMessage().startsWith("Possible corruption: WindowSummary"), e.getMessage());
      }
    }
  }

  @Test
  void shouldSayWhatWasExpectedWhenHeaderIsWrong() {
    byte[] bytes = goldenSummary().toByteArray();
    bytes[4] = 9;
    SummaryFormatException e = assertThrows(SummaryFormatException.class, () -> WindowSummary.fromBytes(bytes));
    assertEquals("Possible corruption: WindowSummary serial version (byte 4) must be 1: 9"
        + " (written by another version; rebuild it with this version)", e.getMessage());
    byte[] other = goldenSummary().toByteArray();
    other[0] = 'X';
    e = assertThrows(SummaryFormatException.class, () -> WindowSummary.fromBytes(other));
    assertTrue(e.getMessage().contains("magic byte 0 must be 84: 88"), e.getMessage());
  }

  @Test
  void shouldRejectEveryTruncation() {
    byte[] good = goldenSummary().toByteArray();
    for (int len = 0; len < good.length; len++) {
      byte[] cut = Arrays.copyOf(good, len);
      assertThrows(SummaryFormatException.class, () -> WindowSummary.fromBytes(cut), "length " + len);
    }
    assertThrows(SummaryFormatException.class, () -> WindowSummary.fromBytes(null));
  }

  @Test
  void shouldMatchGoldenBytesSoTheFormatCannotChangeSilently() throws IOException {
    byte[] expected;
    try (InputStream in = WindowSummaryTest.class.getResourceAsStream(GOLDEN)) {
      if (in == null) {
        fail("missing test resource " + GOLDEN);
      }
      expected = in.readAllBytes();
    }
    byte[] actual = goldenSummary().toByteArray();
    if (!Arrays.equals(expected, actual)) {
      Path dump = Path.of("target", "window-summary-v1.actual.bin");
      Files.createDirectories(dump.getParent());
      Files.write(dump, actual);
      fail("Serialized WindowSummary differs from " + GOLDEN + " (actual written to " + dump + "). If the"
          + " format changed on purpose, bump WindowSummary.SERIAL_VERSION, keep reading version 1, and add"
          + " a new golden file.");
    }
    WindowSummary golden = WindowSummary.fromBytes(expected);
    assertSameSummary(goldenSummary(), golden);
    assertEquals(11, golden.documents());
    assertArrayEquals(new int[] {0, 511, 2_097_151}, golden.topNGrams(3, 100).stream()
        .filter(c -> c.tokenIds()[0] == 0 && c.tokenIds()[1] == 511).findFirst().orElseThrow().tokenIds());
  }

  @Test
  void shouldBoundSerializedSizeWhateverTheDistinctNGrams() {
    SummaryConfig config = new SummaryConfig(2000, 256, 10, 100);
    Random rnd = new Random(7);
    WindowSummary s = new WindowSummary(config);
    int[] sizes = new int[4];
    for (int step = 0; step < 4; step++) {
      for (int d = 0; d < 250 * (1 << step); d++) {
        int[] ids = rnd.ints(100, 0, 1 << 20).toArray();
        s.update(DocumentObservation.unscored(SOURCE, StreamKind.RAW, d, ids, 0, 0));
      }
      sizes[step] = s.toByteArray().length;
    }
    // 25k .. 375k random tokens: distinct trigrams grow 15x, the size must not follow
    assertTrue(s.distinctEstimate(3) > 300_000, "distinct " + s.distinctEstimate(3));
    assertTrue(sizes[3] < sizes[0] * 1.3, "sizes " + Arrays.toString(sizes));
    int bound = 3 * 2000 * 5 + 3 * (256 * 18 + 64) + 3 * ((1 << 10) / 2 + 64) + 2 * 8 * 100 * 4 + 1000;
    assertTrue(sizes[3] < bound, "size " + sizes[3] + " over bound " + bound);
  }

  /** Regenerates the golden file: {@code java ... WindowSummaryTest src/test/resources/drift}. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    Files.write(dir.resolve("window-summary-v1.bin"), goldenSummary().toByteArray());
    Files.write(dir.resolve("reference-v2.bin"), ReferenceTest.goldenReference().toByteArray());
  }
}
