package io.toedit.model;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal multi-head (GQA) attention on the CPU in plain Java with the Vector API, for small head
 * dimensions where PyTorch's kernels are at their worst.
 *
 * <p>Why it exists: with {@code head_dim} 8 (stories260k) the {@code q k^T} and {@code p v} products
 * are matrix products with an inner or outer dimension of 8, and the scores make three more passes
 * through memory (mask, softmax, product). Measured on 2 vCPUs (AMD EPYC, AVX-512) for one layer of a
 * 4 x 512 batch, 8 heads: the NDArray path about 15 ms, PyTorch's fused CPU
 * {@code scaled_dot_product_attention} 17 ms, this kernel 4.2 to 6 ms (1.0 to 1.4 ns per score,
 * the same as {@code gcc -O3 -march=native} on the same loop). Per query it makes three vector passes
 * over its keys, all in L1: scores with the running maximum, {@code exp} with the sum, and the
 * probability-weighted sum of values. Padded queries (beyond a row's length) are skipped.
 *
 * <p>Requirements: {@code --add-modules=jdk.incubator.vector} (the launcher adds it, see
 * {@link AttentionKernel#simdAvailable()}; this class must not be touched without it) and {@code head_dim}
 * a multiple of 8. The three pass methods are small on purpose: on JDK 17, C2 sometimes falls back to
 * boxed vectors when they are inlined into a large caller (measured 3-4x slower), so the launcher also
 * passes {@code -XX:CompileCommand=dontinline} for them ({@link AttentionKernel#JIT_FLAGS}); without those
 * flags results are identical, only sometimes slower.
 *
 * <p>Results equal the reference attention to float rounding (the golden tests run through this
 * path). They are bit-for-bit deterministic for a given input on a given CPU: independent of batch
 * composition, thread and JIT state (no SVML calls, lane sums in a fixed order). Machines with another
 * vector width add in another order, as PyTorch's CPU kernels also do.
 */
final class SimdAttention {

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;

  private SimdAttention() {
  }

  /** Per-thread buffers, grown on demand. */
  private static final class Scratch {
    float[] kt = new float[0];
    float[] vt = new float[0];
    float[] s = new float[0];
    float[] s2 = new float[0];
    final float[] red = new float[L + 2];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /**
   * Attention for a right-padded batch.
   *
   * @param x rows {@code [B*T, stride]}: queries (heads x headDim, RoPE applied, pre-scaled by
   *     1/sqrt(headDim)) at column 0, keys (kvHeads x headDim, RoPE applied) at column {@code kOff}, values at
   *     column {@code vOff}
   * @param lengths real tokens per row; queries beyond are left at 0 in {@code out}
   * @param out rows {@code [B*T, heads*headDim]}, head-major within a row (the o_proj input layout)
   */
  static void attend(float[] x, int stride, int kOff, int vOff, int b, int t, int[] lengths, int heads,
      int kvHeads, int hd, float[] out) {
    attend(x, stride, kOff, vOff, b, t, lengths, heads, kvHeads, hd, 0, out);
  }

  /**
   * {@link #attend(float[], int, int, int, int, int, int[], int, int, int, float[])} with a sliding window:
   * the query at position i sees the keys j with {@code i - window < j <= i} ({@code window} keys, itself
   * included; Hugging Face Mistral's mask); {@code window <= 0} is plain causal attention.
   */
  static void attend(float[] x, int stride, int kOff, int vOff, int b, int t, int[] lengths, int heads,
      int kvHeads, int hd, int window, float[] out) {
    attend(x, stride, kOff, vOff, b, t, lengths, heads, kvHeads, hd, window, out, 1);
  }

  /**
   * {@link #attend(float[], int, int, int, int, int, int[], int, int, int, int, float[])} on up to {@code threads}
   * threads: the calling thread and {@code threads - 1} of a shared daemon pool take (row, kv head) units in
   * turn from a counter. Each unit writes its own part of {@code out} with exactly the single-threaded
   * arithmetic, so the result is bit-identical for any thread count. With one worker of several intra-op
   * threads (large models), this is the part of a pass that would otherwise run on one core while PyTorch's
   * threads wait.
   */
  static void attend(float[] x, int stride, int kOff, int vOff, int b, int t, int[] lengths, int heads,
      int kvHeads, int hd, int window, float[] out, int threads) {
    int units = b * kvHeads;
    if (threads <= 1 || units < 2) {
      Scratch sc = SCRATCH.get();
      for (int u = 0; u < units; u++) {
        unit(x, stride, kOff, vOff, t, lengths, heads, kvHeads, hd, window, out, u / kvHeads, u % kvHeads, sc);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger();
    Runnable drain = () -> {
      Scratch sc = SCRATCH.get();
      for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
        unit(x, stride, kOff, vOff, t, lengths, heads, kvHeads, hd, window, out, u / kvHeads, u % kvHeads, sc);
      }
    };
    int helpers = Math.min(threads, units) - 1;
    Future<?>[] running = new Future<?>[helpers];
    for (int i = 0; i < helpers; i++) {
      running[i] = POOL.submit(drain);
    }
    Throwable failed = null;
    try {
      drain.run();
    } catch (RuntimeException | Error e) {
      failed = e;
      next.set(units);                                                  // the helpers stop at their next unit
    }
    for (Future<?> f : running) {
      try {
        f.get();
      } catch (ExecutionException e) {
        failed = failed != null ? failed : e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failed = failed != null ? failed : e;
      }
    }
    if (failed instanceof RuntimeException r) {
      throw r;
    } else if (failed instanceof Error e) {
      throw e;
    } else if (failed != null) {
      throw new IllegalStateException("attention interrupted", failed);
    }
  }

  /** Daemon threads that help {@link #attend} on several cores; idle ones end after a minute. */
  private static final AtomicInteger POOL_THREADS = new AtomicInteger();
  private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
    Thread th = new Thread(r, "toedit-attention-" + POOL_THREADS.incrementAndGet());
    th.setDaemon(true);
    return th;
  });

  /** Row {@code bi}, kv head {@code kvh} and its query heads. */
  private static void unit(float[] x, int stride, int kOff, int vOff, int t, int[] lengths, int heads, int kvHeads,
      int hd, int window, float[] out, int bi, int kvh, Scratch sc) {
    int n = Math.min(t, lengths[bi]);
    if (n <= 0) {
      return;
    }
    int group = heads / kvHeads;
    int width = heads * hd;
    int tp = (n + L - 1) / L * L;
    if (sc.kt.length < hd * tp) {                                        // per-thread: sized by the largest call
      sc.kt = new float[hd * tp];
      sc.vt = new float[hd * tp];
    }
    if (sc.s.length < tp) {                                             // (another model's head_dim may differ)
      sc.s = new float[tp];
      sc.s2 = new float[tp];
    }
    float[] kt = sc.kt;
    float[] vt = sc.vt;
    int row0 = bi * t;
    // keys and values of this head, transposed to [hd][tp]; the tail columns [n, tp) are zero
    for (int j = 0; j < n; j++) {
      int src = (row0 + j) * stride;
      for (int d = 0; d < hd; d++) {
        kt[d * tp + j] = x[src + kOff + kvh * hd + d];
        vt[d * tp + j] = x[src + vOff + kvh * hd + d];
      }
    }
    for (int d = 0; d < hd; d++) {
      java.util.Arrays.fill(kt, d * tp + n, d * tp + tp, 0f);
      java.util.Arrays.fill(vt, d * tp + n, d * tp + tp, 0f);
    }
    int h = kvh * group;
    for (; h + 1 < (kvh + 1) * group; h += 2) {
      // two query heads of one group share every key and value load
      for (int i = 0; i < n; i++) {
        queryPair(x, (row0 + i) * stride + h * hd, kt, vt, tp, hd, first(i, window), i + 1, sc.s, sc.s2,
            sc.red, out, (row0 + i) * width + h * hd);
      }
    }
    for (; h < (kvh + 1) * group; h++) {
      for (int i = 0; i < n; i++) {
        query(x, (row0 + i) * stride + h * hd, kt, vt, tp, hd, first(i, window), i + 1, sc.s, sc.red, out,
            (row0 + i) * width + h * hd);
      }
    }
  }

  /** The first key the query at position i sees: 0, or i - window + 1 under a sliding window. */
  static int first(int i, int window) {
    return window > 0 ? Math.max(0, i + 1 - window) : 0;
  }

  /**
   * The scores of keys [first, keys) are computed from the vector block holding {@code first}
   * ({@code base}, a multiple of L, so every load stays within the row's [0, tp)); entries [base, first) are
   * masked like the keys after the query, and the maximum is taken again over the keys seen. With
   * {@code first == 0} this is exactly the causal computation.
   */
  private static float maskFront(float[] s, int lead, int seen, float max) {
    if (lead == 0) {
      return max;
    }
    float m = Float.NEGATIVE_INFINITY;
    for (int j = lead; j < seen; j++) {
      m = Math.max(m, s[j]);
    }
    for (int j = 0; j < lead; j++) {
      s[j] = Float.NEGATIVE_INFINITY;                                   // keys before the window: masked
    }
    return m;
  }

  /** One query over keys [first, keys): softmax(q k^T) v into out[o, o + hd). */
  private static void query(float[] x, int qo, float[] kt, float[] vt, int tp, int hd, int first, int keys,
      float[] s, float[] red, float[] out, int o) {
    int base = first / L * L;
    int seen = keys - base;                                             // s[j] is the score of key base + j
    int full = seen / L * L;
    int nv = (seen + L - 1) / L * L;
    float max = Float.NEGATIVE_INFINITY;
    for (int d0 = 0; d0 < hd; d0 += 8) {
      max = scores8(x, qo + d0, kt, d0 * tp + base, tp, s, full, nv, d0 > 0, d0 + 8 >= hd);
    }
    for (int j = full; j < seen; j++) {
      max = Math.max(max, s[j]);
    }
    for (int j = seen; j < nv; j++) {
      s[j] = Float.NEGATIVE_INFINITY;                                   // later keys: masked
    }
    max = maskFront(s, first - base, seen, max);
    float inv = 1f / expSum(s, nv, max, red);
    for (int d0 = 0; d0 < hd; d0 += 8) {
      weighted8(s, vt, d0 * tp + base, tp, nv, out, o + d0, inv, red);
    }
  }

  /**
   * {@link #query} for two heads at once: head B's query starts {@code hd} floats after head A's in
   * {@code x} and in {@code out}. Each head's arithmetic is exactly that of {@link #query}.
   */
  private static void queryPair(float[] x, int qo, float[] kt, float[] vt, int tp, int hd, int first, int keys,
      float[] sa, float[] sb, float[] red, float[] out, int o) {
    int base = first / L * L;
    int seen = keys - base;
    int full = seen / L * L;
    int nv = (seen + L - 1) / L * L;
    for (int d0 = 0; d0 < hd; d0 += 8) {
      scores8x2(x, qo + d0, qo + hd + d0, kt, d0 * tp + base, tp, sa, sb, full, nv, d0 > 0, d0 + 8 >= hd, red);
    }
    float maxA = red[L];
    float maxB = red[L + 1];
    for (int j = full; j < seen; j++) {
      maxA = Math.max(maxA, sa[j]);
      maxB = Math.max(maxB, sb[j]);
    }
    for (int j = seen; j < nv; j++) {
      sa[j] = Float.NEGATIVE_INFINITY;
      sb[j] = Float.NEGATIVE_INFINITY;
    }
    maxA = maskFront(sa, first - base, seen, maxA);
    maxB = maskFront(sb, first - base, seen, maxB);
    float invA = 1f / expSum(sa, nv, maxA, red);
    float invB = 1f / expSum(sb, nv, maxB, red);
    for (int d0 = 0; d0 < hd; d0 += 8) {
      weighted8x2(sa, sb, vt, d0 * tp + base, tp, nv, out, o + d0, o + hd + d0, invA, invB, red);
    }
  }

  /** {@link #scores8} for two queries; when {@code last}, their maxima over [0, full) go to red[L] and red[L + 1]. */
  static void scores8x2(float[] q, int qa, int qb, float[] kt, int k0, int tp, float[] sa, float[] sb, int full,
      int nv, boolean accumulate, boolean last, float[] red) {
    FloatVector a0 = FloatVector.broadcast(S, q[qa]);
    FloatVector a1 = FloatVector.broadcast(S, q[qa + 1]);
    FloatVector a2 = FloatVector.broadcast(S, q[qa + 2]);
    FloatVector a3 = FloatVector.broadcast(S, q[qa + 3]);
    FloatVector a4 = FloatVector.broadcast(S, q[qa + 4]);
    FloatVector a5 = FloatVector.broadcast(S, q[qa + 5]);
    FloatVector a6 = FloatVector.broadcast(S, q[qa + 6]);
    FloatVector a7 = FloatVector.broadcast(S, q[qa + 7]);
    FloatVector b0 = FloatVector.broadcast(S, q[qb]);
    FloatVector b1 = FloatVector.broadcast(S, q[qb + 1]);
    FloatVector b2 = FloatVector.broadcast(S, q[qb + 2]);
    FloatVector b3 = FloatVector.broadcast(S, q[qb + 3]);
    FloatVector b4 = FloatVector.broadcast(S, q[qb + 4]);
    FloatVector b5 = FloatVector.broadcast(S, q[qb + 5]);
    FloatVector b6 = FloatVector.broadcast(S, q[qb + 6]);
    FloatVector b7 = FloatVector.broadcast(S, q[qb + 7]);
    FloatVector mxa = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    FloatVector mxb = mxa;
    for (int j = 0; j < nv; j += L) {
      boolean whole = j < full;
      FloatVector k0v = FloatVector.fromArray(S, kt, k0 + j);
      FloatVector k1v = FloatVector.fromArray(S, kt, k0 + tp + j);
      FloatVector k2v = FloatVector.fromArray(S, kt, k0 + 2 * tp + j);
      FloatVector k3v = FloatVector.fromArray(S, kt, k0 + 3 * tp + j);
      FloatVector k4v = FloatVector.fromArray(S, kt, k0 + 4 * tp + j);
      FloatVector k5v = FloatVector.fromArray(S, kt, k0 + 5 * tp + j);
      FloatVector k6v = FloatVector.fromArray(S, kt, k0 + 6 * tp + j);
      FloatVector k7v = FloatVector.fromArray(S, kt, k0 + 7 * tp + j);
      FloatVector a = k0v.mul(a0).add(k1v.mul(a1)).add(k2v.mul(a2)).add(k3v.mul(a3))
          .add(k4v.mul(a4)).add(k5v.mul(a5)).add(k6v.mul(a6)).add(k7v.mul(a7));
      FloatVector b = k0v.mul(b0).add(k1v.mul(b1)).add(k2v.mul(b2)).add(k3v.mul(b3))
          .add(k4v.mul(b4)).add(k5v.mul(b5)).add(k6v.mul(b6)).add(k7v.mul(b7));
      if (accumulate) {
        a = a.add(FloatVector.fromArray(S, sa, j));
        b = b.add(FloatVector.fromArray(S, sb, j));
      }
      a.intoArray(sa, j);
      b.intoArray(sb, j);
      if (!whole) {
        break;                                                          // the partial last block: no max
      }
      if (last) {
        mxa = mxa.max(a);
        mxb = mxb.max(b);
      }
    }
    if (last) {
      red[L] = mxa.reduceLanes(VectorOperators.MAX);
      red[L + 1] = mxb.reduceLanes(VectorOperators.MAX);
    }
  }

  /** {@link #weighted8} for two probability rows over the same values. */
  static void weighted8x2(float[] sa, float[] sb, float[] vt, int v0, int tp, int nv, float[] out, int oa, int ob,
      float invA, float invB, float[] red) {
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    FloatVector b0 = a0;
    FloatVector b1 = a0;
    FloatVector b2 = a0;
    FloatVector b3 = a0;
    FloatVector b4 = a0;
    FloatVector b5 = a0;
    FloatVector b6 = a0;
    FloatVector b7 = a0;
    for (int j = 0; j < nv; j += L) {
      FloatVector p = FloatVector.fromArray(S, sa, j);
      FloatVector r = FloatVector.fromArray(S, sb, j);
      FloatVector v = FloatVector.fromArray(S, vt, v0 + j);
      a0 = v.fma(p, a0);
      b0 = v.fma(r, b0);
      v = FloatVector.fromArray(S, vt, v0 + tp + j);
      a1 = v.fma(p, a1);
      b1 = v.fma(r, b1);
      v = FloatVector.fromArray(S, vt, v0 + 2 * tp + j);
      a2 = v.fma(p, a2);
      b2 = v.fma(r, b2);
      v = FloatVector.fromArray(S, vt, v0 + 3 * tp + j);
      a3 = v.fma(p, a3);
      b3 = v.fma(r, b3);
      v = FloatVector.fromArray(S, vt, v0 + 4 * tp + j);
      a4 = v.fma(p, a4);
      b4 = v.fma(r, b4);
      v = FloatVector.fromArray(S, vt, v0 + 5 * tp + j);
      a5 = v.fma(p, a5);
      b5 = v.fma(r, b5);
      v = FloatVector.fromArray(S, vt, v0 + 6 * tp + j);
      a6 = v.fma(p, a6);
      b6 = v.fma(r, b6);
      v = FloatVector.fromArray(S, vt, v0 + 7 * tp + j);
      a7 = v.fma(p, a7);
      b7 = v.fma(r, b7);
    }
    out[oa] = sumLanes(a0, red, 0) * invA;
    out[oa + 1] = sumLanes(a1, red, 0) * invA;
    out[oa + 2] = sumLanes(a2, red, 0) * invA;
    out[oa + 3] = sumLanes(a3, red, 0) * invA;
    out[oa + 4] = sumLanes(a4, red, 0) * invA;
    out[oa + 5] = sumLanes(a5, red, 0) * invA;
    out[oa + 6] = sumLanes(a6, red, 0) * invA;
    out[oa + 7] = sumLanes(a7, red, 0) * invA;
    out[ob] = sumLanes(b0, red, 0) * invB;
    out[ob + 1] = sumLanes(b1, red, 0) * invB;
    out[ob + 2] = sumLanes(b2, red, 0) * invB;
    out[ob + 3] = sumLanes(b3, red, 0) * invB;
    out[ob + 4] = sumLanes(b4, red, 0) * invB;
    out[ob + 5] = sumLanes(b5, red, 0) * invB;
    out[ob + 6] = sumLanes(b6, red, 0) * invB;
    out[ob + 7] = sumLanes(b7, red, 0) * invB;
  }

  /**
   * Scores of 8 query dimensions against keys [0, nv) (nv a multiple of the vector length, the last block
   * partly beyond the query's keys: the caller masks it), added to {@code s} when {@code accumulate};
   * returns the maximum over [0, full), the whole blocks, when {@code last} (the last group of dimensions: then
   * these are the complete scores; earlier groups' partial sums need no maximum, and -infinity is returned).
   */
  static float scores8(float[] q, int qo, float[] kt, int k0, int tp, float[] s, int full, int nv,
      boolean accumulate, boolean last) {
    FloatVector q0 = FloatVector.broadcast(S, q[qo]);
    FloatVector q1 = FloatVector.broadcast(S, q[qo + 1]);
    FloatVector q2 = FloatVector.broadcast(S, q[qo + 2]);
    FloatVector q3 = FloatVector.broadcast(S, q[qo + 3]);
    FloatVector q4 = FloatVector.broadcast(S, q[qo + 4]);
    FloatVector q5 = FloatVector.broadcast(S, q[qo + 5]);
    FloatVector q6 = FloatVector.broadcast(S, q[qo + 6]);
    FloatVector q7 = FloatVector.broadcast(S, q[qo + 7]);
    FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    for (int j = 0; j < nv; j += L) {
      boolean whole = j < full;
      FloatVector a = FloatVector.fromArray(S, kt, k0 + j).mul(q0)
          .add(FloatVector.fromArray(S, kt, k0 + tp + j).mul(q1))
          .add(FloatVector.fromArray(S, kt, k0 + 2 * tp + j).mul(q2))
          .add(FloatVector.fromArray(S, kt, k0 + 3 * tp + j).mul(q3))
          .add(FloatVector.fromArray(S, kt, k0 + 4 * tp + j).mul(q4))
          .add(FloatVector.fromArray(S, kt, k0 + 5 * tp + j).mul(q5))
          .add(FloatVector.fromArray(S, kt, k0 + 6 * tp + j).mul(q6))
          .add(FloatVector.fromArray(S, kt, k0 + 7 * tp + j).mul(q7));
      if (accumulate) {
        a = a.add(FloatVector.fromArray(S, s, j));
      }
      a.intoArray(s, j);
      if (!whole) {
        break;                                                          // the partial last block: no max
      }
      if (last) {
        mx = mx.max(a);
      }
    }
    return last ? mx.reduceLanes(VectorOperators.MAX) : Float.NEGATIVE_INFINITY;
  }

  /**
   * s[j] = exp(s[j] - max) for j < nv (a multiple of the vector length); returns the sum, added in a fixed
   * order. {@code exp} is Cephes' single-precision polynomial (relative error under 1e-7; arguments below
   * -87 give exp(-87) ~ 1.6e-38 instead of less) written with lane-wise IEEE operations only, so every JIT
   * tier and the interpreter give the same bits. {@code VectorOperators.EXP} does not: compiled code calls
   * SVML, the fallback calls {@code Math.exp}, and scores would depend on warm-up.
   */
  static float expSum(float[] s, int nv, float max, float[] red) {
    FloatVector shift = FloatVector.broadcast(S, max);
    FloatVector lo = FloatVector.broadcast(S, -87f);
    FloatVector log2e = FloatVector.broadcast(S, 1.44269504f);
    FloatVector magic = FloatVector.broadcast(S, 12582912f);     // 1.5 * 2^23: x + magic rounds x to an integer
    FloatVector ln2hi = FloatVector.broadcast(S, -0.693359375f);
    FloatVector ln2lo = FloatVector.broadcast(S, 2.12194440e-4f);
    FloatVector c0 = FloatVector.broadcast(S, 1.9875691500e-4f);
    FloatVector c1 = FloatVector.broadcast(S, 1.3981999507e-3f);
    FloatVector c2 = FloatVector.broadcast(S, 8.3334519073e-3f);
    FloatVector c3 = FloatVector.broadcast(S, 4.1665795894e-2f);
    FloatVector c4 = FloatVector.broadcast(S, 1.6666665459e-1f);
    FloatVector c5 = FloatVector.broadcast(S, 5.0000001201e-1f);
    FloatVector one = FloatVector.broadcast(S, 1f);
    IntVector bias = IntVector.broadcast(I, 127 - 0x4B400000);     // exponent bias minus magic's bit pattern
    FloatVector sum = FloatVector.zero(S);
    for (int j = 0; j < nv; j += L) {
      FloatVector x = FloatVector.fromArray(S, s, j).sub(shift).max(lo);
      FloatVector nm = x.fma(log2e, magic);                        // magic + round(x / ln2)
      FloatVector n = nm.sub(magic);
      FloatVector r = n.fma(ln2hi, x).add(n.mul(ln2lo));           // x - n ln2, in two parts
      FloatVector p = c0.fma(r, c1).fma(r, c2).fma(r, c3).fma(r, c4).fma(r, c5).fma(r.mul(r), r).add(one);
      FloatVector pow2n = nm.reinterpretAsInts().add(bias).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
      FloatVector e = p.mul(pow2n);
      e.intoArray(s, j);
      sum = sum.add(e);
    }
    return sumLanes(sum, red, 0);
  }

  /**
   * On Java 17 {@code reduceLanes(ADD)} adds the lanes in lane order, compiled (C2 emits an ordered chain
   * of scalar additions) and interpreted alike; {@code SimdAttentionTest} checks that on the running JVM.
   * Later JDKs let C2 add in a tree while the interpreter still goes in order, so there the lanes are
   * added here, in a fixed pairwise tree.
   */
  static final boolean ORDERED_REDUCE_LANES = Runtime.version().feature() == 17;

  /** The lanes of v added in a fixed order, whatever the JIT tier. */
  static float sumLanes(FloatVector v, float[] red, int at) {
    if (ORDERED_REDUCE_LANES) {
      return v.reduceLanes(VectorOperators.ADD);
    }
    v.intoArray(red, at);
    for (int w = L >> 1; w > 0; w >>= 1) {
      for (int i = 0; i < w; i++) {
        red[at + i] += red[at + i + w];
      }
    }
    return red[at];
  }

  /** out[o + d] = inv * sum_j s[j] vt[v0 + d*tp + j] for d < 8, j < nv. */
  static void weighted8(float[] s, float[] vt, int v0, int tp, int nv, float[] out, int o, float inv, float[] red) {
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    for (int j = 0; j < nv; j += L) {
      FloatVector p = FloatVector.fromArray(S, s, j);
      a0 = FloatVector.fromArray(S, vt, v0 + j).fma(p, a0);
      a1 = FloatVector.fromArray(S, vt, v0 + tp + j).fma(p, a1);
      a2 = FloatVector.fromArray(S, vt, v0 + 2 * tp + j).fma(p, a2);
      a3 = FloatVector.fromArray(S, vt, v0 + 3 * tp + j).fma(p, a3);
      a4 = FloatVector.fromArray(S, vt, v0 + 4 * tp + j).fma(p, a4);
      a5 = FloatVector.fromArray(S, vt, v0 + 5 * tp + j).fma(p, a5);
      a6 = FloatVector.fromArray(S, vt, v0 + 6 * tp + j).fma(p, a6);
      a7 = FloatVector.fromArray(S, vt, v0 + 7 * tp + j).fma(p, a7);
    }
    out[o] = sumLanes(a0, red, 0) * inv;
    out[o + 1] = sumLanes(a1, red, 0) * inv;
    out[o + 2] = sumLanes(a2, red, 0) * inv;
    out[o + 3] = sumLanes(a3, red, 0) * inv;
    out[o + 4] = sumLanes(a4, red, 0) * inv;
    out[o + 5] = sumLanes(a5, red, 0) * inv;
    out[o + 6] = sumLanes(a6, red, 0) * inv;
    out[o + 7] = sumLanes(a7, red, 0) * inv;
  }
}
