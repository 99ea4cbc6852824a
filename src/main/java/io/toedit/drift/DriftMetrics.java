package io.toedit.drift;

import java.util.List;

/**
 * Drift of one window against a {@link Reference}. All divergences and entropies are in bits.
 *
 * <ul>
 *   <li>{@code jsd}: Jensen-Shannon divergence (base 2, in [0, 1]) between the window's and the
 *       reference's unigram+bigram counts hashed into the same buckets (the paper's feature
 *       space);</li>
 *   <li>{@code klSmoothed}: KL(window || reference) on the same buckets, both sides add-alpha
 *       smoothed ({@link MetricsConfig#klAlpha()});</li>
 *   <li>{@code top1PctBucketShare}: mass share of the 1 % largest of those buckets;</li>
 *   <li>{@code top40BigramShare}: mass share of the 40 most frequent bigrams among all bigrams
 *       (from the frequent-items sketch; exact below its capacity);</li>
 *   <li>{@code distinctNRatio}: HLL distinct n-grams / n-grams, n = 1..3;</li>
 *   <li>{@code entropyN}: entropy of the hashed n-gram counts of order n; collisions merge n-grams,
 *       so it is at most log2(buckets) and a lower bound of the true n-gram entropy;</li>
 *   <li>{@code meanNll} (nats per predicted token) and {@code perplexity} = exp(meanNll);
 *       {@code documentNllMean}, {@code documentNllSd}: mean and spread of per-document mean
 *       NLL;</li>
 *   <li>{@code editRate}: changed tokens / tokens; {@code overThresholdRate}: over-threshold /
 *       predicted tokens.</li>
 * </ul>
 *
 * <p><b>Contamination signal.</b> Model-generated text covers the low-perplexity part of the human
 * distribution and concentrates its n-grams. With the reference's window-level means and standard
 * deviations (see {@link Reference}):
 * <pre>
 *   shiftZ         = (ref mean of window documentNllMean - window documentNllMean) / ref sd
 *   narrowZ        = (ref mean of window documentNllSd   - window documentNllSd)   / ref sd
 *   concentrationZ = (window top40BigramShare - ref mean of window top40BigramShare) / ref sd
 *   score          = min(shiftZ, narrowZ, concentrationZ)
 *   contaminated   = score &gt;= threshold and scored documents &gt;= minDocuments
 * </pre>
 * So it fires only when NLL shifts low <em>and</em> narrows <em>and</em> concentration rises, each
 * by at least {@code threshold} reference standard deviations. The score is {@code NaN} (and the
 * signal false) when the window has no scores or the reference has fewer than 2 windows. This
 * signal misses mixed windows (mixing widens the NLL spread); {@code estimate} is the estimated
 * synthetic fraction with its interval, tests and alert ({@link SyntheticEstimate}), which is what
 * the stream and the {@code drift} command publish as the alert.
 */
public record DriftMetrics(long documents, long tokens, double jsd, double klSmoothed,
    double top1PctBucketShare, double top40BigramShare, double distinct1Ratio, double distinct2Ratio,
    double distinct3Ratio, double entropy1, double entropy2, double entropy3, double meanNll,
    double perplexity, double documentNllMean, double documentNllSd, double editRate,
    double overThresholdRate, double shiftZ, double narrowZ, double concentrationZ,
    double contaminationScore, boolean contaminated, SyntheticEstimate estimate) {

  /** Bigrams whose mass share {@code top40BigramShare} measures. */
  public static final int TOP_BIGRAMS = 40;
  /** Fraction of buckets whose mass share {@code top1PctBucketShare} measures. */
  public static final double TOP_BUCKET_FRACTION = 0.01;
  private static final double MIN_SD = 1e-9;

  public static DriftMetrics of(WindowSummary window, Reference reference) {
    return of(window, reference, MetricsConfig.defaults());
  }

  public static DriftMetrics of(WindowSummary window, Reference reference, MetricsConfig config) {
    WindowSummary ref = reference.summaryView();
    long[] w = window.unigramBigramCounts();
    long[] r = ref.unigramBigramCounts();
    double top40 = topBigramShare(window);
    double docMean = window.documentNllMean();
    double docSd = window.documentNllSd();
    double shiftZ = z(reference.windowMean(Reference.Stat.DOCUMENT_NLL_MEAN) - docMean,
        reference.windowSd(Reference.Stat.DOCUMENT_NLL_MEAN));
    double narrowZ = z(reference.windowMean(Reference.Stat.DOCUMENT_NLL_SD) - docSd,
        reference.windowSd(Reference.Stat.DOCUMENT_NLL_SD));
    double concZ = z(top40 - reference.windowMean(Reference.Stat.TOP40_BIGRAM_SHARE),
        reference.windowSd(Reference.Stat.TOP40_BIGRAM_SHARE));
    double score = Double.isNaN(shiftZ) || Double.isNaN(narrowZ) || Double.isNaN(concZ)
        ? Double.NaN : Math.min(shiftZ, Math.min(narrowZ, concZ));
    boolean fires = !Double.isNaN(score) && score >= config.contaminationThreshold()
        && window.scoredDocuments() >= config.minDocuments();
    double meanNll = window.meanNll();
    return new DriftMetrics(window.documents(), window.tokens(), Distributions.jsd(w, r),
        Distributions.klSmoothed(w, r, config.klAlpha()), Distributions.topShare(w, TOP_BUCKET_FRACTION),
        top40, ratio(window.distinctEstimate(1), window.ngramCount(1)),
        ratio(window.distinctEstimate(2), window.ngramCount(2)),
        ratio(window.distinctEstimate(3), window.ngramCount(3)),
        Distributions.entropy(window.bucketCounts(1)), Distributions.entropy(window.bucketCounts(2)),
        Distributions.entropy(window.bucketCounts(3)), meanNll, Math.exp(meanNll), docMean, docSd,
        ratio(window.changed(), window.tokens()), ratio(window.overThreshold(), window.predictedTokens()),
        shiftZ, narrowZ, concZ, score, fires, SyntheticEstimate.of(window, reference, config.estimator()));
  }

  /**
   * Edited-vs-raw Jensen-Shannon divergence (base 2) of the same window, on the unigram+bigram
   * buckets: 0 when editing preserved the n-gram distribution exactly.
   */
  public static double compare(WindowSummary raw, WindowSummary edited) {
    return Distributions.jsd(raw.unigramBigramCounts(), edited.unigramBigramCounts());
  }

  /** Share of all bigrams taken by the {@value #TOP_BIGRAMS} most frequent; {@code NaN} if none. */
  static double topBigramShare(WindowSummary window) {
    long total = window.ngramCount(2);
    if (total == 0) {
      return Double.NaN;
    }
    List<NGramCount> top = window.topNGrams(2, TOP_BIGRAMS);
    long sum = 0;
    for (NGramCount c : top) {
      sum += c.estimate();
    }
    return Math.min(1.0, (double) sum / total);
  }

  private static double z(double diff, double sd) {
    return Double.isNaN(diff) || Double.isNaN(sd) ? Double.NaN : diff / Math.max(sd, MIN_SD);
  }

  private static double ratio(double a, double b) {
    return b == 0 ? Double.NaN : a / b;
  }
}
