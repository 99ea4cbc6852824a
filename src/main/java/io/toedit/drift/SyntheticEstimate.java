package io.toedit.drift;

/**
 * How much of a window looks generated, with an interval and two two-sample tests against a
 * {@link Reference} of human text.
 *
 * <p><b>Estimator (excess mass below a low reference quantile).</b> The prior finds its own samples
 * much easier than human text: their per-document mean NLL sits in the far left tail of the human
 * distribution. Let c be the reference's per-document NLL quantile at q0
 * ({@link EstimatorConfig#cutoffQuantile()}), the K-th smallest of its N documents (exact from the
 * reference's low tail when it has one, else from its KLL sketch), and q = K / (N + 1)
 * the expected share of human documents below c. In a window of n scored documents of which k lie
 * below c, a mixture with a share pi of generated documents, all below c, gives
 * E[k / n] = (1 - pi) q + pi, so
 * <pre>
 *   pi_hat = clamp((k / n - q) / (1 - q), 0, 1)
 * </pre>
 * and the interval is the Clopper-Pearson interval of k / n at {@link EstimatorConfig#confidence()}
 * mapped through the same line. Generated documents above c are missed, so when the assumption
 * fails the estimate is biased low by pi x (share of generated documents above c) / (1 - q): at
 * temperature 1 the prior's samples are spread like human text and most are missed (see
 * docs/drift.md).
 *
 * <p><b>Tests.</b> {@code excessPValue}: P(k or more below c) for a window of human text, where the
 * human share below the K-th of N reference documents is Beta(K, N - K + 1) (an order statistic), so
 * k is beta-binomial: the reference's own sampling error is included. {@code nllKsPValue}:
 * two-sample Kolmogorov-Smirnov on the per-document NLL (window vs reference, from the KLL sketches;
 * asymptotic with Stephens' correction). {@code ngramPValue}: the window's JSD to the reference on
 * hashed unigram+bigram buckets, against the log JSD of the reference's own windows to the rest of
 * it (leave one out), taken as normal with estimated mean and sd: the predictive Student-t with
 * W - 1 degrees of freedom for W windows (one-sided: only more divergent is suspicious).
 *
 * <p><b>Alert.</b> With at least {@code minDocuments} scored documents: (lower bound &gt;
 * alertMinFraction and excessPValue &lt;= alertAlpha) or (nllKsPValue &lt;= testAlpha and
 * ngramPValue &lt;= testAlpha).
 *
 * @param documents scored documents of the window (n)
 * @param cutoffNll c, the reference's per-document NLL at the cutoff quantile (nats per token)
 * @param belowCutoff k, window documents with mean NLL below c
 * @param humanBelowShare q, the expected share of human documents below c
 * @param fraction the estimated share of generated documents
 * @param low lower bound of its interval
 * @param high upper bound of its interval
 * @param excessPValue P-value of k under human text (beta-binomial)
 * @param nllKsStatistic the two-sample KS distance on per-document NLL
 * @param nllKsPValue its p-value
 * @param ngramLogJsdZ (ln JSD - null mean) / null sd (before the predictive correction)
 * @param ngramPValue its one-sided p-value
 * @param alert whether the rule above fires
 */
public record SyntheticEstimate(long documents, double cutoffNll, long belowCutoff, double humanBelowShare,
    double fraction, double low, double high, double excessPValue, double nllKsStatistic, double nllKsPValue,
    double ngramLogJsdZ, double ngramPValue, boolean alert) {

  /** Reference windows needed for the n-gram null distribution. */
  public static final int MIN_NULL_WINDOWS = 5;

  /** Nothing to say: no scored documents or no scored reference. */
  static SyntheticEstimate undefined(long documents) {
    double nan = Double.NaN;
    return new SyntheticEstimate(documents, nan, 0, nan, nan, nan, nan, nan, nan, nan, nan, nan, false);
  }

  public static SyntheticEstimate of(WindowSummary window, Reference reference, EstimatorConfig config) {
    WindowSummary ref = reference.summaryView();
    double z = Double.NaN;
    double ngramP = Double.NaN;
    long nullWindows = reference.windows(Reference.Stat.WINDOW_LOG_JSD);
    double jsd = Distributions.jsd(window.unigramBigramCounts(), ref.unigramBigramCounts());
    if (nullWindows >= MIN_NULL_WINDOWS && jsd > 0) {
      double sd = reference.windowSd(Reference.Stat.WINDOW_LOG_JSD);
      z = (Math.log(jsd) - reference.windowMean(Reference.Stat.WINDOW_LOG_JSD)) / Math.max(sd, 1e-9);
      // predictive distribution of one more window under a normal with estimated mean and sd
      ngramP = Stats.studentUpperTail(z / Math.sqrt(1 + 1.0 / nullWindows), nullWindows - 1);
    }
    long n = window.scoredDocuments();
    long bigN = ref.scoredDocuments();
    if (n == 0 || bigN == 0) {
      SyntheticEstimate u = undefined(n);
      return new SyntheticEstimate(n, u.cutoffNll, 0, u.humanBelowShare, u.fraction, u.low, u.high,
          u.excessPValue, u.nllKsStatistic, u.nllKsPValue, z, ngramP, false);
    }
    double cutoff;
    long bigK;
    float[] tail = reference.lowTail();
    int wanted = (int) Math.max(1, Math.ceil(config.cutoffQuantile() * bigN));
    if (wanted <= tail.length) {
      // exact: the wanted-th smallest reference document, K = how many are at most it (ties)
      cutoff = tail[wanted - 1];
      int at = wanted;
      while (at < tail.length && tail[at] <= cutoff) {
        at++;
      }
      bigK = at;
    } else {
      cutoff = ref.documentNllQuantile(config.cutoffQuantile());
      bigK = Math.max(1, Math.round(ref.documentNllRank(cutoff, true) * bigN));
    }
    double q = (double) bigK / (bigN + 1);
    int k = (int) Math.round(window.documentNllRank(cutoff, false) * n);
    int nn = (int) Math.min(Integer.MAX_VALUE, n);
    double[] ci = Stats.clopperPearson(k, nn, config.confidence());
    double fraction = clamp(((double) k / n - q) / (1 - q));
    double low = clamp((ci[0] - q) / (1 - q));
    double high = clamp((ci[1] - q) / (1 - q));
    double excessP = Stats.betaBinomialUpperTail(nn, bigK, bigN - bigK + 1, k);
    double d = ksDistance(window, ref);
    double ksP = Stats.ksPValue(d, n, bigN);
    boolean alert = n >= config.minDocuments()
        && ((low > config.alertMinFraction() && excessP <= config.alertAlpha())
            || (ksP <= config.testAlpha() && ngramP <= config.testAlpha()));
    return new SyntheticEstimate(n, cutoff, k, q, fraction, low, high, excessP, d, ksP, z, ngramP, alert);
  }

  /** sup |F_window - F_reference| over the per-document NLLs, at every retained value of either. */
  static double ksDistance(WindowSummary window, WindowSummary reference) {
    double d = 0;
    for (WindowSummary s : new WindowSummary[] {window, reference}) {
      for (float x : s.documentNllItems()) {
        d = Math.max(d, Math.abs(window.documentNllRank(x, true) - reference.documentNllRank(x, true)));
      }
    }
    return d;
  }

  private static double clamp(double v) {
    return Math.max(0, Math.min(1, v));
  }
}
