package io.toedit.drift;

import java.util.Objects;

/**
 * What the drift statistics need to know about one document of one stream.
 *
 * <p>{@code tokenIds} <b>exclude</b> BOS: they are the document's content tokens, so n-grams never
 * start with the same artificial BOS. Every content token is a predicted token (the prior model
 * predicts position t from positions before it, BOS included), so when the document was scored
 * {@code tokenProbs[i]} is P(tokenIds[i] | BOS, tokenIds[0..i-1]) under the prior model, and
 * {@code tokenProbs.length == predictedTokens}. {@code tokenProbs} may be {@code null} when the
 * document was not scored (typically the edited stream); then {@code predictedTokens} is 0 and
 * {@code nllSum} is 0.
 *
 * @param source the document's source (the key of the per-source statistics)
 * @param stream raw or edited
 * @param timestampMs event time in epoch milliseconds
 * @param tokenIds content token ids, BOS excluded, each in [0, 2^21)
 * @param tokenProbs P(actual) per predicted token, or {@code null}
 * @param overThreshold predicted tokens with P above the edit threshold
 * @param changed tokens the editor replaced
 * @param deleted tokens the editor deleted
 * @param nllSum sum over predicted tokens of -ln P(actual), in nats
 * @param predictedTokens number of predicted tokens behind {@code nllSum}
 */
public record DocumentObservation(String source, StreamKind stream, long timestampMs, int[] tokenIds,
    float[] tokenProbs, int overThreshold, int changed, int deleted, double nllSum, int predictedTokens) {

  public DocumentObservation {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(stream, "stream");
    Objects.requireNonNull(tokenIds, "tokenIds");
    for (int id : tokenIds) {
      if (id < 0 || id > NGrams.MAX_TOKEN_ID) {
        throw new IllegalArgumentException("token id out of range [0, " + NGrams.MAX_TOKEN_ID + "]: " + id);
      }
    }
    if (tokenProbs != null && tokenProbs.length != predictedTokens) {
      throw new IllegalArgumentException("tokenProbs must have one entry per predicted token: "
          + tokenProbs.length + " != " + predictedTokens);
    }
    if (overThreshold < 0 || changed < 0 || deleted < 0 || predictedTokens < 0) {
      throw new IllegalArgumentException("counts must be non-negative");
    }
    if (!(nllSum >= 0) || Double.isInfinite(nllSum)) {
      throw new IllegalArgumentException("nllSum must be finite and non-negative: " + nllSum);
    }
  }

  /**
   * An observation from a scored document.
   *
   * @param idsWithBos token ids with BOS at position 0, as scored
   * @param logProbs {@code logProbs[t] = ln P(ids[t] | ids[<t])}, {@code NaN} at t = 0 (the
   *     {@code TokenScores} convention)
   * @param threshold the edit threshold p; predicted tokens with P &gt; p count as over threshold
   */
  public static DocumentObservation scored(String source, StreamKind stream, long timestampMs,
      int[] idsWithBos, float[] logProbs, double threshold, int changed, int deleted) {
    if (idsWithBos.length != logProbs.length) {
      throw new IllegalArgumentException("one log-prob per position expected: ids=" + idsWithBos.length
          + " logProbs=" + logProbs.length);
    }
    int n = Math.max(0, idsWithBos.length - 1);
    int[] ids = new int[n];
    float[] probs = new float[n];
    double nll = 0;
    int over = 0;
    for (int i = 0; i < n; i++) {
      ids[i] = idsWithBos[i + 1];
      float lp = logProbs[i + 1];
      if (Float.isNaN(lp) || lp > 0) {
        throw new IllegalArgumentException("log-prob at position " + (i + 1) + " must be <= 0: " + lp);
      }
      nll -= lp;
      probs[i] = (float) Math.exp(lp);
      if (probs[i] > threshold) {
        over++;
      }
    }
    return new DocumentObservation(source, stream, timestampMs, ids, probs, over, changed, deleted, nll, n);
  }

  /** An observation of a document that was not scored, from content ids (BOS excluded). */
  public static DocumentObservation unscored(String source, StreamKind stream, long timestampMs,
      int[] tokenIds, int changed, int deleted) {
    return new DocumentObservation(source, stream, timestampMs, tokenIds, null, 0, changed, deleted, 0, 0);
  }

  /** Mean NLL per predicted token in nats, or {@code NaN} if nothing was predicted. */
  public double meanNll() {
    return predictedTokens == 0 ? Double.NaN : nllSum / predictedTokens;
  }
}
