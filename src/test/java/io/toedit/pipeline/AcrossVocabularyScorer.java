package io.toedit.pipeline;

import io.toedit.edit.DrawKeys;
import io.toedit.model.Scorer;
import io.toedit.text.TokenScores;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic fake prior for forced-edit tests: every position gets P(original) &gt; 0.99, and
 * candidates from across the whole vocabulary (drawn from the previous id and the position), with
 * the {@code forbidden} ids on top.
 */
public final class AcrossVocabularyScorer implements Scorer {
  private final int rows;
  private final int k;
  private final int[] forbidden;

  /**
   * @param rows the model's output rows (may exceed the tokenizer's ids, like a padded vocabulary)
   * @param k candidates per position
   * @param forbidden ids put first, with the highest log-probs, at every position (specials, partial bytes,
   *     padded rows: an editor must never draw them)
   */
  public AcrossVocabularyScorer(int rows, int k, int[] forbidden) {
    this.rows = rows;
    this.k = k;
    this.forbidden = forbidden;
  }

  @Override
  public List<TokenScores> score(List<int[]> sequences) {
    List<TokenScores> out = new ArrayList<>();
    for (int[] ids : sequences) {
      int n = ids.length;
      float[] lp = new float[n];
      int[][] top = new int[n][];
      float[][] topLp = new float[n][];
      lp[0] = Float.NaN;
      top[0] = new int[0];
      topLp[0] = new float[0];
      for (int t = 1; t < n; t++) {
        lp[t] = -0.001f * (float) DrawKeys.uniform(ids[t - 1], "across", ids[t]); // P > 0.99
        top[t] = new int[k];
        topLp[t] = new float[k];
        for (int i = 0; i < k; i++) {
          top[t][i] = i < forbidden.length ? forbidden[i]
              : (int) (DrawKeys.uniform(ids[t - 1] * 131L + t, "candidate", i) * rows);
          topLp[t][i] = -0.5f - i;
        }
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
    return "fake-across-vocabulary";
  }

  @Override
  public String device() {
    return "none";
  }

  @Override
  public void close() {
  }
}
