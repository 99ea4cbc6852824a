package io.toedit.edit;

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
}
