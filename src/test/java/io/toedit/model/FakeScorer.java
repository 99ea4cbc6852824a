package io.toedit.model;

import io.toedit.edit.DrawKeys;
import io.toedit.text.TokenScores;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A deterministic stand-in for the prior model, for topology and pipeline tests. Two kinds:
 *
 * <ul>
 *   <li>{@link #everyNth}: a token is "easy" (P = 0.995, over the 0.99 threshold) when its id is
 *       divisible by a modulus, else P = 0.05; candidates are the original and ids derived from
 *       it. Model id {@code fake-scorer}.</li>
 *   <li>{@link #bigram}: the scores of position t depend only on (ids[t-1], ids[t]), so they never
 *       depend on the batch; about a third of the positions get P(original) &gt; 0.99 and some get
 *       P &lt; 0.001. Model id {@code fake-bigram}.</li>
 * </ul>
 *
 * <p>Scoring a batch that contains a poison sequence throws, like a model failing on one document.
 * {@link #calls} counts {@code score} calls and {@link #batchSizes} records their sizes.
 */
public final class FakeScorer implements Scorer {

  @FunctionalInterface
  private interface Rule {
    TokenScores score(int[] ids);
  }

  private final int k;
  private final String modelId;
  private final String device;
  private final Predicate<int[]> poison;
  private final Rule rule;
  public final AtomicInteger calls = new AtomicInteger();
  public final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

  private FakeScorer(int k, String modelId, String device, Predicate<int[]> poison, Rule rule) {
    this.k = k;
    this.modelId = modelId;
    this.device = device;
    this.poison = poison;
    this.rule = rule;
  }

  /** Easy tokens are those whose id is divisible by {@code easyModulus}; top-8. */
  public static FakeScorer everyNth(int vocabSize, int easyModulus, Set<List<Integer>> poison) {
    int k = 8;
    return new FakeScorer(k, "fake-scorer", "cpu", ids -> poison.contains(boxed(ids)), ids -> {
      int n = ids.length;
      float[] lp = new float[n];
      int[][] top = new int[n][];
      float[][] topLp = new float[n][];
      lp[0] = Float.NaN;
      top[0] = new int[0];
      topLp[0] = new float[0];
      for (int t = 1; t < n; t++) {
        boolean easy = ids[t] % easyModulus == 0;
        float pOrig = easy ? 0.995f : 0.05f;
        lp[t] = (float) Math.log(pOrig);
        top[t] = new int[k];
        topLp[t] = new float[k];
        top[t][0] = ids[t];
        topLp[t][0] = lp[t];
        float rest = (1f - pOrig) / (k - 1);
        for (int j = 1; j < k; j++) {
          top[t][j] = 3 + (ids[t] + 7 * j) % (vocabSize - 3);
          topLp[t][j] = (float) Math.log(rest);
        }
      }
      return new TokenScores(ids, lp, top, topLp);
    });
  }

  /** A bigram-like scorer with {@code k} candidates. */
  public static FakeScorer bigram(int vocabSize, int k, Predicate<int[]> poison) {
    return new FakeScorer(k, "fake-bigram", "none", poison, ids -> {
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
    });
  }

  /** A bigram-like scorer with 8 candidates and no poison. */
  public static FakeScorer bigram(int vocabSize) {
    return bigram(vocabSize, 8, ids -> false);
  }

  public static List<Integer> boxed(int[] ids) {
    return Arrays.stream(ids).boxed().toList();
  }

  @Override
  public List<TokenScores> score(List<int[]> sequences) {
    calls.incrementAndGet();
    batchSizes.add(sequences.size());
    for (int[] s : sequences) {
      if (poison.test(s)) {
        throw new IllegalStateException("fake model failure on a poison sequence of length " + s.length);
      }
    }
    List<TokenScores> out = new ArrayList<>(sequences.size());
    for (int[] ids : sequences) {
      out.add(rule.score(ids));
    }
    return out;
  }

  @Override
  public int topK() {
    return k;
  }

  @Override
  public String modelId() {
    return modelId;
  }

  @Override
  public String device() {
    return device;
  }

  @Override
  public void close() {
  }
}
