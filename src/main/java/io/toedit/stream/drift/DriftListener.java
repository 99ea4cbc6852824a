package io.toedit.stream.drift;

/**
 * Receives the drift gauges of every closed window, e.g. to publish them as
 * {@code toedit_drift_<name>{source,stream}}. Names: {@code jsd}, {@code kl_smoothed},
 * {@code top1pct_bucket_share}, {@code top40_bigram_share}, {@code distinct2}, {@code entropy2},
 * {@code mean_nll}, {@code edit_rate}, {@code contamination_score}, {@code contaminated} (0 or 1).
 * Undefined metrics are not reported. Called on stream threads: implementations must be thread-safe
 * and fast.
 */
@FunctionalInterface
public interface DriftListener {

  void drift(String source, String stream, String name, double value);

  /**
   * {@code documents} of {@code source} arrived after their window had closed and were left out of
   * the drift statistics (metric {@code toedit_drift_late_documents_total{source}}).
   */
  default void late(String source, long documents) {
  }

  /** A listener that ignores everything. */
  static DriftListener none() {
    return (source, stream, name, value) -> { };
  }
}
