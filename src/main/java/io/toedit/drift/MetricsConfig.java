package io.toedit.drift;

/**
 * Knobs of {@link DriftMetrics}.
 *
 * @param klAlpha pseudo-count added to every bucket on both sides of the smoothed KL (&gt; 0)
 * @param contaminationThreshold the contamination signal fires when its score (the smallest of its
 *     three z-scores, see {@link DriftMetrics}) is at least this
 * @param minDocuments windows with fewer scored documents never fire the contamination signal
 * @param estimator the synthetic-fraction estimator, its tests and its alert ({@link SyntheticEstimate})
 */
public record MetricsConfig(double klAlpha, double contaminationThreshold, int minDocuments,
    EstimatorConfig estimator) {

  /** With the default estimator. */
  public MetricsConfig(double klAlpha, double contaminationThreshold, int minDocuments) {
    this(klAlpha, contaminationThreshold, minDocuments, EstimatorConfig.defaults());
  }

  public MetricsConfig {
    if (!(klAlpha > 0) || Double.isInfinite(klAlpha)) {
      throw new IllegalArgumentException("klAlpha must be finite and > 0: " + klAlpha);
    }
    if (Double.isNaN(contaminationThreshold)) {
      throw new IllegalArgumentException("contaminationThreshold must be a number");
    }
    if (minDocuments < 2) {
      throw new IllegalArgumentException("minDocuments must be at least 2 (a spread needs two): " + minDocuments);
    }
    java.util.Objects.requireNonNull(estimator, "estimator");
  }

  /** A copy with another estimator configuration. */
  public MetricsConfig withEstimator(EstimatorConfig estimator) {
    return new MetricsConfig(klAlpha, contaminationThreshold, minDocuments, estimator);
  }

  /** alpha 0.5, threshold 2.0 (every z-score at least 2), at least 5 scored documents, default estimator. */
  public static MetricsConfig defaults() {
    return new MetricsConfig(0.5, 2.0, 5);
  }
}
