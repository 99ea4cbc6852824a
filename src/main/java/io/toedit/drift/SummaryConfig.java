package io.toedit.drift;

/**
 * Sizes of the sketches in a {@link WindowSummary}. Every size is fixed up front, so the serialized
 * size of a summary is bounded whatever the number of distinct n-grams in the window.
 *
 * @param buckets hashed feature buckets per n-gram order (n = 1, 2, 3). The paper hashed unigrams
 *     and bigrams into 10,000 buckets; the JSD and KL of {@link DriftMetrics} use exactly that
 *     space (orders 1 and 2 summed per bucket). Dominates the worst-case size: 3 x buckets counters.
 * @param frequentMapSize maximum map size of each per-order DataSketches {@code LongsSketch}
 *     (power of 2, at least 8). Counts are exact while an order has at most 0.75 x this many distinct
 *     n-grams; beyond that the error is at most about 3.5 / frequentMapSize of that order's total.
 * @param hllLgK log2 of the HLL register count per order, 4..21 (12 gives about 1.6 % standard error)
 * @param kllK accuracy parameter of the KLL quantile sketches, 8..65535 (200 gives about 1.3 % rank
 *     error); exact below k items
 */
public record SummaryConfig(int buckets, int frequentMapSize, int hllLgK, int kllK) {

  /** Largest accepted bucket count; keeps one summary under about 1 MiB in the worst case. */
  public static final int MAX_BUCKETS = 1 << 16;

  public SummaryConfig {
    if (buckets < 1 || buckets > MAX_BUCKETS) {
      throw new IllegalArgumentException("buckets must be in [1, " + MAX_BUCKETS + "]: " + buckets);
    }
    if (frequentMapSize < 8 || frequentMapSize > (1 << 20) || Integer.bitCount(frequentMapSize) != 1) {
      throw new IllegalArgumentException(
          "frequentMapSize must be a power of 2 in [8, 2^20]: " + frequentMapSize);
    }
    if (hllLgK < 4 || hllLgK > 21) {
      throw new IllegalArgumentException("hllLgK must be in [4, 21]: " + hllLgK);
    }
    if (kllK < 8 || kllK > 65535) {
      throw new IllegalArgumentException("kllK must be in [8, 65535]: " + kllK);
    }
  }

  /** 10,000 buckets (as in the paper), 1,024-entry frequent-items maps, HLL lgK 12, KLL k 200. */
  public static SummaryConfig defaults() {
    return new SummaryConfig(10_000, 1024, 12, 200);
  }
}
