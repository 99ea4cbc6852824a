package io.toedit.stream;

import io.toedit.model.Scorer;
import io.toedit.text.TokenScores;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A deterministic stand-in for the prior model. A token is "easy" (P = 0.995, over the 0.99
 * threshold) when its id is divisible by {@code easyModulus}, else P = 0.05. Candidates are the
 * original and its next ids. Scoring a batch that contains a poison sequence throws, like a model
 * failing on one document.
 */
public final class FakeScorer implements Scorer {

  private final int vocabSize;
  private final int easyModulus;
  private final Set<List<Integer>> poison;
  public final List<Integer> batchSizes = new CopyOnWriteArrayList<>();

  public FakeScorer(int vocabSize, int easyModulus, Set<List<Integer>> poison) {
    this.vocabSize = vocabSize;
    this.easyModulus = easyModulus;
    this.poison = poison;
  }

  public static List<Integer> boxed(int[] ids) {
    return Arrays.stream(ids).boxed().toList();
  }

  @Override
  public List<TokenScores> score(List<int[]> sequences) {
    batchSizes.add(sequences.size());
    for (int[] s : sequences) {
      if (poison.contains(boxed(s))) {
        throw new IllegalStateException("fake model failure on a poison document");
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
        boolean easy = ids[t] % easyModulus == 0;
        float pOrig = easy ? 0.995f : 0.05f;
        lp[t] = (float) Math.log(pOrig);
        top[t] = new int[topK()];
        topLp[t] = new float[topK()];
        top[t][0] = ids[t];
        topLp[t][0] = lp[t];
        float rest = (1f - pOrig) / (topK() - 1);
        for (int j = 1; j < topK(); j++) {
          top[t][j] = 3 + (ids[t] + 7 * j) % (vocabSize - 3);
          topLp[t][j] = (float) Math.log(rest);
        }
      }
      out.add(new TokenScores(ids, lp, top, topLp));
    }
    return out;
  }

  @Override
  public int topK() {
    return 8;
  }

  @Override
  public String modelId() {
    return "fake-scorer";
  }

  @Override
  public String device() {
    return "cpu";
  }

  @Override
  public void close() {
  }
}
