package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DocumentObservationTest {

  @Test
  void shouldDropBosAndConvertLogProbsWhenBuiltFromScores() {
    float[] logProbs = {Float.NaN, (float) Math.log(0.5), (float) Math.log(0.995), 0f};
    DocumentObservation d = DocumentObservation.scored("Zürich-北京", StreamKind.RAW, 7L,
        new int[] {1, 40, 41, 42}, logProbs, 0.99, 1, 0);
    assertArrayEquals(new int[] {40, 41, 42}, d.tokenIds());
    assertEquals(3, d.predictedTokens());
    assertEquals(0.5f, d.tokenProbs()[0], 1e-6f);
    assertEquals(1.0f, d.tokenProbs()[2], 0f);
    assertEquals(2, d.overThreshold(), "0.995 and 1.0 are above 0.99");
    assertEquals(-(Math.log(0.5) + Math.log(0.995)), d.nllSum(), 1e-6);
    assertEquals(d.nllSum() / 3, d.meanNll(), 1e-12);
  }

  @Test
  void shouldRejectInconsistentInput() {
    assertThrows(IllegalArgumentException.class, () -> DocumentObservation.scored("s", StreamKind.RAW, 0,
        new int[] {1, 2}, new float[] {Float.NaN}, 0.99, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> DocumentObservation.scored("s", StreamKind.RAW, 0,
        new int[] {1, 2}, new float[] {Float.NaN, Float.NaN}, 0.99, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new DocumentObservation("s", StreamKind.EDITED, 0,
        new int[] {1}, new float[] {0.5f, 0.5f}, 0, 0, 0, 1.0, 1));
    assertThrows(IllegalArgumentException.class, () -> new DocumentObservation("s", StreamKind.EDITED, 0,
        new int[] {-1}, null, 0, 0, 0, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new DocumentObservation("s", StreamKind.EDITED, 0,
        new int[] {1}, null, 0, 0, 0, Double.NaN, 1));
  }

  @Test
  void shouldHaveNoNllWhenUnscored() {
    DocumentObservation d = DocumentObservation.unscored("s", StreamKind.EDITED, 0, new int[] {3, 4}, 1, 1);
    assertTrue(Double.isNaN(d.meanNll()));
    assertEquals(0, d.predictedTokens());
  }
}
