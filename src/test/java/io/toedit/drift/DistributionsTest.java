package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Hand-computed values; all results in bits. */
class DistributionsTest {

  @Test
  void shouldGiveOneBitWhenSupportsAreDisjoint() {
    assertEquals(1.0, Distributions.jsd(new long[] {1, 0}, new long[] {0, 1}), 1e-12);
    assertEquals(1.0, Distributions.jsd(new long[] {7, 0, 0}, new long[] {0, 2, 9}), 1e-12);
  }

  @Test
  void shouldGiveZeroWhenDistributionsAreEqualUpToScale() {
    assertEquals(0.0, Distributions.jsd(new long[] {1, 2, 3}, new long[] {10, 20, 30}), 1e-12);
    assertEquals(0.0, Distributions.klSmoothed(new long[] {1, 2, 3}, new long[] {10, 20, 30}, 1e-9), 1e-6);
  }

  @Test
  void shouldMatchHandComputedJsdOfHalfAndPoint() {
    // P = (1/2, 1/2), Q = (1, 0), M = (3/4, 1/4)
    // KL(P||M) = 1/2 log2(2/3) + 1/2 log2 2 = 0.2075187496; KL(Q||M) = log2(4/3) = 0.4150374993
    double expected = (0.5 * Math.log(2.0 / 3) / Math.log(2) + 0.5 + Math.log(4.0 / 3) / Math.log(2)) / 2;
    assertEquals(0.3112781245, expected, 1e-9);
    assertEquals(expected, Distributions.jsd(new long[] {1, 1}, new long[] {1, 0}), 1e-12);
    assertEquals(expected, Distributions.jsd(new long[] {1, 0}, new long[] {5, 5}), 1e-12);
  }

  @Test
  void shouldSmoothKlWithPseudoCounts() {
    // alpha 1: P' = (2/3, 1/3), Q' = (1/3, 2/3): KL = 2/3 * 1 + 1/3 * (-1) = 1/3 bit
    assertEquals(1.0 / 3, Distributions.klSmoothed(new long[] {1, 0}, new long[] {0, 1}, 1.0), 1e-12);
    // alpha 0.5: P' = (3/4, 1/4), Q' = (1/4, 3/4): KL = 3/4 log2 3 - 1/4 log2 3 = 1/2 log2 3
    assertEquals(0.5 * Math.log(3) / Math.log(2),
        Distributions.klSmoothed(new long[] {1, 0}, new long[] {0, 1}, 0.5), 1e-12);
    assertThrows(IllegalArgumentException.class,
        () -> Distributions.klSmoothed(new long[] {1}, new long[] {1}, 0));
  }

  @Test
  void shouldMatchHandComputedEntropy() {
    assertEquals(2.0, Distributions.entropy(new long[] {3, 3, 3, 3}), 1e-12);
    assertEquals(1.5, Distributions.entropy(new long[] {2, 1, 1, 0}), 1e-12);
    assertEquals(0.0, Distributions.entropy(new long[] {0, 9, 0}), 1e-12);
    assertTrue(Double.isNaN(Distributions.entropy(new long[] {0, 0})));
  }

  @Test
  void shouldTakeTopOnePercentOfBuckets() {
    long[] counts = new long[200]; // 1 % of 200 = 2 buckets
    counts[17] = 30;
    counts[3] = 10;
    counts[150] = 20;
    for (int i = 180; i < 200; i++) {
      counts[i] = 2;
    }
    // total 100, top two buckets 30 + 20
    assertEquals(0.5, Distributions.topShare(counts, 0.01), 1e-12);
  }

  @Test
  void shouldReturnNanWhenEitherSideIsEmpty() {
    assertTrue(Double.isNaN(Distributions.jsd(new long[] {0, 0}, new long[] {1, 0})));
    assertThrows(IllegalArgumentException.class, () -> Distributions.jsd(new long[2], new long[3]));
  }
}
