package io.toedit.drift;

/**
 * The few distribution functions the estimator and the tests need, in plain Java (float64): log
 * gamma, binomial and beta-binomial tails, the Clopper-Pearson interval, the normal tail and the
 * Kolmogorov distribution.
 */
final class Stats {

  private static final double[] LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
      771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
      9.9843695780195716e-6, 1.5056327351493116e-7};

  private Stats() {
  }

  /** ln Gamma(x) for x &gt; 0 (Lanczos, g = 7; relative error about 1e-15). */
  static double logGamma(double x) {
    if (!(x > 0)) {
      throw new IllegalArgumentException("logGamma needs x > 0: " + x);
    }
    if (x < 0.5) {
      return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
    }
    x -= 1;
    double a = LANCZOS[0];
    double t = x + 7.5;
    for (int i = 1; i < LANCZOS.length; i++) {
      a += LANCZOS[i] / (x + i);
    }
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
  }

  /** ln C(n, k). */
  static double logChoose(int n, int k) {
    return logGamma(n + 1.0) - logGamma(k + 1.0) - logGamma(n - k + 1.0);
  }

  /** P(X &gt;= k) for X ~ Binomial(n, p). */
  static double binomialUpperTail(int n, double p, int k) {
    if (k <= 0) {
      return 1;
    }
    if (k > n) {
      return 0;
    }
    if (p <= 0) {
      return 0;
    }
    if (p >= 1) {
      return 1;
    }
    double ratio = Math.log(p) - Math.log1p(-p);
    double term = logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
    double s = 0;
    for (int i = k; i <= n; i++) {
      s += Math.exp(term);
      // log pmf(i + 1) - log pmf(i) = ln((n - i) / (i + 1)) + ln(p / (1 - p))
      term += Math.log((double) (n - i) / (i + 1)) + ratio;
    }
    return Math.min(1, s);
  }

  /** P(X &lt;= k) for X ~ Binomial(n, p). */
  static double binomialLowerTail(int n, double p, int k) {
    return k >= n ? 1 : 1 - binomialUpperTail(n, p, k + 1);
  }

  /**
   * Clopper-Pearson ("exact") interval for a binomial proportion from {@code k} successes in
   * {@code n} trials, two-sided at confidence {@code level}: each side has at most (1 - level) / 2.
   */
  static double[] clopperPearson(int k, int n, double level) {
    double tail = (1 - level) / 2;
    double low = k == 0 ? 0 : solve(p -> binomialUpperTail(n, p, k) - tail);
    double high = k == n ? 1 : solve(p -> tail - binomialLowerTail(n, p, k));
    return new double[] {low, high};
  }

  /** The root in [0, 1] of an increasing function, by bisection to 1e-12. */
  private static double solve(java.util.function.DoubleUnaryOperator f) {
    double lo = 0;
    double hi = 1;
    for (int i = 0; i < 60; i++) {
      double mid = (lo + hi) / 2;
      if (f.applyAsDouble(mid) < 0) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  /**
   * P(X &gt;= k) for X ~ BetaBinomial(n, a, b): a binomial count whose success probability is
   * itself Beta(a, b) distributed.
   */
  static double betaBinomialUpperTail(int n, double a, double b, int k) {
    if (k <= 0) {
      return 1;
    }
    if (k > n) {
      return 0;
    }
    double term = logChoose(n, k) + logBeta(k + a, n - k + b) - logBeta(a, b);
    double s = 0;
    for (int i = k; i <= n; i++) {
      s += Math.exp(term);
      // pmf(i + 1) / pmf(i) = (n - i) / (i + 1) x (i + a) / (n - i - 1 + b)
      term += Math.log((double) (n - i) / (i + 1)) + Math.log((i + a) / (n - i - 1 + b));
    }
    return Math.min(1, s);
  }

  private static double logBeta(double a, double b) {
    return logGamma(a) + logGamma(b) - logGamma(a + b);
  }

  /**
   * Regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz; relative
   * error about 1e-12).
   */
  static double incompleteBeta(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    double front = Math.exp(a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b));
    if (x > (a + 1) / (a + b + 2)) {
      return 1 - front * betaFraction(1 - x, b, a) / b;
    }
    return front * betaFraction(x, a, b) / a;
  }

  private static double betaFraction(double x, double a, double b) {
    double tiny = 1e-300;
    double c = 1;
    double d = 1 - (a + b) * x / (a + 1);
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    double h = d;
    for (int m = 1; m <= 300; m++) {
      int m2 = 2 * m;
      double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      c = Math.abs(c) < tiny ? tiny : c;
      h *= d * c;
      num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      c = Math.abs(c) < tiny ? tiny : c;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-15) {
        break;
      }
    }
    return h;
  }

  /** P(T &gt; t) for Student's t with {@code df} degrees of freedom. */
  static double studentUpperTail(double t, double df) {
    double half = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
    return t >= 0 ? half : 1 - half;
  }

  /** P(Z &gt; z) for a standard normal Z (erfc, absolute error below 1.2e-7). */
  static double normalUpperTail(double z) {
    return 0.5 * erfc(z / Math.sqrt(2));
  }

  /** Complementary error function (Numerical Recipes' Chebyshev fit, fractional error &lt; 1.2e-7). */
  static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
        + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }

  /**
   * P(K &gt; lambda) for the Kolmogorov distribution: 2 sum (-1)^(j-1) exp(-2 j^2 lambda^2),
   * clamped to [0, 1] (1 for small lambda, where the series does not converge).
   */
  static double kolmogorovUpperTail(double lambda) {
    if (lambda < 0.2) {
      return 1;
    }
    double s = 0;
    for (int j = 1; j <= 100; j++) {
      double term = Math.exp(-2.0 * j * j * lambda * lambda);
      s += (j % 2 == 1 ? 1 : -1) * term;
      if (term < 1e-16) {
        break;
      }
    }
    return Math.max(0, Math.min(1, 2 * s));
  }

  /**
   * Asymptotic p-value of the two-sample Kolmogorov-Smirnov statistic {@code d} for sample sizes
   * {@code n} and {@code m}, with Stephens' small-sample correction: lambda = (sqrt(ne) + 0.12 +
   * 0.11 / sqrt(ne)) d, ne = n m / (n + m).
   */
  static double ksPValue(double d, double n, double m) {
    double ne = n * m / (n + m);
    double sq = Math.sqrt(ne);
    return kolmogorovUpperTail((sq + 0.12 + 0.11 / sq) * d);
  }
}
