package io.toedit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;

/**
 * One {@link AttentionKernel} bound to one model: turns the fused projection's output (q | k | v rows, see
 * {@link #rotatedRows()}) into the attention output {@code [N, heads*headDim]}, applying the family's
 * per-head q/k RMSNorm ({@code qwen3}) and RoPE on the way. {@link AttentionKernel#bind} is the one place
 * that picks the implementation; the forward pass only calls {@link #begin} and {@link Pass#attend}.
 *
 * <p>RoPE tables are {@code [rows, headDim]} for the rows of the scoring window actually used (not
 * {@code max_position_embeddings}), computed in double.
 *
 * <p>Sliding window ({@link #slide}): every kernel masks, in every layer, the keys j of the query at position
 * i outside {@code i - slide < j <= i}, as Hugging Face's Mistral does ({@code masking_utils}:
 * {@code kv_idx > q_idx - sliding_window} and {@code kv_idx <= q_idx}). It changes nothing for positions
 * below {@code slide}; the simd kernel takes its plain causal path in passes no longer than {@code slide}.
 */
abstract class Attention implements AutoCloseable {

  final LlamaConfig cfg;
  final NDManager base;
  final int tableRows;
  final float[] ropeCos;          // [tableRows, headDim]
  final float[] ropeSin;
  final float[][] qGain;          // per layer: q_norm gain x 1/sqrt(headDim) (qwen3), else null
  final float[][] kGain;
  /** Keys a query sees at most, itself included, in every layer; 0 = plain causal attention. */
  final int slide;
  /** Threads one pass's attention may use (the worker's intra-op threads); only the simd kernel uses more than 1. */
  volatile int threads = 1;

  /** One forward pass: state shared by all layers (table slices, masks). */
  interface Pass {
    /** {@code qkv [N, width]} in, {@code [N, heads*headDim]} out, attached to {@code qkv}'s manager. */
    NDArray attend(NDArray qkv, int layer);
  }

  Attention(LlamaConfig cfg, NDManager base, int tableRows) {
    this.cfg = cfg;
    this.base = base;
    this.tableRows = tableRows;
    int hd = cfg.headDim();
    double[] inv = cfg.inverseFrequencies();
    ropeCos = new float[tableRows * hd];
    ropeSin = new float[tableRows * hd];
    for (int pos = 0; pos < tableRows; pos++) {
      for (int j = 0; j < hd; j++) {
        double angle = pos * inv[j % (hd / 2)];          // pair (i, i + hd/2) rotates by pos * invFreq[i]
        ropeCos[pos * hd + j] = (float) Math.cos(angle);
        ropeSin[pos * hd + j] = (float) Math.sin(angle);
      }
    }
    qGain = new float[cfg.numLayers()][];
    kGain = new float[cfg.numLayers()][];
    slide = slidingMask(cfg);
  }

  /**
   * The sliding window the kernels apply to every layer: {@code sliding_window} for {@code mistral}, else 0.
   * ({@code qwen2} with {@code use_sliding_window} slides only in the layers from {@code max_window_layers}
   * on; it is not masked here, and {@link DjlScorer#window} keeps its scoring window within the sliding
   * window, where both are plain causal attention.)
   */
  static int slidingMask(LlamaConfig cfg) {
    return "mistral".equals(cfg.modelType()) ? cfg.slidingWindow() : 0;
  }

  /** The window to mask a pass of {@code t} positions with: 0 when the pass fits within it (same result). */
  int slideFor(int t) {
    return slide > 0 && t > slide ? slide : 0;
  }

  /**
   * Whether the fused projection also yields {@code rotate_half(q) | rotate_half(k)} rows after q | k, so that
   * RoPE is {@code qk * cos + qkRot * sin}. Otherwise its rows are q | k | v.
   */
  abstract boolean rotatedRows();

  /** The q/k RMSNorm gains of a layer ({@code qwen3}); {@code q} already includes the attention scale. */
  void setQkNorm(int layer, float[] q, float[] k) {
    qGain[layer] = q;
    kGain[layer] = k;
  }

  abstract Pass begin(NDManager m, int b, int t, int[] lengths, long budget);

  @Override
  public void close() {
  }

  /** Width of the fused projection's output. */
  int width() {
    int a = (cfg.numHeads() + cfg.numKvHeads()) * cfg.headDim();
    return (rotatedRows() ? 2 * a : a) + cfg.numKvHeads() * cfg.headDim();
  }

  // ---------------------------------------------------------------------------------------------------------

  /** {@link SimdAttention} on a host copy: q/k norm and RoPE applied here, in the layout it expects. */
  static final class Simd extends Attention {

    Simd(LlamaConfig cfg, NDManager base, int tableRows) {
      super(cfg, base, tableRows);
    }

    @Override
    boolean rotatedRows() {
      return false;
    }

    @Override
    Pass begin(NDManager m, int b, int t, int[] lengths, long budget) {
      return (qkv, layer) -> attend(qkv.getManager(), qkv, layer, b, t, lengths);
    }

    private NDArray attend(NDManager m, NDArray qkv, int layer, int b, int t, int[] lengths) {
      int hd = cfg.headDim();
      int nh = cfg.numHeads();
      int nkv = cfg.numKvHeads();
      int stride = (nh + 2 * nkv) * hd;
      float[] host = qkv.toFloatArray();                                // [B, T, q | k | v]
      int half = hd / 2;
      float[] qg = qGain[layer];
      float[] kg = kGain[layer];
      float eps = (float) cfg.rmsNormEps();
      for (int bi = 0; bi < b; bi++) {
        for (int pos = 0; pos < Math.min(t, lengths[bi]); pos++) {
          int row = (bi * t + pos) * stride;
          int tab = pos * hd;
          for (int head = 0; head < nh + nkv; head++) {
            int o = row + head * hd;
            if (qg != null) {
              float[] g = head < nh ? qg : kg;
              float ss = 0;
              for (int j = 0; j < hd; j++) {
                ss += host[o + j] * host[o + j];
              }
              float r = (float) (1.0 / Math.sqrt(ss / hd + eps));
              for (int j = 0; j < hd; j++) {
                host[o + j] = host[o + j] * r * g[j];
              }
            }
            for (int j = 0; j < half; j++) {
              float x1 = host[o + j];
              float x2 = host[o + j + half];
              host[o + j] = x1 * ropeCos[tab + j] + (-x2) * ropeSin[tab + j];
              host[o + j + half] = x2 * ropeCos[tab + j + half] + x1 * ropeSin[tab + j + half];
            }
          }
        }
      }
      float[] out = new float[b * t * nh * hd];
      SimdAttention.attend(host, stride, nh * hd, (nh + nkv) * hd, b, t, lengths, nh, nkv, hd, slideFor(t), out,
          threads);
      return m.create(FloatBuffer.wrap(out), new Shape((long) b * t, (long) nh * hd));
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  /** Kernels on NDArrays: q/k norm and RoPE as tensor operations, then {@link #attend(NDArray, NDArray, Ctx)}. */
  abstract static class OnTensors extends Attention {

    private final NDArray cos;        // [tableRows, hd]
    private final NDArray sin;
    private final NDArray meanColumn; // [hd, 1] of 1/hd (a matrix product keeps the sum order batch-invariant)
    private final NDArray[] qGainT;
    private final NDArray[] kGainT;

    OnTensors(LlamaConfig cfg, NDManager base, int tableRows) {
      super(cfg, base, tableRows);
      int hd = cfg.headDim();
      cos = base.create(FloatBuffer.wrap(ropeCos), new Shape(tableRows, hd));
      sin = base.create(FloatBuffer.wrap(ropeSin), new Shape(tableRows, hd));
      float[] col = new float[hd];
      java.util.Arrays.fill(col, 1f / hd);
      meanColumn = base.create(FloatBuffer.wrap(col), new Shape(hd, 1));
      qGainT = new NDArray[cfg.numLayers()];
      kGainT = new NDArray[cfg.numLayers()];
    }

    @Override
    boolean rotatedRows() {
      return !cfg.qkNorm();
    }

    @Override
    void setQkNorm(int layer, float[] q, float[] k) {
      super.setQkNorm(layer, q, k);
      qGainT[layer] = base.create(q);
      kGainT[layer] = base.create(k);
    }

    /** Per-pass state of a tensor kernel. */
    static final class Ctx {
      final NDManager m;
      final int b;
      final int t;
      final long budget;
      Object state;                   // the subclass's per-pass state (masks)

      Ctx(NDManager m, int b, int t, long budget) {
        this.m = m;
        this.b = b;
        this.t = t;
        this.budget = budget;
      }
    }

    @Override
    Pass begin(NDManager m, int b, int t, int[] lengths, long budget) {
      Ctx ctx = new Ctx(m, b, t, budget);
      int hd = cfg.headDim();
      NDIndex rows = new NDIndex().addSliceDim(0, t);
      NDArray cosT = cos.get(m, rows).reshape(1, t, 1, hd);
      NDArray sinT = sin.get(m, rows).reshape(1, t, 1, hd);
      prepare(ctx);
      return (qkv, layer) -> {
        int nh = cfg.numHeads();
        int nkv = cfg.numKvHeads();
        int a = (nh + nkv) * hd;
        NDArray y = qkv.reshape(b, t, width());
        NDArray qk = y.get(new NDIndex().addAllDim(2).addSliceDim(0, a)).reshape(b, t, nh + nkv, hd);
        NDArray rot;
        if (rotatedRows()) {
          rot = y.get(new NDIndex().addAllDim(2).addSliceDim(a, 2 * a)).reshape(b, t, nh + nkv, hd);
        } else {
          NDArray q = norm(qk.get(new NDIndex().addAllDim(2).addSliceDim(0, nh)), qGainT[layer]);
          NDArray k = norm(qk.get(new NDIndex().addAllDim(2).addSliceDim(nh, nh + nkv)), kGainT[layer]);
          qk = q.concat(k, 2);
          int half = hd / 2;
          rot = qk.get(new NDIndex().addAllDim(3).addSliceDim(half, hd)).neg()
              .concat(qk.get(new NDIndex().addAllDim(3).addSliceDim(0, half)), 3);
        }
        qk = qk.mul(cosT).add(rot.mul(sinT)).reshape(b, t, a);                 // [B, T, q | k]
        NDArray v = y.get(new NDIndex().addAllDim(2).addSliceDim(width() - nkv * hd, width())); // [B, T, Dkv]
        return attend(qk, v, ctx);
      };
    }

    private NDArray norm(NDArray x, NDArray gain) {
      if (gain == null) {
        return x;
      }
      return x.mul(x.square().matMul(meanColumn).add((float) cfg.rmsNormEps()).pow(-0.5f)).mul(gain);
    }

    /** Per-pass state (masks) shared by the layers. */
    void prepare(Ctx ctx) {
    }

    /** qk {@code [B, T, q | k]} with RoPE applied (q scaled), v {@code [B, T, Dkv]}; returns {@code [N, heads*hd]}. */
    abstract NDArray attend(NDArray qk, NDArray v, Ctx ctx);
  }

  // ---------------------------------------------------------------------------------------------------------

  /** PyTorch's fused causal attention on the model's device ({@link SdpaAttention}). */
  static final class Sdpa extends OnTensors {

    private final SdpaAttention sdpa;

    Sdpa(LlamaConfig cfg, NDManager base, int tableRows) {
      super(cfg, base, tableRows);
      sdpa = new SdpaAttention(base);
    }

    @Override
    NDArray attend(NDArray qk, NDArray v, Ctx c) {
      int hd = cfg.headDim();
      int nh = cfg.numHeads();
      int nkv = cfg.numKvHeads();
      NDArray q = qk.get(new NDIndex().addAllDim(2).addSliceDim(0, nh * hd)).reshape(c.b, c.t, nh, hd)
          .transpose(0, 2, 1, 3);
      NDArray k = qk.get(new NDIndex().addAllDim(2).addSliceDim(nh * hd, (nh + nkv) * hd))
          .reshape(c.b, c.t, nkv, hd).transpose(0, 2, 1, 3);
      NDArray vv = v.reshape(c.b, c.t, nkv, hd).transpose(0, 2, 1, 3);
      // the mask for any length when the model slides: a row takes the same path alone and in a longer batch
      return sdpa.attend(qk.getManager(), q, k, vv, nh / nkv, slide)  // [B, heads, T, hd]
          .transpose(0, 2, 1, 3).reshape((long) c.b * c.t, (long) nh * hd);
    }

    @Override
    public void close() {
      sdpa.close();
    }
  }

  // ---------------------------------------------------------------------------------------------------------

  /**
   * The NDArray attention: causal query chunks [q0, q1), each seeing keys [0, q1), so that
   * B x heads x Tq x q1 stays within the budget (early chunks see few keys and can hold more queries).
   * Chunks and their masks are built once per forward pass and shared by all layers. Under a sliding window
   * the masks also hide the keys before each query's window (the chunks and their key ranges stay the same).
   */
  static final class Chunked extends OnTensors {

    static final int MASK_TABLE_MAX = 2048;
    private final NDArray causal;     // [tableRows, tableRows] 0 where a query sees a key, -inf elsewhere; null if large

    Chunked(LlamaConfig cfg, NDManager base, int tableRows) {
      super(cfg, base, tableRows);
      causal = tableRows <= MASK_TABLE_MAX
          ? base.create(FloatBuffer.wrap(causalMask(0, tableRows, tableRows, slide)), new Shape(tableRows, tableRows))
          : null;
    }

    private record Chunks(int[] bounds, NDArray[] masks, long[] splitAt, int rowsPerGroup) {
    }

    @Override
    void prepare(Ctx c) {
      // Chunks depend on the row length only, never on how many rows share the pass: a row gets the same
      // softmax lengths, hence the same bits, alone and in a batch. The batch is cut into row groups instead.
      int[] bounds = queryChunks(c.t, cfg.numHeads(), c.budget);
      int chunkCount = bounds.length - 1;
      NDArray[] masks = new NDArray[chunkCount];
      for (int i = 0; i < chunkCount; i++) {
        int q0 = bounds[i];
        int q1 = bounds[i + 1];
        masks[i] = causal != null                                       // [Tq, Tk]
            ? causal.get(c.m, new NDIndex().addSliceDim(q0, q1).addSliceDim(0, q1))
            : c.m.create(FloatBuffer.wrap(causalMask(q0, q1, q1, slide)), new Shape(q1 - q0, q1));
      }
      long[] splitAt = new long[chunkCount - 1];
      for (int i = 1; i < chunkCount; i++) {
        splitAt[i - 1] = bounds[i];
      }
      long largest = 1;
      for (int i = 0; i < chunkCount; i++) {
        largest = Math.max(largest, (long) (bounds[i + 1] - bounds[i]) * bounds[i + 1]);
      }
      int rowsPerGroup = (int) Math.max(1, Math.min(c.b, c.budget / (largest * cfg.numHeads())));
      c.state = new Chunks(bounds, masks, splitAt, rowsPerGroup);
    }

    @Override
    NDArray attend(NDArray qk, NDArray vIn, Ctx c) {
      Chunks ch = (Chunks) c.state;
      if (ch.rowsPerGroup() >= c.b) {
        return attendRows(qk, vIn, c.b, c.t, ch);
      }
      NDList groups = new NDList();                                       // [rows, T, ...] per group
      for (int r0 = 0; r0 < c.b; r0 += ch.rowsPerGroup()) {
        int r1 = Math.min(c.b, r0 + ch.rowsPerGroup());
        NDIndex rows = new NDIndex().addSliceDim(r0, r1);
        groups.add(attendRows(qk.get(rows), vIn.get(rows), r1 - r0, c.t, ch));
      }
      return NDArrays.concat(groups, 0);
    }

    /** Attention of {@code b} rows, qk {@code [b, T, q | k]}, v {@code [b, T, Dkv]}; returns {@code [b*T, heads*hd]}. */
    private NDArray attendRows(NDArray qk, NDArray vIn, int b, int t, Chunks ch) {
      int hd = cfg.headDim();
      int nh = cfg.numHeads();
      int nkv = cfg.numKvHeads();
      int g = nh / nkv;
      int a = (nh + nkv) * hd;
      int chunkCount = ch.bounds().length - 1;
      NDArray q = qk.get(new NDIndex().addAllDim(2).addSliceDim(0, nh * hd))
          .reshape(b, t, nkv, g, hd).transpose(0, 2, 3, 1, 4).reshape(-1).reshape(b, nkv, g, t, hd); // [B, kv, g, T, hd]
      NDArray kT = qk.get(new NDIndex().addAllDim(2).addSliceDim(nh * hd, a))
          .reshape(b, t, nkv, hd).transpose(0, 2, 3, 1).reshape(-1).reshape(b, nkv, hd, t); // [B, kv, hd, T]
      NDArray v = vIn.reshape(b, t, nkv, hd).transpose(0, 2, 1, 3).reshape(-1).reshape(b, nkv, t, hd); // [B, kv, T, hd]
      NDList qs = chunkCount == 1 ? new NDList(q) : q.split(ch.splitAt(), 3); // [B, kv, g, Tq, hd] each
      NDList chunks = new NDList();
      for (int i = 0; i < chunkCount; i++) {
        int q0 = ch.bounds()[i];
        int q1 = ch.bounds()[i + 1];
        int n = q1 - q0;
        NDArray qc = qs.get(i).reshape(b, nkv, g * n, hd);                 // [B, kv, g*Tq, hd]
        NDArray kc = q1 == t ? kT : kT.get(new NDIndex().addAllDim(3).addSliceDim(0, q1)); // [B, kv, hd, Tk]
        NDArray vc = q1 == t ? v : v.get(new NDIndex().addAllDim(2).addSliceDim(0, q1));   // [B, kv, Tk, hd]
        NDArray p = qc.matMul(kc).reshape(b, nkv, g, n, q1).add(ch.masks()[i]) // [B, kv, g, Tq, Tk]
            .softmax(4).reshape(b, nkv, g * n, q1);
        chunks.add(p.matMul(vc).reshape(b, nkv, g, n, hd));             // [B, kv, g, Tq, hd]
      }
      return (chunks.size() == 1 ? chunks.head() : NDArrays.concat(chunks, 3))
          .transpose(0, 3, 1, 2, 4).reshape((long) b * t, (long) nh * hd); // [N, heads*hd]
    }
  }

  /** Additive causal mask rows [q0, q1) over keys [0, tk): 0 where key <= query, -inf above. */
  static float[] causalMask(int q0, int q1, int tk) {
    return causalMask(q0, q1, tk, 0);
  }

  /**
   * {@link #causalMask(int, int, int)} with a sliding window ({@code window > 0}): also -inf where
   * {@code query - key >= window}, so the query at position i sees the keys {@code i - window < j <= i}.
   */
  static float[] causalMask(int q0, int q1, int tk, int window) {
    float[] m = new float[(q1 - q0) * tk];
    for (int i = q0; i < q1; i++) {
      for (int j = i + 1; j < tk; j++) {
        m[(i - q0) * tk + j] = Float.NEGATIVE_INFINITY;
      }
      for (int j = 0; window > 0 && j <= Math.min(tk - 1, i - window); j++) {
        m[(i - q0) * tk + j] = Float.NEGATIVE_INFINITY;
      }
    }
    return m;
  }

  /**
   * Query chunk boundaries 0 = b[0] < ... < b[n] = t: the chunk [q0, q1) attends to q1 keys, so it holds
   * the most queries {@code n} with {@code rows * n * (q0 + n) <= budget} (at least one query).
   */
  static int[] queryChunks(int t, long rows, long budget) {
    double cap = Math.max(1.0, (double) budget / rows);
    java.util.List<Integer> out = new java.util.ArrayList<>();
    out.add(0);
    int q0 = 0;
    while (q0 < t) {
      int n = (int) Math.floor((-q0 + Math.sqrt((double) q0 * q0 + 4 * cap)) / 2);
      while (n > 1 && (double) n * (q0 + n) > cap) {
        n--;
      }
      q0 = Math.min(t, q0 + Math.max(1, n));
      out.add(q0);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }
}
