package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** {@link LlamaModel#topKOnHost} against a full sort: descending values, ties to the lower id. */
class HostTopKTest {

  @Test
  void shouldEqualAFullSortIncludingTies() {
    Random rnd = new Random(3);
    int v = 97;
    int rows = 300;
    int k = 8;
    float[] logp = new float[rows * v];
    long[] targets = new long[rows];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < v; i++) {
        // few distinct values so that ties are common, some rows all equal
        logp[r * v + i] = r % 50 == 0 ? -1f : -rnd.nextInt(r % 3 == 0 ? 4 : 40);
      }
      targets[r] = rnd.nextInt(v);
    }
    float[] lp = new float[rows];
    int[] ids = new int[rows * k];
    float[] lps = new float[rows * k];
    LlamaModel.topKOnHost(logp, 0, rows, v, k, targets, lp, ids, lps);
    for (int r = 0; r < rows; r++) {
      int base = r * v;
      int[] want = IntStream.range(0, v).boxed()
          .sorted(Comparator.<Integer>comparingDouble(i -> -logp[base + i]).thenComparingInt(i -> i))
          .limit(k).mapToInt(Integer::intValue).toArray();
      int[] got = java.util.Arrays.copyOfRange(ids, r * k, r * k + k);
      assertArrayEquals(want, got, "row " + r);
      for (int j = 0; j < k; j++) {
        assertEquals(logp[base + want[j]], lps[r * k + j]);
      }
      assertEquals(logp[base + (int) targets[r]], lp[r]);
    }
  }
}
