package io.toedit.edit;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every knob of the edit rule. {@link #defaults()} reproduces the paper's code: {@code up_revise},
 * p = 0.99 with strict {@code >}, top-8 candidates plus the original, weights softmax(logprob /
 * 1.5), the original may be drawn again.
 *
 * @param strategy which rule
 * @param threshold revise tokens whose P(original) is above this
 * @param inclusive compare with {@code >=} instead of the paper's strict {@code >}
 * @param topK number of model candidates (the original is added when not among them)
 * @param topP when in (0, 1), keep only the smallest prefix of the top-k whose mass reaches topP;
 *     0 disables
 * @param beta sampling temperature; {@code NaN} means the strategy's default (1.5, or 1 for
 *     low_drop_up_revise)
 * @param dropThreshold delete tokens whose P(original) is below this (low_drop and filtering only)
 * @param excludeOriginal never draw the original token again, so every revised token changes
 * @param seed keys the per-(document, position) random draws
 */
public record EditConfig(Strategy strategy, double threshold, boolean inclusive, int topK, double topP,
    double beta, double dropThreshold, boolean excludeOriginal, long seed) {

  public static final long DEFAULT_SEED = 42L;

  public EditConfig {
    if (strategy == null) {
      throw new IllegalArgumentException("strategy is required: one of up_revise, low_drop_up_revise, filtering");
    }
    if (!(threshold >= 0.0 && threshold <= 1.0)) {
      throw new IllegalArgumentException("threshold must be a probability in [0, 1], got " + threshold);
    }
    if (topK < 1) {
      throw new IllegalArgumentException("topK must be at least 1, got " + topK);
    }
    if (!(topP >= 0.0 && topP <= 1.0)) {
      throw new IllegalArgumentException("topP must be in [0, 1] (0 or 1 disables it), got " + topP);
    }
    if (!Double.isNaN(beta) && !(beta > 0.0 && beta < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("beta (temperature) must be a positive finite number, got " + beta);
    }
    if (!(dropThreshold >= 0.0 && dropThreshold <= 1.0)) {
      throw new IllegalArgumentException("dropThreshold must be a probability in [0, 1], got " + dropThreshold);
    }
  }

  public static EditConfig defaults() {
    return new EditConfig(Strategy.UP_REVISE, 0.99, false, 8, 0.0, Double.NaN, 0.001, false, DEFAULT_SEED);
  }

  /** The temperature actually used. */
  public double effectiveBeta() {
    if (!Double.isNaN(beta)) {
      return beta;
    }
    return strategy == Strategy.LOW_DROP_UP_REVISE ? 1.0 : 1.5;
  }

  /** True when the strategy resamples likely tokens ({@code up_revise}, {@code low_drop_up_revise}). */
  public boolean revises() {
    return strategy != Strategy.FILTERING;
  }

  /** True when the strategy deletes unlikely tokens ({@code low_drop_up_revise}, {@code filtering}). */
  public boolean drops() {
    return strategy != Strategy.UP_REVISE;
  }

  /** Whether a token with probability {@code p} passes the revise threshold. */
  public boolean overThreshold(double p) {
    return inclusive ? p >= threshold : p > threshold;
  }

  /** Top-p is active only strictly inside (0, 1). */
  public boolean usesTopP() {
    return topP > 0.0 && topP < 1.0;
  }

  /**
   * Every knob that shaped the output, as strings, in a fixed order (for provenance records). Knobs
   * the strategy does not use are left out.
   */
  public Map<String, String> parameters() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("strategy", strategy.wireName());
    if (revises()) {
      m.put("threshold", Double.toString(threshold));
      m.put("comparison", inclusive ? ">=" : ">");
      m.put("top_k", Integer.toString(topK));
      m.put("top_p", Double.toString(usesTopP() ? topP : 0.0));
      m.put("beta", Double.toString(effectiveBeta()));
      m.put("exclude_original", Boolean.toString(excludeOriginal));
    }
    if (drops()) {
      m.put("drop_threshold", Double.toString(dropThreshold));
    }
    m.put("seed", Long.toString(seed));
    return Collections.unmodifiableMap(m);
  }

  public EditConfig withStrategy(Strategy s) {
    return new EditConfig(s, threshold, inclusive, topK, topP, beta, dropThreshold, excludeOriginal, seed);
  }

  public EditConfig withThreshold(double p, boolean inclusiveComparison) {
    return new EditConfig(strategy, p, inclusiveComparison, topK, topP, beta, dropThreshold, excludeOriginal, seed);
  }

  public EditConfig withCandidates(int k, double p) {
    return new EditConfig(strategy, threshold, inclusive, k, p, beta, dropThreshold, excludeOriginal, seed);
  }

  public EditConfig withBeta(double b) {
    return new EditConfig(strategy, threshold, inclusive, topK, topP, b, dropThreshold, excludeOriginal, seed);
  }

  public EditConfig withDropThreshold(double p) {
    return new EditConfig(strategy, threshold, inclusive, topK, topP, beta, p, excludeOriginal, seed);
  }

  public EditConfig withExcludeOriginal(boolean exclude) {
    return new EditConfig(strategy, threshold, inclusive, topK, topP, beta, dropThreshold, exclude, seed);
  }

  public EditConfig withSeed(long s) {
    return new EditConfig(strategy, threshold, inclusive, topK, topP, beta, dropThreshold, excludeOriginal, s);
  }
}
