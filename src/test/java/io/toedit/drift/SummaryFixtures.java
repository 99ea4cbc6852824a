package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/** Deterministic observations and a field-by-field comparison of summaries. */
final class SummaryFixtures {

  static final String SOURCE = "wikipédia-東京";

  private SummaryFixtures() {
  }

  /** Documents of random ids in [0, vocab), lengths 1..maxLen, probabilities in [0, 1]. */
  static List<DocumentObservation> randomDocuments(long seed, int count, int vocab, int maxLen) {
    Random rnd = new Random(seed);
    List<DocumentObservation> docs = new ArrayList<>();
    for (int d = 0; d < count; d++) {
      int len = 1 + rnd.nextInt(maxLen);
      int[] ids = new int[len];
      float[] probs = new float[len];
      double nll = 0;
      int over = 0;
      for (int i = 0; i < len; i++) {
        ids[i] = rnd.nextInt(vocab);
        probs[i] = Math.max(1e-6f, rnd.nextFloat());
        nll -= Math.log(probs[i]);
        over += probs[i] > 0.99f ? 1 : 0;
      }
      docs.add(new DocumentObservation(SOURCE, StreamKind.RAW, 1_700_000_000_000L + d * 1000L, ids, probs,
          over, rnd.nextInt(3), rnd.nextInt(2), nll, len));
    }
    return docs;
  }

  static WindowSummary summarize(SummaryConfig config, List<DocumentObservation> docs) {
    WindowSummary s = new WindowSummary(config);
    docs.forEach(s::update);
    return s;
  }

  /** Every observable of the two summaries agrees (doubles to 1e-9 relative). */
  static void assertSameSummary(WindowSummary a, WindowSummary b) {
    assertEquals(a.config(), b.config());
    assertEquals(a.documents(), b.documents(), "documents");
    assertEquals(a.tokens(), b.tokens(), "tokens");
    assertEquals(a.predictedTokens(), b.predictedTokens(), "predictedTokens");
    assertEquals(a.overThreshold(), b.overThreshold(), "overThreshold");
    assertEquals(a.changed(), b.changed(), "changed");
    assertEquals(a.deleted(), b.deleted(), "deleted");
    assertEquals(a.scoredDocuments(), b.scoredDocuments(), "scoredDocuments");
    assertEquals(a.minTimestamp(), b.minTimestamp(), "minTimestamp");
    assertEquals(a.maxTimestamp(), b.maxTimestamp(), "maxTimestamp");
    assertEquals(a.nllSum(), b.nllSum(), 1e-9 * Math.max(1, a.nllSum()), "nllSum");
    assertEquals(a.documentNllMean(), b.documentNllMean(), 1e-9, "documentNllMean");
    assertEquals(a.documentNllSd(), b.documentNllSd(), 1e-9, "documentNllSd");
    assertArrayEquals(a.probabilityHistogram(), b.probabilityHistogram(), "histogram");
    for (double q = 0; q <= 1.0; q += 0.05) {
      assertEquals(a.tokenProbabilityQuantile(q), b.tokenProbabilityQuantile(q), 0.0, "token prob q" + q);
      assertEquals(a.documentNllQuantile(q), b.documentNllQuantile(q), 0.0, "doc nll q" + q);
    }
    for (int n = 1; n <= 3; n++) {
      assertEquals(a.ngramCount(n), b.ngramCount(n), "ngrams " + n);
      assertArrayEquals(a.bucketCounts(n), b.bucketCounts(n), "buckets " + n);
      assertEquals(a.distinctEstimate(n), b.distinctEstimate(n), 1e-9 * a.distinctEstimate(n), "distinct " + n);
      assertEquals(a.frequentItemsMaxError(n), b.frequentItemsMaxError(n), "max error " + n);
      assertEquals(sorted(a.topNGrams(n, Integer.MAX_VALUE)), sorted(b.topNGrams(n, Integer.MAX_VALUE)),
          "top n-grams " + n);
    }
  }

  private static List<String> sorted(List<NGramCount> counts) {
    List<String> out = new ArrayList<>();
    for (NGramCount c : counts) {
      out.add(java.util.Arrays.toString(c.tokenIds()) + "=" + c.estimate() + "[" + c.lowerBound() + ","
          + c.upperBound() + "]");
    }
    out.sort(Comparator.naturalOrder());
    return out;
  }
}
