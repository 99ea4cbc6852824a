package io.toedit.stream.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.drift.DocumentObservation;
import io.toedit.drift.StreamKind;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class ObservationBatchTest {

  static final String SOURCE = "Nachrichten-ß|新闻 🐉";

  static ObservationBatch sample() {
    return new ObservationBatch(SOURCE, StreamKind.RAW, List.of(
        new DocumentObservation(SOURCE, StreamKind.RAW, 1_764_064_800_123L, new int[] {0, 127, 128, 16_383, 2_097_151},
            new float[] {0.5f, 0.995f, 1e-7f, 1f, 0.25f}, 1, 2, 1, 20.5, 5),
        new DocumentObservation(SOURCE, StreamKind.RAW, 42L, new int[0], new float[0], 0, 0, 0, 0, 0)));
  }

  @Test
  void shouldRoundTripEveryField() {
    ObservationBatch b = sample();
    ObservationBatch back = ObservationBatch.decode(b.encode());
    assertEquals(SOURCE, back.source());
    assertEquals(StreamKind.RAW, back.stream());
    assertEquals(2, back.documents().size());
    for (int i = 0; i < 2; i++) {
      DocumentObservation a = b.documents().get(i);
      DocumentObservation c = back.documents().get(i);
      assertEquals(a.timestampMs(), c.timestampMs());
      assertArrayEquals(a.tokenIds(), c.tokenIds());
      assertArrayEquals(a.tokenProbs(), c.tokenProbs());
      assertEquals(a.overThreshold(), c.overThreshold());
      assertEquals(a.changed(), c.changed());
      assertEquals(a.deleted(), c.deleted());
      assertEquals(a.nllSum(), c.nllSum());
      assertEquals(a.predictedTokens(), c.predictedTokens());
    }
  }

  @Test
  void shouldRoundTripUnscoredEditedDocuments() {
    ObservationBatch b = new ObservationBatch("ü", StreamKind.EDITED,
        List.of(DocumentObservation.unscored("ü", StreamKind.EDITED, 7L, new int[] {3, 1, 4, 1, 5}, 2, 1)));
    ObservationBatch back = ObservationBatch.serde().deserializer().deserialize("t",
        ObservationBatch.serde().serializer().serialize("t", b));
    assertEquals(StreamKind.EDITED, back.stream());
    assertNull(back.documents().get(0).tokenProbs());
    assertArrayEquals(new int[] {3, 1, 4, 1, 5}, back.documents().get(0).tokenIds());
    assertEquals("ü|edited", back.key());
  }

  @Test
  void shouldRejectEveryCorruptedByte() {
    byte[] good = sample().encode();
    for (int i = 0; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= 0x5A;
      int at = i;
      SerializationException e = assertThrows(SerializationException.class, () -> ObservationBatch.decode(bad),
          "byte " + at);
      assertTrue(e.getMessage().startsWith("Corrupt drift observation batch"), e.getMessage());
    }
  }

  @Test
  void shouldRejectTruncatedInputAndSayWhatIsWrong() {
    byte[] good = sample().encode();
    for (int len = 0; len < good.length; len++) {
      byte[] cut = java.util.Arrays.copyOf(good, len);
      assertThrows(SerializationException.class, () -> ObservationBatch.decode(cut), "length " + len);
    }
    byte[] other = good.clone();
    other[0] = 'X';
    assertTrue(assertThrows(SerializationException.class, () -> ObservationBatch.decode(other)).getMessage()
        .contains("magic bytes must be TEOB"));
    byte[] newer = good.clone();
    newer[4] = 2;
    assertTrue(assertThrows(SerializationException.class, () -> ObservationBatch.decode(newer)).getMessage()
        .contains("version must be 1: 2"));
  }

  @Test
  void shouldRefuseObservationsOfAnotherKey() {
    DocumentObservation edited = DocumentObservation.unscored(SOURCE, StreamKind.EDITED, 1L, new int[] {1}, 0, 0);
    assertThrows(IllegalArgumentException.class, () -> new ObservationBatch(SOURCE, StreamKind.RAW, List.of(edited)));
  }
}
