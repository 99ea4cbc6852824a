package io.toedit.drift;

/**
 * Knobs of {@link SyntheticEstimate}: the estimator, its interval, the two tests and the alert.
 *
 * @param cutoffQuantile the low reference quantile q0 of per-document NLL below which documents
 *     count as "much easier for the prior than human text" (in (0, 0.5))
 * @param confidence two-sided confidence level of the fraction's interval (in (0.5, 1))
 * @param alertMinFraction the interval's lower bound must exceed this for the estimate to alert
 *     (in [0, 1))
 * @param alertAlpha the excess of low-NLL documents must also be significant at this level
 *     (beta-binomial p-value that accounts for the reference's size)
 * @param testAlpha the two-sample tests alert together when both p-values are at most this
 * @param minDocuments windows with fewer scored documents never alert
 */
public record EstimatorConfig(double cutoffQuantile, double confidence, double alertMinFraction,
    double alertAlpha, double testAlpha, int minDocuments) {

  public EstimatorConfig {
    if (!(cutoffQuantile > 0 && cutoffQuantile < 0.5)) {
      throw new IllegalArgumentException("cutoffQuantile must be in (0, 0.5): " + cutoffQuantile);
    }
    if (!(confidence > 0.5 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be in (0.5, 1): " + confidence);
    }
    if (!(alertMinFraction >= 0 && alertMinFraction < 1)) {
      throw new IllegalArgumentException("alertMinFraction must be in [0, 1): " + alertMinFraction);
    }
    if (!(alertAlpha > 0 && alertAlpha < 1)) {
      throw new IllegalArgumentException("alertAlpha must be in (0, 1): " + alertAlpha);
    }
    if (!(testAlpha >= 0 && testAlpha < 1)) {
      throw new IllegalArgumentException("testAlpha must be in [0, 1) (0 = tests never alert): " + testAlpha);
    }
    if (minDocuments < 2) {
      throw new IllegalArgumentException("minDocuments must be at least 2: " + minDocuments);
    }
  }

  /** q0 0.02, 95 % interval, lower bound &gt; 0, excess p &lt;= 0.01, both tests p &lt;= 0.001, 5 documents. */
  public static EstimatorConfig defaults() {
    return new EstimatorConfig(0.02, 0.95, 0.0, 0.01, 0.001, 5);
  }
}
