package io.toedit.pipeline;

import io.toedit.edit.DrawKeys;
import io.toedit.model.Scorer;
import io.toedit.text.TokenScores;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A deterministic stand-in for the prior model: the scores of position t depend only on
 * (ids[t-1], ids[t]), like a bigram model, so they never depend on the batch. About a third of the
 * positions get P(original) &gt; 0.99 and some get P &lt; 0.001. Throws for a batch that contains a
 * sequence matching {@code poison}.
 */
public final class FakeScorer implements Scorer {

  private final int vocabSize;
  private final int k;
  private final Predicate<int[]> poison;
  public final AtomicInteger calls = new AtomicInteger();

  public FakeScorer(int vocabSize, int k, Predicate<int[]> poison) {
    this.vocabSize = vocabSize;
    this.k = k;
    this.poison = poison;
  }

  public FakeScorer(int vocabSize) {
    this(vocabSize, 8, ids -> false);
  }

  @Override
  public List<TokenScores> score(List<int[]> sequences) {
    calls.incrementAndGet();
    List<TokenScores> out = new ArrayList<>(sequences.size());
    for (int[] ids : sequences) {
      if (poison.test(ids)) {
        throw new IllegalStateException("fake scorer: poison sequence of length " + ids.length);
      }
      out.add(scoreOne(ids));
    }
    return out;
  }

  TokenScores scoreOne(int[] ids) {
    int n = ids.length;
    float[] lp = new float[n];
    int[][] top = new int[n][];
    float[][] topLp = new float[n][];
    lp[0] = Float.NaN;
    top[0] = new int[0];
    topLp[0] = new float[0];
    for (int t = 1; t < n; t++) {
      double u = DrawKeys.uniform(ids[t - 1], "fake-model", ids[t]);
      lp[t] = (float) (u < 0.35 ? Math.log(0.995 + 0.004 * u) : u > 0.97 ? Math.log(0.0005) : -3.0 * u);
      top[t] = new int[k];
      topLp[t] = new float[k];
      for (int i = 0; i < k; i++) {
        top[t][i] = 3 + (int) ((ids[t - 1] * 31L + i * 17L) % (vocabSize - 3));
        topLp[t][i] = -2.0f - i;
      }
    }
    return new TokenScores(ids.clone(), lp, top, topLp);
  }

  @Override
  public int topK() {
    return k;
  }

  @Override
  public String modelId() {
    return "fake-bigram";
  }

  @Override
  public String device() {
    return "none";
  }

  @Override
  public void close() {
  }
}
