package io.toedit.text;

/**
 * The prior model's teacher-forced scores of one token sequence, as plain Java arrays.
 *
 * <p>Everything is indexed by <em>target</em> position {@code t}: {@code logProbs[t]} is
 * {@code log P(ids[t] | ids[0..t-1])}, conditioned on the original prefix, and {@code topIds[t]} /
 * {@code topLogProbs[t]} are the k most likely tokens for position {@code t} under the same
 * distribution, in descending order of probability. Position 0 (BOS) has no context and therefore
 * no score: {@code logProbs[0]} is {@code NaN} and its candidate rows are empty.
 *
 * <p>Instances are produced by a {@code Scorer} (package {@code model}) and never hold native
 * memory.
 */
public record TokenScores(int[] ids, float[] logProbs, int[][] topIds, float[][] topLogProbs) {

  public TokenScores {
    if (ids.length != logProbs.length || ids.length != topIds.length || ids.length != topLogProbs.length) {
      throw new IllegalArgumentException("TokenScores arrays must have one entry per position: ids="
          + ids.length + " logProbs=" + logProbs.length + " topIds=" + topIds.length
          + " topLogProbs=" + topLogProbs.length);
    }
  }

  /** Number of positions, BOS included. */
  public int length() {
    return ids.length;
  }
}
