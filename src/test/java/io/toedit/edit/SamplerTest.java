package io.toedit.edit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The draws: uniform, independent across neighbouring keys, and the edit rule's draws follow
 * softmax(logprob / beta). Every test uses a fixed seed, so it is deterministic; the critical values
 * are the chi-square 0.999 quantiles, so a correct sampler would fail one such test with
 * probability 0.001 for a random seed.
 */
class SamplerTest {

  static double chiSquare(long[] observed, double[] expected) {
    double chi = 0.0;
    for (int i = 0; i < observed.length; i++) {
      double d = observed[i] - expected[i];
      chi += d * d / expected[i];
    }
    return chi;
  }

  @Test
  void uniformShouldBeUniformOverManyDocumentAndPositionKeys() {
    int bins = 100;
    long[] counts = new long[bins];
    int docs = 2000;
    int positions = 500;
    for (int d = 0; d < docs; d++) {
      long h = DrawKeys.idHash("tinystories-valid-" + d);
      for (int t = 1; t <= positions; t++) {
        double u = DrawKeys.uniform(7L, h, t);
        assertTrue(u >= 0.0 && u < 1.0);
        counts[(int) (u * bins)]++;
      }
    }
    double[] expected = new double[bins];
    Arrays.fill(expected, docs * (double) positions / bins);
    double chi = chiSquare(counts, expected);
    assertTrue(chi < 148.23, "chi-square " + chi + " over 99 degrees of freedom"); // 0.999 quantile
  }

  @Test
  void neighbouringPositionsAndDocumentsShouldBeIndependent() {
    int bins = 10;
    long[] pairsByPosition = new long[bins * bins];
    long[] pairsByDocument = new long[bins * bins];
    int docs = 1000;
    int positions = 400;
    for (int d = 0; d < docs; d++) {
      long h = DrawKeys.idHash("doc-" + d);
      long hNext = DrawKeys.idHash("doc-" + (d + 1));
      for (int t = 1; t <= positions; t++) {
        int a = (int) (DrawKeys.uniform(42L, h, t) * bins);
        int b = (int) (DrawKeys.uniform(42L, h, t + 1) * bins);
        int c = (int) (DrawKeys.uniform(42L, hNext, t) * bins);
        pairsByPosition[a * bins + b]++;
        pairsByDocument[a * bins + c]++;
      }
    }
    double[] expected = new double[bins * bins];
    Arrays.fill(expected, docs * (double) positions / (bins * bins));
    double limit = 148.23; // 99 degrees of freedom, 0.999
    assertTrue(chiSquare(pairsByPosition, expected) < limit, "position pairs " + chiSquare(pairsByPosition, expected));
    assertTrue(chiSquare(pairsByDocument, expected) < limit, "document pairs " + chiSquare(pairsByDocument, expected));
  }

  @Test
  void shouldDependOnSeedIdAndPositionButNotOnStringHashCollisions() {
    // "Aa" and "BB" share String.hashCode(); the draws must not
    assertEquals("Aa".hashCode(), "BB".hashCode());
    assertNotEquals(DrawKeys.uniform(1L, "Aa", 3), DrawKeys.uniform(1L, "BB", 3));
    assertNotEquals(DrawKeys.uniform(1L, "Aa", 3), DrawKeys.uniform(2L, "Aa", 3));
    assertNotEquals(DrawKeys.uniform(1L, "Aa", 3), DrawKeys.uniform(1L, "Aa", 4));
    assertEquals(DrawKeys.uniform(1L, "猫-😀", 3), DrawKeys.uniform(1L, "猫-😀", 3));
  }

  @Test
  void drawsShouldFollowSoftmaxOfLogProbOverBeta() {
    // one long document per key family: every position over the threshold, original not in the top-k
    ListVocabulary v = ListVocabulary.of("▁o", "▁c1", "▁c2", "▁c3", "▁c4", "▁c5", "▁c6", "▁c7", "▁c8");
    int original = v.id("▁o");
    int[] top = new int[8];
    float[] topLp = {-0.5f, -1.0f, -1.3f, -2.0f, -2.2f, -3.0f, -3.5f, -5.0f};
    for (int i = 0; i < 8; i++) {
      top[i] = v.id("▁c" + (i + 1));
    }
    float originalLp = -0.05f;
    int positions = 1000;
    int[] ids = new int[positions + 1];
    int[] cs = new int[positions + 1];
    int[] ce = new int[positions + 1];
    float[] lp = new float[positions + 1];
    int[][] ti = new int[positions + 1][];
    float[][] tl = new float[positions + 1][];
    ids[0] = 1;
    lp[0] = Float.NaN;
    ti[0] = new int[0];
    tl[0] = new float[0];
    StringBuilder text = new StringBuilder();
    for (int t = 1; t <= positions; t++) {
      ids[t] = original;
      cs[t] = text.length();
      text.append(" o");
      ce[t] = text.length();
      lp[t] = originalLp;
      ti[t] = top;
      tl[t] = topLp;
    }
    Tokenized tokens = new Tokenized(text.toString(), ids, cs, ce);
    TokenScores scores = new TokenScores(ids, lp, ti, tl);
    double beta = 1.5;
    Editor editor = new Editor(EditConfig.defaults().withThreshold(0.5, false).withSeed(20241218L), v);

    long[] counts = new long[9]; // 0..7 candidates, 8 = original kept
    int docs = 200;
    double expectedChanged = 0.0;
    int changed = 0;
    for (int d = 0; d < docs; d++) {
      EditResult r = editor.edit("sampler-doc-" + d, tokens, scores);
      long kept = positions;
      for (TokenEdit e : r.edits()) {
        counts[e.newId() - v.id("▁c1")]++;
        kept--;
      }
      counts[8] += kept;
      expectedChanged += r.expectedChanged();
      changed += r.changed();
    }
    double[] w = new double[9];
    double sum = 0.0;
    for (int i = 0; i < 8; i++) {
      w[i] = Math.exp(topLp[i] / beta);
      sum += w[i];
    }
    w[8] = Math.exp(originalLp / beta);
    sum += w[8];
    double n = docs * (double) positions;
    double[] expected = new double[9];
    for (int i = 0; i < 9; i++) {
      expected[i] = n * w[i] / sum;
      assertTrue(expected[i] > 100, "bin " + i);
    }
    double chi = chiSquare(counts, expected);
    assertTrue(chi < 26.12, "chi-square " + chi + " over 8 degrees of freedom; counts " + Arrays.toString(counts)
        + " expected " + Arrays.toString(expected)); // 0.999 quantile
    // the editor's own expectation matches the closed form, and the observed number of changes agrees
    assertEquals(n * (1.0 - w[8] / sum), expectedChanged, 1e-6 * n);
    double sigma = Math.sqrt(n * (w[8] / sum) * (1 - w[8] / sum));
    assertTrue(Math.abs(changed - expectedChanged) < 4 * sigma, changed + " vs " + expectedChanged);
  }
}
