package io.toedit.drift;

import java.util.Arrays;

/** Divergences and entropies of count vectors over the same buckets, in bits (log base 2). */
final class Distributions {

  private static final double LN2 = Math.log(2);

  private Distributions() {
  }

  static long total(long[] counts) {
    long t = 0;
    for (long c : counts) {
      t += c;
    }
    return t;
  }

  /**
   * Jensen-Shannon divergence base 2, in [0, 1]: H(M) - (H(P) + H(Q)) / 2 with M = (P + Q) / 2,
   * computed term by term as (KL(P||M) + KL(Q||M)) / 2. {@code NaN} if either vector is empty.
   */
  static double jsd(long[] p, long[] q) {
    checkSameLength(p, q);
    double tp = total(p);
    double tq = total(q);
    if (tp == 0 || tq == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      double a = p[i] / tp;
      double b = q[i] / tq;
      double m = (a + b) / 2;
      if (a > 0) {
        sum += a * Math.log(a / m);
      }
      if (b > 0) {
        sum += b * Math.log(b / m);
      }
    }
    return Math.min(1.0, Math.max(0.0, sum / 2 / LN2));
  }

  /**
   * KL(P || Q) in bits with additive (Laplace/Lidstone) smoothing of both sides: every bucket gets
   * {@code alpha} pseudo-counts, so the divergence is finite when Q misses a bucket of P.
   */
  static double klSmoothed(long[] p, long[] q, double alpha) {
    checkSameLength(p, q);
    if (!(alpha > 0)) {
      throw new IllegalArgumentException("smoothing alpha must be > 0: " + alpha);
    }
    double tp = total(p);
    double tq = total(q);
    if (tp == 0 || tq == 0) {
      return Double.NaN;
    }
    double dp = tp + alpha * p.length;
    double dq = tq + alpha * q.length;
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      double a = (p[i] + alpha) / dp;
      double b = (q[i] + alpha) / dq;
      sum += a * Math.log(a / b);
    }
    return Math.max(0.0, sum / LN2);
  }

  /** Shannon entropy in bits; {@code NaN} if empty. */
  static double entropy(long[] counts) {
    double t = total(counts);
    if (t == 0) {
      return Double.NaN;
    }
    double h = 0;
    for (long c : counts) {
      if (c > 0) {
        double x = c / t;
        h -= x * Math.log(x);
      }
    }
    return h / LN2;
  }

  /** Mass share of the {@code ceil(fraction x length)} largest buckets; {@code NaN} if empty. */
  static double topShare(long[] counts, double fraction) {
    long t = total(counts);
    if (t == 0) {
      return Double.NaN;
    }
    int k = Math.max(1, (int) Math.ceil(fraction * counts.length));
    long[] sorted = counts.clone();
    Arrays.sort(sorted);
    long top = 0;
    for (int i = sorted.length - 1; i >= sorted.length - k && i >= 0; i--) {
      top += sorted[i];
    }
    return (double) top / t;
  }

  private static void checkSameLength(long[] p, long[] q) {
    if (p.length != q.length) {
      throw new IllegalArgumentException("distributions must share buckets: " + p.length + " vs " + q.length
          + " (build both summaries with the same SummaryConfig)");
    }
  }
}
