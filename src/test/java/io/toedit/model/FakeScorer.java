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
 * A deterministic stand-in for the prior model, for topology and pipeline tests. Three kinds:
 *
 * <ul>
 *   <li>{@link #everyNth}: a token is "easy" (P = 0.995, over the 0.99 threshold) when its id is
 *       divisible by a modulus, else P = 0.05; candidates are the original and ids derived from
 *       it. Model id {@code fake-scorer}.</li>
 *   <li>{@link #bigram}: the scores of position t depend only on (ids[t-1], ids[t]), so they never
 *       depend on the batch; about a third of the positions get P(original) &gt; 0.99 and some get
 *       P &lt; 0.001. Model id {@code fake-bigram}.</li>
 *   <li>{@link #acrossVocabulary}: every position over the threshold, candidates from the whole
 *       vocabulary, forbidden ids on top, for forced-edit tests.</li>
 * </ul>
 *
 * <p>Scoring a batch that contains a poison sequence throws, like a model failing on one document.
 * {@link #calls} counts {@code score} calls and {@link #batchSizes} records their sizes.
 */
public final class FakeScorer implements Scorer {

  /** Fills position t ({@code t >= 1}): the log-prob of ids[t] and the k candidates with theirs. */
  @FunctionalInterface
  private interface Rule {
    float score(int[] ids, int t, int[] top, float[] topLp);
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
    return new FakeScorer(k, "fake-scorer", "cpu", ids -> poison.contains(boxed(ids)), (ids, t, top, topLp) -> {
      float pOrig = ids[t] % easyModulus == 0 ? 0.995f : 0.05f;
      float lp = (float) Math.log(pOrig);
      top[0] = ids[t];
      topLp[0] = lp;
      float rest = (1f - pOrig) / (k - 1);
      for (int j = 1; j < k; j++) {
        top[j] = 3 + (ids[t] + 7 * j) % (vocabSize - 3);
        topLp[j] = (float) Math.log(rest);
      }
      return lp;
    });
  }

  /** A bigram-like scorer with {@code k} candidates. */
  public static FakeScorer bigram(int vocabSize, int k, Predicate<int[]> poison) {
    return new FakeScorer(k, "fake-bigram", "none", poison, (ids, t, top, topLp) -> {
      for (int i = 0; i < k; i++) {
        top[i] = 3 + (int) ((ids[t - 1] * 31L + i * 17L) % (vocabSize - 3));
        topLp[i] = -2.0f - i;
      }
      double u = DrawKeys.uniform(ids[t - 1], "fake-model", ids[t]);
      return (float) (u < 0.35 ? Math.log(0.995 + 0.004 * u) : u > 0.97 ? Math.log(0.0005) : -3.0 * u);
    });
  }

  /**
   * For forced-edit tests: every position gets P(original) &gt; 0.99, and candidates from across
   * the whole vocabulary (drawn from the previous id and the position), with {@code forbidden} on
   * top. Model id {@code fake-across-vocabulary}.
   *
   * @param rows the model's output rows (may exceed the tokenizer's ids, like a padded vocabulary)
   * @param forbidden ids put first, with the highest log-probs, at every position (specials,
   *     partial bytes, padded rows: an editor must never draw them)
   */
  public static FakeScorer acrossVocabulary(int rows, int k, int[] forbidden) {
    return new FakeScorer(k, "fake-across-vocabulary", "none", ids -> false, (ids, t, top, topLp) -> {
      for (int i = 0; i < k; i++) {
        top[i] = i < forbidden.length ? forbidden[i]
            : (int) (DrawKeys.uniform(ids[t - 1] * 131L + t, "candidate", i) * rows);
        topLp[i] = -0.5f - i;
      }
      return -0.001f * (float) DrawKeys.uniform(ids[t - 1], "across", ids[t]); // P > 0.99
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
      int n = ids.length;
      float[] lp = new float[n];
      int[][] top = new int[n][];
      float[][] topLp = new float[n][];
      lp[0] = Float.NaN;
      top[0] = new int[0];
      topLp[0] = new float[0];
      for (int t = 1; t < n; t++) {
        top[t] = new int[k];
        topLp[t] = new float[k];
        lp[t] = rule.score(ids, t, top[t], topLp[t]);
      }
      out.add(new TokenScores(ids.clone(), lp, top, topLp));
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
