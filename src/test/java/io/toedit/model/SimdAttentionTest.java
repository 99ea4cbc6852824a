package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link SimdAttention} against a float64 reference, and its invariances. */
class SimdAttentionTest {

  /** Row layout of {@link SimdAttention#attend}: q (heads) | k (kvHeads) | v (kvHeads), hd each. */
  static float[] randomRows(Random rnd, int rows, int heads, int kvHeads, int hd, double scale) {
    float[] x = new float[rows * (heads + 2 * kvHeads) * hd];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (rnd.nextGaussian() * scale);
    }
    return x;
  }

  static double[] reference(float[] x, int b, int t, int[] lengths, int heads, int kvHeads, int hd) {
    return reference(x, b, t, lengths, heads, kvHeads, hd, 0);
  }

  /** Query i sees keys j <= i, and with {@code window > 0} only those with i - j < window (HF Mistral). */
  static double[] reference(float[] x, int b, int t, int[] lengths, int heads, int kvHeads, int hd, int window) {
    int stride = (heads + 2 * kvHeads) * hd;
    double[] out = new double[b * t * heads * hd];
    for (int bi = 0; bi < b; bi++) {
      for (int h = 0; h < heads; h++) {
        int kvh = h / (heads / kvHeads);
        for (int i = 0; i < lengths[bi]; i++) {
          double[] sc = new double[i + 1];
          double max = Double.NEGATIVE_INFINITY;
          int j0 = window > 0 ? Math.max(0, i - window + 1) : 0;
          for (int j = 0; j < j0; j++) {
            sc[j] = Double.NEGATIVE_INFINITY;
          }
          for (int j = j0; j <= i; j++) {
            double d = 0;
            for (int e = 0; e < hd; e++) {
              d += (double) x[(bi * t + i) * stride + h * hd + e] * x[(bi * t + j) * stride + (heads + kvh) * hd + e];
            }
            sc[j] = d;
            max = Math.max(max, d);
          }
          double sum = 0;
          for (int j = 0; j <= i; j++) {
            sc[j] = Math.exp(sc[j] - max);
            sum += sc[j];
          }
          for (int e = 0; e < hd; e++) {
            double acc = 0;
            for (int j = 0; j <= i; j++) {
              acc += sc[j] * x[(bi * t + j) * stride + (heads + kvHeads + kvh) * hd + e];
            }
            out[(bi * t + i) * heads * hd + h * hd + e] = acc / sum;
          }
        }
      }
    }
    return out;
  }

  @ParameterizedTest
  @CsvSource({"8,4,8,1", "8,4,8,300", "4,4,16,77", "6,2,32,129", "2,1,8,17"})
  void shouldMatchAFloat64ReferenceForAnyHeadLayout(int heads, int kvHeads, int hd, int t) {
    Random rnd = new Random(heads * 1000 + t);
    int b = 3;
    int[] lengths = {t, Math.max(1, t / 2), Math.max(1, t - 1)};
    float[] x = randomRows(rnd, b * t, heads, kvHeads, hd, 1.5);
    float[] out = new float[b * t * heads * hd];
    SimdAttention.attend(x, (heads + 2 * kvHeads) * hd, heads * hd, (heads + kvHeads) * hd, b, t, lengths, heads,
        kvHeads, hd, out);
    double[] want = reference(x, b, t, lengths, heads, kvHeads, hd);
    double worst = 0;
    for (int i = 0; i < out.length; i++) {
      worst = Math.max(worst, Math.abs(out[i] - want[i]));
    }
    assertTrue(worst < 2e-5, "max |simd - float64| = " + worst);
    // padded queries are left at zero
    for (int i = lengths[1]; i < t; i++) {
      for (int c = 0; c < heads * hd; c++) {
        assertEquals(0f, out[(t + i) * heads * hd + c]);
      }
    }
  }

  @ParameterizedTest
  @CsvSource({"8,4,8,300,1", "8,4,8,300,7", "8,4,8,300,17", "4,4,16,77,16", "6,2,32,129,40", "2,1,8,17,3",
      "2,1,8,17,17", "2,1,8,40,64"})
  void shouldMatchAFloat64ReferenceWithASlidingWindow(int heads, int kvHeads, int hd, int t, int window) {
    Random rnd = new Random(heads * 1000 + t + 7 * window);
    int b = 3;
    int[] lengths = {t, Math.max(1, t / 2), Math.max(1, t - 1)};
    float[] x = randomRows(rnd, b * t, heads, kvHeads, hd, 1.5);
    float[] out = new float[b * t * heads * hd];
    SimdAttention.attend(x, (heads + 2 * kvHeads) * hd, heads * hd, (heads + kvHeads) * hd, b, t, lengths, heads,
        kvHeads, hd, window, out);
    double[] want = reference(x, b, t, lengths, heads, kvHeads, hd, window);
    double[] causal = reference(x, b, t, lengths, heads, kvHeads, hd, 0);
    double worst = 0;
    double fromCausal = 0;
    for (int i = 0; i < out.length; i++) {
      worst = Math.max(worst, Math.abs(out[i] - want[i]));
      fromCausal = Math.max(fromCausal, Math.abs(out[i] - causal[i]));
    }
    assertTrue(worst < 2e-5, "max |simd - float64| = " + worst);
    assertTrue(window >= t || fromCausal > 1e-3, "the window changes the result: " + fromCausal);
  }

  @ParameterizedTest
  @CsvSource({"37,391", "6,391", "1,20", "300,301"})
  void shouldGiveTheSameBitsAloneAsInAPaddedBatch(int n, int t) {
    int heads = 8;
    int kvHeads = 4;
    int hd = 8;
    int stride = (heads + 2 * kvHeads) * hd;
    Random rnd = new Random(n);
    float[] batch = randomRows(rnd, 2 * t, heads, kvHeads, hd, 2.0);
    float[] outBatch = new float[2 * t * heads * hd];
    SimdAttention.attend(batch, stride, heads * hd, (heads + kvHeads) * hd, 2, t, new int[] {t, n}, heads, kvHeads, hd,
        outBatch);
    float[] alone = Arrays.copyOfRange(batch, t * stride, (t + n) * stride);
    float[] outAlone = new float[n * heads * hd];
    SimdAttention.attend(alone, stride, heads * hd, (heads + kvHeads) * hd, 1, n, new int[] {n}, heads, kvHeads, hd,
        outAlone);
    assertArrayEquals(outAlone, Arrays.copyOfRange(outBatch, t * heads * hd, (t + n) * heads * hd));
  }

  @ParameterizedTest
  @CsvSource({"2,0", "3,0", "2,17", "8,0"})
  void shouldGiveTheSameBitsOnAnyNumberOfThreads(int threads, int window) {
    int heads = 8;
    int kvHeads = 2;
    int hd = 16;
    int t = 213;
    int b = 3;
    int[] lengths = {t, 5, 150};
    int stride = (heads + 2 * kvHeads) * hd;
    float[] x = randomRows(new Random(threads * 31 + window), b * t, heads, kvHeads, hd, 2.0);
    float[] one = new float[b * t * heads * hd];
    SimdAttention.attend(x, stride, heads * hd, (heads + kvHeads) * hd, b, t, lengths, heads, kvHeads, hd, window, one,
        1);
    float[] many = new float[one.length];
    SimdAttention.attend(x, stride, heads * hd, (heads + kvHeads) * hd, b, t, lengths, heads, kvHeads, hd, window, many,
        threads);
    assertArrayEquals(one, many);
    double[] want = reference(x, b, t, lengths, heads, kvHeads, hd, window);
    double worst = 0;
    for (int i = 0; i < many.length; i++) {
      worst = Math.max(worst, Math.abs(many[i] - want[i]));
    }
    assertTrue(worst < 2e-5, "max |simd on " + threads + " threads - float64| = " + worst);
  }

  @org.junit.jupiter.api.Test
  void shouldAddLanesInTheSameOrderInEveryJitTier() {
    // 200k calls: the first ones run interpreted, the last ones C2-compiled; every result must equal the
    // sum in lane order (Java 17) or the fixed tree (later JDKs), bit for bit
    jdk.incubator.vector.VectorSpecies<Float> species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
    int lanes = species.length();
    Random rnd = new Random(5);
    float[] red = new float[lanes];
    for (int k = 0; k < 200_000; k++) {
      float[] a = new float[lanes];
      for (int l = 0; l < lanes; l++) {
        a[l] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
      }
      float want;
      if (SimdAttention.ORDERED_REDUCE_LANES) {
        want = 0f;
        for (int l = 0; l < lanes; l++) {
          want += a[l];
        }
      } else {
        float[] t = a.clone();
        for (int w = lanes / 2; w > 0; w /= 2) {
          for (int i = 0; i < w; i++) {
            t[i] += t[i + w];
          }
        }
        want = t[0];
      }
      float got = SimdAttention.sumLanes(jdk.incubator.vector.FloatVector.fromArray(species, a, 0), red, 0);
      assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), "call " + k);
    }
  }
}
