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
 * A Llama-family decoder ({@code llama}, {@code mistral}, {@code qwen2}, {@code qwen3}) on DJL/PyTorch, for
 * teacher-forced scoring only (no KV cache).
 *
 * <p>Weights are rearranged once at load so that each forward pass issues few, large operations:
 * <ul>
 *   <li>RMSNorm gains are folded into the following projection (column scaling), and the attention scale
 *       1/sqrt(headDim) into q_proj (or, with q/k norms, into the q_norm gain);</li>
 *   <li>q, k and v (and, for the tensor kernels without q/k norms, rotate_half(q) and rotate_half(k)) come out
 *       of ONE fused linear with its fused bias ({@code qwen2}), so HF RoPE is {@code qk * cos + qkRot * sin};</li>
 *   <li>gate and up projections are one fused linear.</li>
 * </ul>
 * A tied head is the embedding itself (one copy); the final norm's gain multiplies the hidden state.
 * Every tensor is memory-mapped from the safetensors file and converted on the device: no Java-heap copy of
 * the weights. Every checkpoint tensor must be used: a stray one (a Qwen2 checkpoint relabelled llama, say)
 * is an error naming it. All weights live in the model's base manager and are read concurrently by every
 * worker; each forward pass keeps its temporaries in a sub-manager that it closes before returning plain
 * Java arrays.
 *
 * <p>With a 16-bit {@link ComputeDtype} the same folded weights are converted once and the layers, the
 * embedding lookup and the head's products run in {@link ReducedPrecision} (the GPU path); the float32 NDArrays
 * below are then null, except the final gain.
 */
final class LlamaModel implements AutoCloseable {

  private final LlamaConfig cfg;
  private final NDManager base;
  private final String digest;
  private final NDArray embed;          // [V, H]
  private final NDArray head;           // [V, H]: the embedding itself when tied
  private final NDArray finalGain;      // [H] the final norm's gain
  private final NDArray[] wQkv;         // per layer [width, H], see Attention#rotatedRows
  private final NDArray[] bQkv;         // per layer [width] (qwen2), else null
  private final NDArray[] wO;           // per layer [H, heads * headDim]
  private final NDArray[] wGateUp;      // per layer [2I, H], attention-norm gain folded in
  private final NDArray[] wDown;        // per layer [H, I]
  private final NDArray meanColumn;     // [H, 16] filled with 1/H (a matrix product, not a vector one)
  static final int ROW_ALIGN = 32;
  private final int ropeRows;           // longest sequence accepted
  /**
   * Bytes of the fused gate/up product of one MLP row chunk: a pass's rows go through the MLP in chunks of
   * {@link #mlpRows} rows so that the [rows, 2 x intermediate] product and the SiLU temporaries stay bounded
   * (512 rows at the Llama-3.2-1B shape, 96 MiB of MLP temporaries instead of 0.4 GB for a 2,048-token pass;
   * a small model's pass is one chunk).
   */
  static final long MLP_CHUNK_BYTES = 32L << 20;
  /** {@link #MLP_CHUNK_BYTES}, lowered by tests to run the chunked MLP on small models; read when a model is built. */
  static volatile long mlpChunkBytes = MLP_CHUNK_BYTES;
  private final long mlpRows;           // rows per MLP chunk, from MLP_CHUNK_BYTES
  private final int tableRows;          // ropeRows rounded up to ROW_ALIGN: rows of the RoPE and mask tables
  private final AttentionKernel kernel; // resolved: SIMD, SDPA or NDARRAY
  private final Attention attention;    // the kernel bound to this model
  /** Largest vocabulary whose log-probs are copied to the host for top-k (CPU only; see topKOnHost). */
  static final int HOST_TOPK_MAX_VOCAB = 4096;
  /**
   * Most logits ({@code rows x vocabulary chunk}) the head materialises at once: 32 MiB of float32 (a few
   * such temporaries live at once). At 2,048 rows that is 4,096 vocabulary rows per chunk, still a large
   * matrix product.
   */
  static final long HEAD_BUDGET = 8L << 20;
  /**
   * Floor of {@code logit - max} before {@code exp} in the head's log-sum-exp. Below about -87.3 float32's
   * {@code exp} underflows to subnormals or zero, and MKL's vector {@code exp} (which PyTorch's CPU
   * {@code exp} calls) takes a slow scalar path for every such element: with a 128 k vocabulary most of a row
   * is there, and that path was about 8 % of a Llama-3.2-1B-shaped pass's CPU time (async-profiler,
   * {@code vsexp_cout_rare}). {@code exp(-87)} is 1.6e-38: a 128 k row of them adds under 3e-33 to a sum of
   * at least 1 (the maximum's own term), below float32's resolution, so the log-sum-exp keeps its bits.
   */
  static final float EXP_FLOOR = -87f;
  private final boolean hostTopK;
  private final TorchScriptModule mlp;   // o_proj, RMSNorm, MLP, residuals
  private final TorchScriptModule headScript; // the chunked head: log-sum-exp, target, top k
  private final ReducedPrecision lowp;   // the 16-bit path, else null

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

  LlamaModel(Path dir, LlamaConfig cfg, NDManager base, int ropeRows, AttentionKernel kernel) {
    this(dir, cfg, base, ropeRows, kernel, ComputeDtype.FLOAT32);
  }

  /**
   * @param dtype resolved: {@link ComputeDtype#FLOAT32}, or a 16-bit dtype with the {@link AttentionKernel#SDPA}
   *     kernel (the 16-bit layer runs PyTorch's attention)
   */
  LlamaModel(Path dir, LlamaConfig cfg, NDManager base, int ropeRows, AttentionKernel kernel, ComputeDtype dtype) {
    if (dtype.reduced() && kernel != AttentionKernel.SDPA) {
      throw new IllegalArgumentException("dtype=" + dtype + " runs attention in PyTorch's sdpa inside each layer; "
          + "attention=" + kernel + " computes in float32 (use attention=auto or sdpa, or dtype=float32)");
    }
    if (dtype == ComputeDtype.AUTO) {
      throw new IllegalArgumentException("resolve ComputeDtype.AUTO before loading the model");
    }
    if (kernel == AttentionKernel.SIMD && !AttentionKernel.simdSupports(cfg.headDim())) {
      throw new IllegalArgumentException("attention=simd needs the JVM module " + AttentionKernel.VECTOR_MODULE
          + " (--add-modules=" + AttentionKernel.VECTOR_MODULE + ") and a head_dim that is a multiple of 8; this JVM "
          + (AttentionKernel.simdAvailable() ? "has the module" : "lacks the module") + ", head_dim is " + cfg.headDim());
    }
    this.cfg = cfg;
    this.base = base;
    this.ropeRows = ropeRows;
    this.tableRows = (ropeRows + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    this.kernel = kernel;
    this.attention = kernel.bind(cfg, base, tableRows);
    this.lowp = dtype.reduced() ? new ReducedPrecision(cfg, dtype, base, attention) : null;
    Safetensors st = Safetensors.open(dir);
    int h = cfg.hiddenSize();
    int v = cfg.vocabSize();
    int hd = cfg.headDim();
    int nh = cfg.numHeads();
    int nkv = cfg.numKvHeads();
    int inter = cfg.intermediateSize();
    int layers = cfg.numLayers();
    NDArray e = st.load(base, "model.embed_tokens.weight", v, h);
    NDArray hw = e;
    if (!cfg.tieWordEmbeddings()) {
      if (!st.has("lm_head.weight")) {
        throw new IllegalArgumentException("Tensor 'lm_head.weight' is missing from the checkpoint in " + dir
            + " and config.json field 'tie_word_embeddings' is false");
      }
      hw = st.load(base, "lm_head.weight", v, h);
    }
    if (lowp != null) {
      lowp.setEmbedding(e, hw);
      e.close();
      hw.close();
      e = null;
      hw = null;
    }
    embed = e;
    head = hw;
    finalGain = st.load(base, "model.norm.weight", h);
    wQkv = new NDArray[layers];
    bQkv = new NDArray[layers];
    wO = new NDArray[layers];
    wGateUp = new NDArray[layers];
    wDown = new NDArray[layers];
    float scale = (float) (1.0 / Math.sqrt(hd));
    boolean rotated = lowp == null && attention.rotatedRows();
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      try (NDManager tmp = base.newSubManager()) {
        // each fused weight is loaded once into its final [rows, H] tensor and scaled in place, and in 16 bits
        // converted and released before the next is loaded: loading holds one layer weight in float32 at a time
        NDArray g = st.load(tmp, p + "input_layernorm.weight", h).reshape(1, h);
        // with q/k norms the attention scale goes into the q gain (the norm would undo it here)
        float qScale = cfg.qkNorm() ? 1f : scale;
        long qRows = (long) nh * hd;
        long kvRows = (long) nkv * hd;
        String[] qkvNames = {p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"};
        NDArray qkv;
        if (rotated) {
          NDArray q = st.load(tmp, qkvNames[0], qRows, h).mul(g).mul(qScale);
          NDArray k = st.load(tmp, qkvNames[1], kvRows, h).mul(g);
          NDArray vv = st.load(tmp, qkvNames[2], kvRows, h).mul(g);
          qkv = NDArrays.concat(new NDList(q, k, rotateHalfRows(q, nh, hd), rotateHalfRows(k, nkv, hd), vv), 0);
        } else {
          qkv = st.loadRows(tmp, h, qkvNames, new long[] {qRows, kvRows, kvRows});
          float[] rowScale = new float[(int) (qRows + 2 * kvRows)];
          java.util.Arrays.fill(rowScale, 0, (int) qRows, qScale);
          java.util.Arrays.fill(rowScale, (int) qRows, rowScale.length, 1f);   // x 1 is exact: k and v keep their bits
          qkv.muli(g).muli(tmp.create(rowScale, new Shape(rowScale.length, 1)));
        }
        NDArray bias = null;
        if (cfg.qkvBias()) {
          NDArray bq = st.load(tmp, p + "self_attn.q_proj.bias", qRows).mul(qScale);
          NDArray bk = st.load(tmp, p + "self_attn.k_proj.bias", kvRows);
          NDArray bv = st.load(tmp, p + "self_attn.v_proj.bias", kvRows);
          NDList bp = rotated ? new NDList(bq, bk, rotateHalfRows(bq, nh, hd), rotateHalfRows(bk, nkv, hd), bv)
              : new NDList(bq, bk, bv);
          bias = NDArrays.concat(bp, 0);
        }
        if (cfg.qkNorm()) {
          float[] qg = st.load(tmp, p + "self_attn.q_norm.weight", hd).mul(scale).toFloatArray();
          float[] kg = st.load(tmp, p + "self_attn.k_norm.weight", hd).toFloatArray();
          attention.setQkNorm(l, qg, kg);
          if (lowp != null) {
            lowp.setQkNorm(l, qg, kg, base);
          }
        }
        if (lowp != null) {
          lowp.setQkv(l, qkv, bias);
          qkv.close();
        } else {
          wQkv[l] = keep(qkv);
          bQkv[l] = bias == null ? null : keep(bias);
        }
        NDArray o = st.load(tmp, p + "self_attn.o_proj.weight", h, qRows);
        if (lowp != null) {
          lowp.setO(l, o);
          o.close();
        } else {
          wO[l] = keep(o);
        }
        NDArray g2 = st.load(tmp, p + "post_attention_layernorm.weight", h).reshape(1, h);
        NDArray gateUp = st.loadRows(tmp, h, new String[] {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
            new long[] {inter, inter}).muli(g2);
        if (lowp != null) {
          lowp.setGateUp(l, gateUp);
          gateUp.close();
        } else {
          wGateUp[l] = keep(gateUp);
        }
        NDArray down = st.load(tmp, p + "mlp.down_proj.weight", h, inter);
        if (lowp != null) {
          lowp.setDown(l, down);
          down.close();
        } else {
          wDown[l] = keep(down);
        }
      }
    }
    java.util.List<String> stray = st.unread();
    if (!stray.isEmpty()) {
      base.close();
      throw new IllegalArgumentException("The checkpoint in " + dir + " holds " + stray.size() + " tensor(s) that "
          + "model_type '" + cfg.modelType() + "' does not use, e.g. '" + String.join("', '",
          stray.subList(0, Math.min(6, stray.size()))) + "'"
          + (stray.stream().anyMatch(n -> n.endsWith("_proj.bias")) ? " (q/k/v biases: a qwen2 checkpoint?)" : "")
          + (stray.stream().anyMatch(n -> n.contains("_norm.")) ? " (q/k norms: a qwen3 checkpoint?)" : "")
          + "; check config.json field 'model_type' (supported: " + String.join(", ", LlamaConfig.SUPPORTED_TYPES)
          + ")");
    }
    this.digest = st.weightsDigest();
    mlp = new TorchScriptModule(base, "ToEditMlp",
        "x: Tensor, att: Tensor, wo: Tensor, wgu: Tensor, wd: Tensor, col: Tensor, eps: float, inter: int, "
            + "chunk: int",
        "x1 = torch.addmm(x, att, torch.t(wo))",
        "n = torch.mul(x1, torch.pow(torch.add(torch.matmul(torch.mul(x1, x1), col), eps), -0.5))",
        "rows = torch.size(n, 0)",
        "if rows <= chunk:",
        "  gu = torch.matmul(n, torch.t(wgu))",
        "  a = torch.mul_(torch.silu(torch.slice(gu, 1, 0, inter)), torch.slice(gu, 1, inter, None))",
        "  y = torch.addmm(x1, a, torch.t(wd))",
        "else:",
        "  y = torch.empty_like(x1)",
        "  for s in range(0, rows, chunk):",
        "    e = min(s + chunk, rows)",
        "    gu = torch.matmul(torch.slice(n, 0, s, e), torch.t(wgu))",
        "    a = torch.mul_(torch.silu(torch.slice(gu, 1, 0, inter)), torch.slice(gu, 1, inter, None))",
        "    _0 = torch.copy_(torch.slice(y, 0, s, e), torch.addmm(torch.slice(x1, 0, s, e), a, torch.t(wd)))",
        "return y");
    headScript = new TorchScriptModule(base, "ToEditHead",
        "h: Tensor, w: Tensor, tgt: Tensor, k: int, cols: int, floor: float, dt: int",
        // per vocabulary chunk: the logits (the only [n, cols] temporary: the log-sum-exp's terms are computed
        // in place once top-k and the target have read them), then a running log-sum-exp, top k and target
        "n = torch.size(h, 0)",
        "v = torch.size(w, 0)",
        "hd = h",
        "if dt != 6:",
        "  hd = torch.to(h, dt)",
        "lse = torch.slice(h, 1, 0, 1)",                                   // placeholders, set by the first chunk
        "target = lse",
        "topv = lse",
        "topi = tgt",
        "for c0 in range(0, v, cols):",
        "  c1 = min(v, c0 + cols)",
        "  wc = torch.slice(w, 0, c0, c1)",
        "  if dt == 6:",
        "    logits = torch.linear(h, torch.to(wc, 6))",
        "  else:",
        "    logits = torch.to(torch.linear(hd, wc), 6)",
        "  mx = torch.amax(logits, [1], True)",
        "  tv, ti = torch.topk(logits, min(k, c1 - c0), 1)",
        "  ti = torch.add(ti, c0)",
        "  local = torch.sub(tgt, c0)",
        "  inc = torch.logical_and(torch.ge(local, 0), torch.lt(local, c1 - c0))",
        "  tl = torch.gather(logits, 1, torch.clamp(local, 0, c1 - c0 - 1))",
        "  cl = torch.add(mx, torch.log(torch.sum("
            + "torch.exp_(torch.clamp_min_(torch.sub_(logits, mx), floor)), [1], True)))",
        "  if c0 == 0:",
        "    lse = cl",
        "    topv = tv",
        "    topi = ti",
        "    target = torch.where(inc, tl, torch.zeros_like(tl))",
        "  else:",
        "    hi = torch.maximum(lse, cl)",
        "    lse = torch.add(hi, torch.log(torch.add(torch.exp(torch.sub(lse, hi)), torch.exp(torch.sub(cl, hi)))))",
        "    mv, mi = torch.topk(torch.cat([topv, tv], 1), k, 1)",
        "    topi = torch.gather(torch.cat([topi, ti], 1), 1, mi)",
        "    topv = mv",
        "    target = torch.where(inc, tl, target)",
        "return torch.cat([torch.to(lse, 7), torch.to(target, 7), torch.to(topv, 7), torch.to(topi, 7)], 1)");
    mlpRows = Math.max(1, mlpChunkBytes / (2L * cfg.intermediateSize() * Float.BYTES));
    hostTopK = onCpu() && cfg.vocabSize() <= HOST_TOPK_MAX_VOCAB;
    float[] col = new float[h];
    java.util.Arrays.fill(col, 1f / h);
    meanColumn = base.create(FloatBuffer.wrap(col), new Shape(h, 1));
  }

  /** Embedding rows of {@code tokens [N]}: {@code [N, H]} float32 in {@code m}. */
  private NDArray embedding(NDManager m, NDArray tokens) {
    return lowp != null ? lowp.embed(m, tokens) : embed.get(m, new NDIndex("{}", tokens));
  }

  /**
   * Float32 logits {@code [n, c1 - c0]} of the head's vocabulary rows [c0, c1) for {@code h [n, H]}, in {@code m};
   * in 16 bits a 16-bit product unless {@code exact} (see {@link ReducedPrecision#logits}).
   */
  private NDArray logits(NDManager m, NDArray h, int c0, int c1, boolean exact) {
    if (lowp != null) {
      return lowp.logits(m, h, c0, c1, exact);
    }
    NDArray w = c0 == 0 && c1 == cfg.vocabSize() ? head : head.get(m, new NDIndex().addSliceDim(c0, c1));
    return Linear.linear(h, w).singletonOrThrow();
  }

  /**
   * A matrix-product rate probe: products {@code [rows, H] x [H, H]} (the o_proj shape: small, so the probe
   * adds little to the process's peak memory) in the compute dtype on random data made beforehand, one untimed, then {@code rounds}
   * rounds of {@code reps}, each between {@code beforeRound} and {@code afterRound} (which take the round);
   * returns the FLOPs of one round.
   */
  double matmulProbe(int rows, int rounds, int reps, java.util.function.IntConsumer beforeRound,
      java.util.function.IntConsumer afterRound) {
    int h = cfg.hiddenSize();
    int out = h;
    try (NDManager m = base.newSubManager()) {
      NDArray x = m.randomUniform(-1f, 1f, new Shape(rows, h));
      NDArray w = m.randomUniform(-1f, 1f, new Shape(out, h));
      ai.djl.pytorch.jni.IValue held = lowp != null ? lowp.hold(w) : null;
      try {
        for (int r = -1; r < rounds; r++) {
          if (r >= 0) {
            beforeRound.accept(r);
          }
          for (int i = 0; i < (r < 0 ? 1 : reps); i++) {
            try (NDManager rm = m.newSubManager()) {
              NDArray y = held != null ? lowp.product(rm, x, held, out) : Linear.linear(x, w).singletonOrThrow();
              y.getFloat(0, 0);                                           // waits for the device
            }
          }
          if (r >= 0) {
            afterRound.accept(r);
          }
        }
      } finally {
        if (held != null) {
          held.close();
        }
      }
    }
    return 2.0 * rows * h * out * reps;
  }

  /** Whether the weights and passes are on the CPU. */
  boolean onCpu() {
    return ai.djl.Device.Type.CPU.equals(base.getDevice().getDeviceType());
  }

  /** The dtype of the weights and matrix products. */
  ComputeDtype dtype() {
    return lowp != null ? lowp.dtype() : ComputeDtype.FLOAT32;
  }

  /** Moves a weight out of a loading scope into the model's manager. */
  private NDArray keep(NDArray a) {
    a.attach(base);
    return a;
  }

  /** Rows of rotate_half(W x) for a row-major [heads*hd, ...] weight (or bias): -second half, then first half. */
  private static NDArray rotateHalfRows(NDArray w, int heads, int hd) {
    Shape s = w.getShape();
    long cols = s.dimension() == 2 ? s.get(1) : 1;
    NDArray w4 = w.reshape(heads, 2, hd / 2, cols);
    NDArray first = w4.get(new NDIndex().addAllDim().addSliceDim(0, 1));
    NDArray second = w4.get(new NDIndex().addAllDim().addSliceDim(1, 2));
    NDArray r = second.neg().concat(first, 1);
    return s.dimension() == 2 ? r.reshape(s) : r.reshape(s.get(0));
  }

  AttentionKernel attention() {
    return kernel;
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
      NDArray x = embedding(m, tokens);                                   // [N, H]
      NDArray h = hidden(m, x, b, tp, lengths, attentionBudget);          // [N, H] normalised, no gain
      o = headOutput(m, h, targets, b, tp, k, attentionBudget);
    }
    return tp == t ? o : o.firstColumns(t);
  }

  /**
   * Threads a pass's attention may use besides PyTorch's: the worker's intra-op threads. The simd kernel
   * spreads its (row, kv head) units over them; results are bit-identical for any count.
   */
  void attentionThreads(int n) {
    attention.threads = Math.max(1, n);
  }

  /** Full logits of one sequence (test aid: compare with float64 references). */
  float[][] logits(int[] ids) {
    try (NDManager m = base.newSubManager()) {
      long[] flat = new long[ids.length];
      for (int i = 0; i < ids.length; i++) {
        flat[i] = ids[i];
      }
      NDArray x = embedding(m, m.create(flat));
      NDArray h = hidden(m, x, 1, ids.length, new int[] {ids.length}, Long.MAX_VALUE);
      float[] all = logits(m, h, 0, cfg.vocabSize(), true).toFloatArray();
      float[][] out = new float[ids.length][cfg.vocabSize()];
      for (int i = 0; i < ids.length; i++) {
        System.arraycopy(all, i * cfg.vocabSize(), out[i], 0, cfg.vocabSize());
      }
      return out;
    }
  }

  /**
   * The decoder stack; returns the final hidden state, RMS-normalised and scaled by the final norm's gain. Each
   * layer's temporaries live in a layer scope that is closed before the next layer, so a pass holds one
   * layer's temporaries at a time, not all of them.
   */
  private NDArray hidden(NDManager m, NDArray x, int b, int t, int[] lengths, long budget) {
    if (lowp != null) {
      for (int l = 0; l < cfg.numLayers(); l++) {
        NDArray next = lowp.layer(m, x, l, b, t, attention.slide, mlpRows);
        x.close();
        x = next;
      }
      return rmsNorm(x).mul(finalGain);
    }
    Attention.Pass pass = attention.begin(m, b, t, lengths, budget);
    NDIndex all = new NDIndex().addSliceDim(0, x.getShape().get(0));
    for (int l = 0; l < cfg.numLayers(); l++) {
      NDArray next;
      try (NDManager lm = m.newSubManager()) {
        NDArray n = rmsNorm(x.get(lm, all));                              // a view in the layer scope
        NDArray y = bQkv[l] == null ? Linear.linear(n, wQkv[l]).singletonOrThrow()
            : Linear.linear(n, wQkv[l], bQkv[l]).singletonOrThrow();      // [N, width]
        next = postAttention(m, x, pass.attend(y, l), l);                 // [N, H], in the pass scope
      }
      x.close();
      x = next;
    }
    return rmsNorm(x).mul(finalGain);
  }

  /**
   * o_proj + residual, RMSNorm, SiLU MLP + residual in one TorchScript call: {@code addmm} folds each residual
   * add into its matrix product and {@code silu} is one kernel (about 3 % of a pass faster than the same
   * ops issued one by one through DJL). The module is parameterless; weights are passed in.
   */
  private NDArray postAttention(NDManager m, NDArray x, NDArray att, int l) {
    return mlp.call(m, x, att, wO[l], wGateUp[l], wDown[l], meanColumn, cfg.rmsNormEps(),
        (long) cfg.intermediateSize(), mlpRows);
  }

  private NDArray rmsNorm(NDArray x) {
    // x / sqrt(mean(x^2) + eps); the gain is folded into the next weight. The mean is column 0 of a
    // product with a [H, 16] matrix of 1/H: PyTorch's row reduction, and MKL's matrix-vector product,
    // sum some rows in another order when they sit in a larger tensor; the matrix-matrix product does not
    // (batch invariance: a document gets the same bits alone and in a padded batch).
    return x.mul(x.square().matMul(meanColumn).add((float) cfg.rmsNormEps()).pow(-0.5f));
  }

  /**
   * Log-softmax, the actual next token's log-prob and the top k, on the device. A small vocabulary on a CPU:
   * full log-softmax rows copied to the host for top-k ({@link #topKOnHost}). Otherwise the head is computed
   * in vocabulary chunks of at most {@link #HEAD_BUDGET} logits, each chunk's weight rows read once per pass,
   * with a running log-sum-exp and a running top k merged chunk by chunk.
   */
  private Output headOutput(NDManager m, NDArray h, long[] targets, int b, int t, int k, long budget) {
    int n = b * t;
    int v = cfg.vocabSize();
    float[] lp = new float[n];
    int[] ids = new int[n * k];
    float[] lps = new float[n * k];
    if (hostTopK) {
      int rowsPerChunk = (int) Math.max(1, Math.min(n, Math.max(budget, 1L << 22) / v));
      for (int r0 = 0; r0 < n; r0 += rowsPerChunk) {
        int r1 = Math.min(n, r0 + rowsPerChunk);
        NDArray hc = r0 == 0 && r1 == n ? h : h.get(new NDIndex().addSliceDim(r0, r1));
        NDArray logp = logits(m, hc, 0, v, true).logSoftmax(1);           // [n, V]
        topKOnHost(logp.toFloatArray(), r0, r1, v, k, targets, lp, ids, lps);
      }
      return new Output(b, t, k, lp, ids, lps);
    }
    NDArray tgt = m.create(targets, new Shape(n, 1));
    int cols = (int) Math.max(k, Math.min(v, HEAD_BUDGET / Math.max(1, n)));
    // one call: [n, 2 + 2k] float64 columns lse, target logit, top-k logits, top-k ids (float32 values and
    // int64 ids, both exact in float64)
    double[] r = headScript.call(m, h, lowp != null ? lowp.headWeight() : head, tgt, (long) k, (long) cols,
        (double) EXP_FLOOR, lowp != null ? lowp.dtype().torchCode : ComputeDtype.FLOAT32.torchCode)
        .toDoubleArray();
    int w = 2 + 2 * k;
    if (lowp == null) {
      for (int i = 0; i < n; i++) {
        float lse = (float) r[i * w];
        lp[i] = (float) r[i * w + 1] - lse;                               // float32 arithmetic, as on the device
        for (int j = 0; j < k; j++) {
          lps[i * k + j] = (float) r[i * w + 2 + j] - lse;
          ids[i * k + j] = (int) r[i * w + 2 + k + j];
        }
      }
      return new Output(b, t, k, lp, ids, lps);
    }
    float[] lseH = new float[n];
    float[] topVH = new float[n * k];
    long[] topIH = new long[n * k];
    for (int i = 0; i < n; i++) {
      lseH[i] = (float) r[i * w];
      for (int j = 0; j < k; j++) {
        topVH[i * k + j] = (float) r[i * w + 2 + j];
        topIH[i * k + j] = (long) r[i * w + 2 + k + j];
      }
    }
    NDArray lse = m.create(lseH, new Shape(n, 1));
    NDArray topV = m.create(topVH, new Shape(n, k));
    NDArray topI = m.create(topIH, new Shape(n, k));
    // 16-bit logits are rounded to 16 bits (bfloat16: 0.0625 at 10-16, 0.5 at 64-128), coarser than the 0.01
    // nats between P = 0.99 and 1 that the edit rule looks at: the top k and the target are recomputed in float32
    // from their weight rows, and the log-sum-exp takes their exact terms instead of the rounded ones (the other
    // terms keep their 16-bit values; they weigh the least)
    NDArray exact = lowp.exactLogits(m, h, topI.concat(tgt, 1));        // [n, k + 1]
    NDArray exTop = exact.get(new NDIndex().addAllDim().addSliceDim(0, k));
    NDArray delta = exTop.sub(lse).exp().sub(topV.sub(lse).exp()).sum(new int[] {1}, true);
    lse = lse.add(delta.add(1f).maximum(Float.MIN_NORMAL).log());
    NDList order = exTop.topK(k, 1);
    topV = order.get(0);
    topI = topI.gather(order.get(1).toType(DataType.INT64, false), 1);
    NDArray target = exact.get(new NDIndex().addAllDim().addSliceDim(k, k + 1));
    System.arraycopy(target.sub(lse).toFloatArray(), 0, lp, 0, n);
    System.arraycopy(topV.sub(lse).toFloatArray(), 0, lps, 0, n * k);
    long[] idx = topI.toLongArray();
    for (int i = 0; i < idx.length; i++) {
      ids[i] = (int) idx[i];
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
    attention.close();
    mlp.close();
    headScript.close();
    if (lowp != null) {
      lowp.close();
    }
    base.close();
  }
}
