package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The distribution functions against closed forms and published tables. */
class StatsTest {

  @Test
  void shouldMatchClosedFormsOfLogGamma() {
    assertEquals(0.0, Stats.logGamma(1), 1e-13);
    assertEquals(0.0, Stats.logGamma(2), 1e-13);
    assertEquals(Math.log(Math.sqrt(Math.PI)), Stats.logGamma(0.5), 1e-13);
    assertEquals(Math.log(362880.0), Stats.logGamma(10), 1e-12);
    assertEquals(Math.log(3628800.0 * 11 * 12 * 13 * 14 * 15 * 16 * 17 * 18 * 19), Stats.logGamma(20), 1e-10);
  }

  @Test
  void shouldSumBinomialTailsByHand() {
    // Binomial(20, 0.05): P(X >= 3) = 1 - (0.95^20 + 20 0.05 0.95^19 + 190 0.05^2 0.95^18)
    double p = 0.05;
    double expected = 1 - (Math.pow(0.95, 20) + 20 * p * Math.pow(0.95, 19) + 190 * p * p * Math.pow(0.95, 18));
    assertEquals(expected, Stats.binomialUpperTail(20, p, 3), 1e-12);
    assertEquals(1.0, Stats.binomialUpperTail(20, p, 0), 0.0);
    assertEquals(Math.pow(0.05, 20), Stats.binomialUpperTail(20, p, 20), 1e-30);
    // a large window: the tail beyond the mean of Binomial(10000, 0.5) is 0.5 - pmf(5000)/2
    double pmfMode = Math.exp(Stats.logChoose(10_000, 5_000) - 10_000 * Math.log(2));
    assertEquals(0.5 + pmfMode / 2, Stats.binomialUpperTail(10_000, 0.5, 5_000), 1e-9);
  }

  @Test
  void shouldMatchClopperPearsonTables() {
    // k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n)
    assertEquals(1 - Math.pow(0.025, 1 / 20.0), Stats.clopperPearson(0, 20, 0.95)[1], 1e-9);
    assertEquals(0.0, Stats.clopperPearson(0, 20, 0.95)[0], 0.0);
    assertEquals(Math.pow(0.025, 1 / 20.0), Stats.clopperPearson(20, 20, 0.95)[0], 1e-9);
    // 4 of 10 at 95 %: 0.1216 .. 0.7376 (published tables)
    double[] ci = Stats.clopperPearson(4, 10, 0.95);
    assertEquals(0.12155, ci[0], 1e-5);
    assertEquals(0.73763, ci[1], 1e-5);
  }

  @Test
  void shouldGiveBetaBinomialWithUniformPriorAsDiscreteUniform() {
    // BetaBinomial(n, 1, 1) is uniform on 0..n: P(X >= k) = (n - k + 1) / (n + 1)
    assertEquals(15.0 / 21, Stats.betaBinomialUpperTail(20, 1, 1, 6), 1e-12);
    assertEquals(1.0 / 21, Stats.betaBinomialUpperTail(20, 1, 1, 20), 1e-12);
    // with a very concentrated Beta it tends to the binomial
    assertEquals(Stats.binomialUpperTail(20, 0.02, 3), Stats.betaBinomialUpperTail(20, 2e6, 98e6, 3), 1e-6);
  }

  @Test
  void shouldMatchStudentTables() {
    // critical values from t tables: P(T_19 > 2.539) = 0.01, P(T_5 > 2.015) = 0.05, P(T_1 > 1) = 0.25
    assertEquals(0.01, Stats.studentUpperTail(2.539, 19), 1e-4);
    assertEquals(0.05, Stats.studentUpperTail(2.015, 5), 1e-4);
    assertEquals(0.25, Stats.studentUpperTail(1, 1), 1e-12);
    assertEquals(0.75, Stats.studentUpperTail(-1, 1), 1e-12);
    assertEquals(0.5, Stats.studentUpperTail(0, 7), 1e-12);
    // I_x(1, 1) = x; I_x(a, 1) = x^a
    assertEquals(0.3, Stats.incompleteBeta(0.3, 1, 1), 1e-12);
    assertEquals(Math.pow(0.6, 3.5), Stats.incompleteBeta(0.6, 3.5, 1), 1e-12);
  }

  @Test
  void shouldMatchNormalAndKolmogorovTables() {
    assertEquals(0.5, Stats.normalUpperTail(0), 1e-7);
    assertEquals(0.0227501, Stats.normalUpperTail(2), 1e-6);
    assertEquals(0.9772499, Stats.normalUpperTail(-2), 1e-6);
    // Kolmogorov: P(K > 1.358) = 0.05, P(K > 1.628) = 0.01
    assertEquals(0.05, Stats.kolmogorovUpperTail(1.3581), 2e-4);
    assertEquals(0.01, Stats.kolmogorovUpperTail(1.6276), 2e-4);
    assertEquals(1.0, Stats.kolmogorovUpperTail(0.1), 0.0);
  }
}
