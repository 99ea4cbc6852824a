package io.toedit.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * A Llama-family decoder on DJL/PyTorch, for teacher-forced scoring only (no KV cache).
 *
 * <p>Weights are rearranged once at load so that each forward pass issues few, large operations:
 * <ul>
 *   <li>RMSNorm gains are folded into the following projection (column scaling), the final norm into
 *       the head, and the attention scale 1/sqrt(headDim) into q_proj;</li>
 *   <li>q, k, rotate_half(q), rotate_half(k) and v come out of ONE fused linear, so HF RoPE is just
 *       {@code qk * cos + qkRot * sin} with precomputed tables;</li>
 *   <li>gate and up projections are one fused linear.</li>
 * </ul>
 * All weights live in the model's base manager and are read concurrently by every worker; each forward
 * pass keeps its temporaries in a sub-manager that it closes before returning plain Java arrays.
 */
final class LlamaModel implements AutoCloseable {

  private final LlamaConfig cfg;
  private final NDManager base;
  private final String digest;
  private final NDArray embed;          // [V, H]
  private final NDArray head;           // [V, H], final-norm gain folded in
  private final NDArray[] wQkv;         // per layer [2A + Dkv, H] (q | k | rot q | rot k | v); A = (heads + kvHeads)
                                        // * headDim. SIMD: [A + Dkv, H] (q | k | v), RoPE is applied on the host
  private final NDArray[] wO;           // per layer [H, heads * headDim]
  private final NDArray[] wGateUp;      // per layer [2I, H], attention-norm gain folded in
  private final NDArray[] wDown;        // per layer [H, I]
  private final NDArray cos;            // [maxPos, A] cos(pos * invFreq) tiled over heads; null for SIMD
  private final NDArray sin;            // [maxPos, A]
  private final float[] ropeCos;        // [maxPos, headDim], for RoPE on the host (SIMD only)
  private final float[] ropeSin;
  private final NDArray meanColumn;     // [H, 16] filled with 1/H (a matrix product, not a vector one)
  private final NDArray causal;         // [maxPos, maxPos] 0 on and below the diagonal, -inf above; null if large
  private static final int MASK_TABLE_MAX = 2048;
  static final int ROW_ALIGN = 32;
  private final int ropeRows;           // longest sequence accepted
  private final int tableRows;          // ropeRows rounded up to ROW_ALIGN: rows of the RoPE and mask tables
  private final AttentionKernel attention;   // resolved: SIMD, SDPA or NDARRAY
  private final SdpaAttention sdpa;           // null unless attention == SDPA
  /** Largest vocabulary whose log-probs are copied to the host for top-k (CPU only; see topKOnHost). */
  static final int HOST_TOPK_MAX_VOCAB = 4096;
  private final boolean hostTopK;
  private final TorchScriptModule mlp;   // o_proj, RMSNorm, MLP, residuals

  /** Forward output for a padded batch, flattened over {@code [B, T]} (and k). Plain arrays. */
  record Output(int batch, int time, int k, float[] targetLogProbs, int[] topIds, float[] topLogProbs) {

    /** The same output over the first {@code t} positions of every row. */
    Output firstColumns(int t) {
      float[] lp = new float[batch * t];
      int[] ids = new int[batch * t * k];
      float[] lps = new float[batch * t * k];
      for (int b = 0; b < batch; b++) {
        System.arraycopy(targetLogProbs, b * time, lp, b * t, t);
        System.arraycopy(topIds, b * time * k, ids, b * t * k, t * k);
        System.arraycopy(topLogProbs, b * time * k, lps, b * t * k, t * k);
      }
      return new Output(batch, t, k, lp, ids, lps);
    }
  }

  LlamaModel(Path dir, LlamaConfig cfg, NDManager base, int ropeRows, AttentionKernel attention) {
    if (attention == AttentionKernel.AUTO) {
      throw new IllegalArgumentException("resolve AttentionKernel.AUTO before loading the model");
    }
    if (attention == AttentionKernel.SIMD && !AttentionKernel.simdSupports(cfg.headDim())) {
      throw new IllegalArgumentException("attention=simd needs the JVM module " + AttentionKernel.VECTOR_MODULE
          + " (--add-modules=" + AttentionKernel.VECTOR_MODULE + ") and a head_dim that is a multiple of 8; this JVM "
          + (AttentionKernel.simdAvailable() ? "has the module" : "lacks the module") + ", head_dim is " + cfg.headDim());
    }
    this.cfg = cfg;
    this.base = base;
    this.ropeRows = ropeRows;
    this.tableRows = (ropeRows + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    this.attention = attention;
    Safetensors st = Safetensors.open(dir);
    this.digest = st.digest();
    int h = cfg.hiddenSize();
    int v = cfg.vocabSize();
    int hd = cfg.headDim();
    int nh = cfg.numHeads();
    int nkv = cfg.numKvHeads();
    int inter = cfg.intermediateSize();
    int layers = cfg.numLayers();
    float[] emb = st.read("model.embed_tokens.weight", v, h);
    embed = create(emb, v, h);
    float[] headW = cfg.tieWordEmbeddings() || !st.has("lm_head.weight")
        ? emb.clone() : st.read("lm_head.weight", v, h);
    if (!cfg.tieWordEmbeddings() && !st.has("lm_head.weight")) {
      throw new IllegalArgumentException("Tensor 'lm_head.weight' is missing from the checkpoint in " + dir
          + " and config.json field 'tie_word_embeddings' is false");
    }
    scaleColumns(headW, v, h, st.read("model.norm.weight", h), 1f);
    head = create(headW, v, h);
    wQkv = new NDArray[layers];
    wO = new NDArray[layers];
    wGateUp = new NDArray[layers];
    wDown = new NDArray[layers];
    float scale = (float) (1.0 / Math.sqrt(hd));
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      float[] g = st.read(p + "input_layernorm.weight", h);
      float[] q = st.read(p + "self_attn.q_proj.weight", (long) nh * hd, h);
      float[] k = st.read(p + "self_attn.k_proj.weight", (long) nkv * hd, h);
      float[] vv = st.read(p + "self_attn.v_proj.weight", (long) nkv * hd, h);
      scaleColumns(q, nh * hd, h, g, scale);
      scaleColumns(k, nkv * hd, h, g, 1f);
      scaleColumns(vv, nkv * hd, h, g, 1f);
      int a = (nh + nkv) * hd;
      if (attention == AttentionKernel.SIMD) {
        float[] plain = new float[(a + nkv * hd) * h];
        System.arraycopy(q, 0, plain, 0, q.length);
        System.arraycopy(k, 0, plain, q.length, k.length);
        System.arraycopy(vv, 0, plain, a * h, vv.length);
        wQkv[l] = create(plain, a + nkv * hd, h);
      } else {
        float[] fused = new float[(2 * a + nkv * hd) * h];
        System.arraycopy(q, 0, fused, 0, q.length);
        System.arraycopy(k, 0, fused, q.length, k.length);
        rotateHalfRows(q, nh, hd, h, fused, a * h);
        rotateHalfRows(k, nkv, hd, h, fused, (a + nh * hd) * h);
        System.arraycopy(vv, 0, fused, 2 * a * h, vv.length);
        wQkv[l] = create(fused, 2 * a + nkv * hd, h);
      }
      wO[l] = create(st.read(p + "self_attn.o_proj.weight", h, (long) nh * hd), h, nh * hd);
      float[] g2 = st.read(p + "post_attention_layernorm.weight", h);
      float[] gate = st.read(p + "mlp.gate_proj.weight", inter, h);
      float[] up = st.read(p + "mlp.up_proj.weight", inter, h);
      scaleColumns(gate, inter, h, g2, 1f);
      scaleColumns(up, inter, h, g2, 1f);
      float[] gu = new float[2 * inter * h];
      System.arraycopy(gate, 0, gu, 0, gate.length);
      System.arraycopy(up, 0, gu, gate.length, up.length);
      wGateUp[l] = create(gu, 2 * inter, h);
      wDown[l] = create(st.read(p + "mlp.down_proj.weight", h, inter), h, inter);
    }
    // RoPE tables, computed in double: pair (i, i + headDim/2) rotates by pos * invFreq[i]
    double[] inv = cfg.inverseFrequencies();
    int a = (nh + nkv) * hd;
    float[] c = new float[tableRows * a];
    float[] s = new float[tableRows * a];
    for (int pos = 0; pos < tableRows; pos++) {
      for (int col = 0; col < a; col++) {
        double angle = pos * inv[(col % hd) % (hd / 2)];
        c[pos * a + col] = (float) Math.cos(angle);
        s[pos * a + col] = (float) Math.sin(angle);
      }
    }
    boolean onHost = attention == AttentionKernel.SIMD;                // RoPE on the host copy, or as NDArray ops
    cos = onHost ? null : create(c, tableRows, a);
    sin = onHost ? null : create(s, tableRows, a);
    ropeCos = onHost ? new float[tableRows * hd] : null;               // one head wide
    ropeSin = onHost ? new float[tableRows * hd] : null;
    for (int pos = 0; onHost && pos < tableRows; pos++) {
      System.arraycopy(c, pos * a, ropeCos, pos * hd, hd);
      System.arraycopy(s, pos * a, ropeSin, pos * hd, hd);
    }
    causal = attention == AttentionKernel.NDARRAY && tableRows <= MASK_TABLE_MAX
        ? create(causalMask(0, tableRows, tableRows), tableRows, tableRows) : null;
    sdpa = attention == AttentionKernel.SDPA ? new SdpaAttention(base) : null;
    mlp = new TorchScriptModule(base, "ToEditMlp",
        "x: Tensor, att: Tensor, wo: Tensor, wgu: Tensor, wd: Tensor, col: Tensor, eps: float, inter: int",
        "x1 = torch.addmm(x, att, torch.t(wo))",
        "n = torch.mul(x1, torch.pow(torch.add(torch.matmul(torch.mul(x1, x1), col), eps), -0.5))",
        "gu = torch.matmul(n, torch.t(wgu))",
        "a = torch.mul(torch.silu(torch.slice(gu, 1, 0, inter)), torch.slice(gu, 1, inter, None))",
        "return torch.addmm(x1, a, torch.t(wd))");
    hostTopK = ai.djl.Device.Type.CPU.equals(base.getDevice().getDeviceType()) && cfg.vocabSize() <= HOST_TOPK_MAX_VOCAB;
    float[] col = new float[h];
    java.util.Arrays.fill(col, 1f / h);
    meanColumn = create(col, h, 1);
  }

  AttentionKernel attention() {
    return attention;
  }

  /** Additive causal mask rows [q0, q1) over keys [0, tk): 0 where key <= query, -inf above. */
  private static float[] causalMask(int q0, int q1, int tk) {
    float[] m = new float[(q1 - q0) * tk];
    for (int i = q0; i < q1; i++) {
      for (int j = i + 1; j < tk; j++) {
        m[(i - q0) * tk + j] = Float.NEGATIVE_INFINITY;
      }
    }
    return m;
  }

  private NDArray create(float[] data, long... shape) {
    return base.create(FloatBuffer.wrap(data), new Shape(shape));
  }

  /** w[r, c] *= gain[c] * scale for a row-major [rows, cols] matrix. */
  private static void scaleColumns(float[] w, int rows, int cols, float[] gain, float scale) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        w[r * cols + c] *= gain[c] * scale;
      }
    }
  }

  /** Rows of rotate_half(W x): row j of each head is -row(j + d/2) for j < d/2, else row(j - d/2). */
  private static void rotateHalfRows(float[] w, int heads, int hd, int cols, float[] out, int outOffset) {
    int half = hd / 2;
    for (int head = 0; head < heads; head++) {
      for (int j = 0; j < hd; j++) {
        int src = head * hd + (j < half ? j + half : j - half);
        float sign = j < half ? -1f : 1f;
        int dst = outOffset + (head * hd + j) * cols;
        for (int c = 0; c < cols; c++) {
          out[dst + c] = sign * w[src * cols + c];
        }
      }
    }
  }

  LlamaConfig config() {
    return cfg;
  }

  String digest() {
    return digest;
  }

  /** Longest sequence one forward pass accepts (the RoPE and mask tables' length). */
  int maxTokens() {
    return ropeRows;
  }

  /**
   * Scores a right-padded batch: {@code ids[b]} has {@code lengths[b]} real tokens followed by padding.
   * Row {@code b*T + t} of the output predicts {@code ids[b][t+1]}; rows at {@code t >= lengths[b]-1} are
   * meaningless (callers ignore them). Padding needs no mask: with a causal mask a real query never sees
   * a later (padded) key.
   */
  Output forward(int[][] ids, int[] lengths, int k, long attentionBudget) {
    int b = ids.length;
    int t = ids[0].length;
    if (t > ropeRows) {
      throw new IllegalArgumentException("sequence of " + t + " tokens exceeds the forward limit " + ropeRows);
    }
    // rows are padded to a multiple of ROW_ALIGN so that every sequence starts at the same place relative to
    // the matrix kernels' row blocks, alone or in a batch (MKL sums a partial last block in another order)
    int tp = Math.min(tableRows, (t + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN);
    long[] flat = new long[b * tp];
    long[] targets = new long[b * tp];
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < t; j++) {
        flat[i * tp + j] = ids[i][j];
        targets[i * tp + j] = j + 1 < lengths[i] ? ids[i][j + 1] : 0;
      }
    }
    Output o;
    try (NDManager m = base.newSubManager()) {
      NDArray tokens = m.create(flat);                                    // [N]
      NDArray x = embed.get(m, new NDIndex("{}", tokens));               // [N, H]
      NDArray h = hidden(m, x, b, tp, lengths, attentionBudget);          // [N, H] normalised, no gain
      o = headOutput(m, h, targets, b, tp, k, attentionBudget);
    }
    return tp == t ? o : o.firstColumns(t);
  }

  /** Full logits of one sequence (test aid: compare with float64 references). */
  float[][] logits(int[] ids) {
    try (NDManager m = base.newSubManager()) {
      long[] flat = new long[ids.length];
      for (int i = 0; i < ids.length; i++) {
        flat[i] = ids[i];
      }
      NDArray x = embed.get(m, new NDIndex("{}", m.create(flat)));
      NDArray h = hidden(m, x, 1, ids.length, new int[] {ids.length}, Long.MAX_VALUE);
      float[] all = Linear.linear(h, head).singletonOrThrow().toFloatArray();
      float[][] out = new float[ids.length][cfg.vocabSize()];
      for (int i = 0; i < ids.length; i++) {
        System.arraycopy(all, i * cfg.vocabSize(), out[i], 0, cfg.vocabSize());
      }
      return out;
    }
  }

  /** The decoder stack; returns the final hidden state, RMS-normalised (its gain is in the head). */
  private NDArray hidden(NDManager m, NDArray x, int b, int t, int[] lengths, long budget) {
    int hd = cfg.headDim();
    int nh = cfg.numHeads();
    int nkv = cfg.numKvHeads();
    int a = (nh + nkv) * hd;
    NDIndex rows = new NDIndex().addSliceDim(0, t);
    NDArray cosT = cos == null ? null : cos.get(m, rows).reshape(1, t, a); // [1, T, A]
    NDArray sinT = sin == null ? null : sin.get(m, rows).reshape(1, t, a); // [1, T, A]
    ChunkedCausal chunked = attention == AttentionKernel.NDARRAY ? new ChunkedCausal(m, b, t, budget) : null;
    for (int l = 0; l < cfg.numLayers(); l++) {
      NDArray y = Linear.linear(rmsNorm(x), wQkv[l]).singletonOrThrow();  // [N, A + Dkv] or [N, 2A + Dkv]
      NDArray att;                                                        // [N, heads*hd]
      if (attention == AttentionKernel.SIMD) {
        att = attendSimd(m, y, b, t, lengths);
      } else {
        y = y.reshape(b, t, 2 * a + nkv * hd);
        NDArray qk = y.get(new NDIndex().addAllDim(2).addSliceDim(0, a)).mul(cosT)
            .add(y.get(new NDIndex().addAllDim(2).addSliceDim(a, 2 * a)).mul(sinT)); // [B, T, A] = q | k
        NDArray v = y.get(new NDIndex().addAllDim(2).addSliceDim(2 * a, 2 * a + nkv * hd)); // [B, T, Dkv]
        att = attention == AttentionKernel.SDPA ? attendSdpa(m, qk, v, b, t) : chunked.attend(qk, v);
      }
      x = postAttention(m, x, att, l);                                    // [N, H]
    }
    return rmsNorm(x);
  }

  /**
   * o_proj + residual, RMSNorm, SiLU MLP + residual in one TorchScript call: {@code addmm} folds each residual
   * add into its matrix product and {@code silu} is one kernel (about 3 % of a pass faster than the same
   * ops issued one by one through DJL). The module is parameterless; weights are passed in.
   */
  private NDArray postAttention(NDManager m, NDArray x, NDArray att, int l) {
    return mlp.call(m, x, att, wO[l], wGateUp[l], wDown[l], meanColumn, cfg.rmsNormEps(),
        (long) cfg.intermediateSize());
  }


  /**
   * {@link SimdAttention} on a host copy of q | k | v (one transfer out, one of the result back), with
   * RoPE applied here: the same products and sum as the NDArray form {@code q * cos + rotate_half(q) * sin}.
   */
  private NDArray attendSimd(NDManager m, NDArray qkv, int b, int t, int[] lengths) {
    int hd = cfg.headDim();
    int nh = cfg.numHeads();
    int nkv = cfg.numKvHeads();
    int stride = (nh + 2 * nkv) * hd;
    float[] host = qkv.toFloatArray();                                  // [B, T, q | k | v]
    int half = hd / 2;
    for (int bi = 0; bi < b; bi++) {
      for (int pos = 0; pos < Math.min(t, lengths[bi]); pos++) {
        int row = (bi * t + pos) * stride;
        int tab = pos * hd;
        for (int head = 0; head < nh + nkv; head++) {
          int o = row + head * hd;
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
    SimdAttention.attend(host, stride, nh * hd, (nh + nkv) * hd, b, t, lengths, nh, nkv, hd, out);
    return m.create(FloatBuffer.wrap(out), new Shape((long) b * t, (long) nh * hd));
  }

  /** PyTorch's fused causal attention on the model's device ({@link SdpaAttention}). */
  private NDArray attendSdpa(NDManager m, NDArray qk, NDArray v, int b, int t) {
    int hd = cfg.headDim();
    int nh = cfg.numHeads();
    int nkv = cfg.numKvHeads();
    NDArray q = qk.get(new NDIndex().addAllDim(2).addSliceDim(0, nh * hd)).reshape(b, t, nh, hd).transpose(0, 2, 1, 3);
    NDArray k = qk.get(new NDIndex().addAllDim(2).addSliceDim(nh * hd, (nh + nkv) * hd)).reshape(b, t, nkv, hd)
        .transpose(0, 2, 1, 3);
    NDArray vv = v.reshape(b, t, nkv, hd).transpose(0, 2, 1, 3);
    return sdpa.attend(m, q, k, vv, nh / nkv)                             // [B, heads, T, hd]
        .transpose(0, 2, 1, 3).reshape((long) b * t, (long) nh * hd);
  }

  /**
   * The NDArray attention: causal query chunks [q0, q1), each seeing keys [0, q1), so that
   * B x heads x Tq x q1 stays within the budget (early chunks see few keys and can hold more queries).
   * Chunks and their masks are built once per forward pass and shared by all layers.
   */
  private final class ChunkedCausal {
    private final int b;
    private final int t;
    private final int[] bounds;
    private final NDArray[] masks;
    private final long[] splitAt;

    ChunkedCausal(NDManager m, int b, int t, long budget) {
      this.b = b;
      this.t = t;
      bounds = queryChunks(t, (long) b * cfg.numHeads(), budget);
      int chunkCount = bounds.length - 1;
      masks = new NDArray[chunkCount];
      for (int c = 0; c < chunkCount; c++) {
        int q0 = bounds[c];
        int q1 = bounds[c + 1];
        masks[c] = causal != null                                         // [Tq, Tk]
            ? causal.get(m, new NDIndex().addSliceDim(q0, q1).addSliceDim(0, q1))
            : m.create(FloatBuffer.wrap(causalMask(q0, q1, q1)), new Shape(q1 - q0, q1));
      }
      splitAt = new long[chunkCount - 1];
      for (int c = 1; c < chunkCount; c++) {
        splitAt[c - 1] = bounds[c];
      }
    }

    /** qk {@code [B, T, q | k]} with RoPE applied, v {@code [B, T, Dkv]}; returns {@code [N, heads*hd]}. */
    NDArray attend(NDArray qk, NDArray vIn) {
      int hd = cfg.headDim();
      int nh = cfg.numHeads();
      int nkv = cfg.numKvHeads();
      int g = nh / nkv;
      int a = (nh + nkv) * hd;
      int chunkCount = bounds.length - 1;
      NDArray q = qk.get(new NDIndex().addAllDim(2).addSliceDim(0, nh * hd))
          .reshape(b, t, nkv, g, hd).transpose(0, 2, 3, 1, 4).reshape(-1).reshape(b, nkv, g, t, hd); // [B, kv, g, T, hd]
      NDArray kT = qk.get(new NDIndex().addAllDim(2).addSliceDim(nh * hd, a))
          .reshape(b, t, nkv, hd).transpose(0, 2, 3, 1).reshape(-1).reshape(b, nkv, hd, t); // [B, kv, hd, T]
      NDArray v = vIn.reshape(b, t, nkv, hd).transpose(0, 2, 1, 3).reshape(-1).reshape(b, nkv, t, hd); // [B, kv, T, hd]
      NDList qs = chunkCount == 1 ? new NDList(q) : q.split(splitAt, 3);  // [B, kv, g, Tq, hd] each
      NDList chunks = new NDList();
      for (int c = 0; c < chunkCount; c++) {
        int q0 = bounds[c];
        int q1 = bounds[c + 1];
        int n = q1 - q0;
        NDArray qc = qs.get(c).reshape(b, nkv, g * n, hd);                 // [B, kv, g*Tq, hd]
        NDArray kc = q1 == t ? kT : kT.get(new NDIndex().addAllDim(3).addSliceDim(0, q1)); // [B, kv, hd, Tk]
        NDArray vc = q1 == t ? v : v.get(new NDIndex().addAllDim(2).addSliceDim(0, q1));   // [B, kv, Tk, hd]
        NDArray p = qc.matMul(kc).reshape(b, nkv, g, n, q1).add(masks[c]) // [B, kv, g, Tq, Tk]
            .softmax(4).reshape(b, nkv, g * n, q1);
        chunks.add(p.matMul(vc).reshape(b, nkv, g, n, hd));             // [B, kv, g, Tq, hd]
      }
      return (chunks.size() == 1 ? chunks.head() : NDArrays.concat(chunks, 3))
          .transpose(0, 3, 1, 2, 4).reshape((long) b * t, (long) nh * hd); // [N, heads*hd]
    }
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

  private NDArray rmsNorm(NDArray x) {
    // x / sqrt(mean(x^2) + eps); the gain is folded into the next weight. The mean is column 0 of a
    // product with a [H, 16] matrix of 1/H: PyTorch's row reduction, and MKL's matrix-vector product,
    // sum some rows in another order when they sit in a larger tensor; the matrix-matrix product does not
    // (batch invariance: a document gets the same bits alone and in a padded batch).
    return x.mul(x.square().matMul(meanColumn).add((float) cfg.rmsNormEps()).pow(-0.5f));
  }

  /**
   * log_softmax, gather of the actual next token and top-k in row chunks: on the device, or for a small
   * vocabulary on a CPU from a host copy ({@link #topKOnHost}).
   */
  private Output headOutput(NDManager m, NDArray h, long[] targets, int b, int t, int k, long budget) {
    int n = b * t;
    NDArray onDevice = hostTopK ? null : m.create(targets, new Shape(n, 1));
    int v = cfg.vocabSize();
    int rowsPerChunk = (int) Math.max(1, Math.min(n, Math.max(budget, 1L << 22) / v));
    float[] lp = new float[n];
    int[] ids = new int[n * k];
    float[] lps = new float[n * k];
    for (int r0 = 0; r0 < n; r0 += rowsPerChunk) {
      int r1 = Math.min(n, r0 + rowsPerChunk);
      NDIndex rows = new NDIndex().addSliceDim(r0, r1);
      NDArray hc = r0 == 0 && r1 == n ? h : h.get(rows);
      NDArray logp = Linear.linear(hc, head).singletonOrThrow().logSoftmax(1);  // [n, V]
      if (hostTopK) {
        topKOnHost(logp.toFloatArray(), r0, r1, v, k, targets, lp, ids, lps);
        continue;
      }
      NDArray tc = r0 == 0 && r1 == n ? onDevice : onDevice.get(rows);
      System.arraycopy(logp.gather(tc, 1).toFloatArray(), 0, lp, r0, r1 - r0); // [n, 1]
      NDList top = logp.topK(k, 1);                                       // values [n, k], indices [n, k]
      System.arraycopy(top.get(0).toFloatArray(), 0, lps, r0 * k, (r1 - r0) * k);
      long[] idx = top.get(1).toType(DataType.INT64, false).toLongArray();
      for (int i = 0; i < idx.length; i++) {
        ids[r0 * k + i] = (int) idx[i];
      }
    }
    return new Output(b, t, k, lp, ids, lps);
  }

  /**
   * The target's log-prob and the top k of rows [r0, r1) of a host copy of {@code [rows, V]} log-probs:
   * descending, ties to the lower id. A scan with a running k-th best beats PyTorch's CPU topk by about 8x
   * for a small vocabulary (topk was 11 % of a stories260k forward pass).
   */
  static void topKOnHost(float[] logp, int r0, int r1, int v, int k, long[] targets, float[] lp, int[] ids,
      float[] lps) {
    float[] bestV = new float[k];
    int[] bestI = new int[k];
    for (int r = r0; r < r1; r++) {
      int base = (r - r0) * v;
      lp[r] = logp[base + (int) targets[r]];
      java.util.Arrays.fill(bestV, Float.NEGATIVE_INFINITY);
      java.util.Arrays.fill(bestI, Integer.MAX_VALUE);
      float kth = Float.NEGATIVE_INFINITY;
      int filled = 0;
      for (int id = 0; id < v; id++) {
        float x = logp[base + id];
        if (filled == k && !(x > kth)) {
          continue;                                                     // not better than the k-th (ties keep the lower id)
        }
        int pos = Math.min(filled, k - 1);
        while (pos > 0 && x > bestV[pos - 1]) {
          bestV[pos] = bestV[pos - 1];
          bestI[pos] = bestI[pos - 1];
          pos--;
        }
        bestV[pos] = x;
        bestI[pos] = id;
        filled = Math.min(k, filled + 1);
        kth = bestV[k - 1];
      }
      System.arraycopy(bestV, 0, lps, r * k, k);
      System.arraycopy(bestI, 0, ids, r * k, k);
    }
  }

  @Override
  public void close() {
    if (sdpa != null) {
      sdpa.close();
    }
    mlp.close();
    base.close();
  }
}
