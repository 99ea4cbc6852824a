package io.toedit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.IValue;
import java.nio.FloatBuffer;

/**
 * The decoder with 16-bit weights ({@link ComputeDtype#BFLOAT16} or {@link ComputeDtype#FLOAT16}): the path for
 * GPUs, where 16-bit matrix products use the tensor cores and PyTorch's {@code scaled_dot_product_attention}
 * can pick its flash or memory-efficient kernels, which need a 16-bit dtype.
 *
 * <p>Weights are converted once, after the norm gains and the attention scale are folded in as in the float32
 * path, and are held as opaque {@link IValue}s: DJL's NDArrays do not handle bfloat16, so a 16-bit tensor never
 * becomes one. Each decoder layer is one TorchScript call (float32 in, float32 out):
 * <ul>
 *   <li>16-bit: the q/k/v, o, gate/up and down products (inputs cast just before, outputs cast back just after)
 *       and attention (causal, or the sliding mask);</li>
 *   <li>float32: the residual stream, every RMSNorm's statistics (the hidden state's and qwen3's per-head q/k),
 *       RoPE, and, outside the layer, the final norm, the head's log-sum-exp, log-softmax and top-k (the head's
 *       matrix product itself is 16-bit, in vocabulary chunks, {@link #logits}).</li>
 * </ul>
 * Products and sums write into a temporary of their own when one is free (RoPE's terms, the residual adds, the SiLU
 * product): same kernels, same bits (IEEE addition commutes), fewer fresh pages. On a CPU with AMX the products are
 * fast enough that first-touch page faults of a pass's temporaries (the launcher maps each one of 4 MiB or more
 * separately, for the memory target) are a large share of a pass; in-place these ops cut about 10 % of a layer's time
 * at the 1B shape (2026-12-01, docs/performance.md).
 *
 * <p>This is more precise than a model run wholly in bfloat16 (Hugging Face's {@code torch_dtype=bfloat16} keeps a
 * bfloat16 residual stream). Unlike float32 it is not batch-invariant: a document's bits can depend on its batch.
 */
final class ReducedPrecision implements AutoCloseable {

  private final LlamaConfig cfg;
  private final ComputeDtype dtype;
  private final TorchScriptModule cast;
  private final TorchScriptModule embedding;
  private final TorchScriptModule layer;
  private final TorchScriptModule logits;
  private final TorchScriptModule exactLogits;
  private final NDArray cos;                  // [tableRows, hd] float32
  private final NDArray sin;
  private final NDArray[] qGain;              // float32 [hd] per layer (qwen3), else null
  private final NDArray[] kGain;
  private final IValue[] wQkv;                // rows q | k | v (no pre-rotated rows: RoPE runs in the layer)
  private final IValue[] bQkv;                // qwen2, else null
  private final IValue[] wO;
  private final IValue[] wGateUp;
  private final IValue[] wDown;
  private IValue embed;
  private IValue head;                        // == embed when tied

  ReducedPrecision(LlamaConfig cfg, ComputeDtype dtype, NDManager base, Attention tables) {
    if (!dtype.reduced()) {
      throw new IllegalArgumentException("ReducedPrecision needs bfloat16 or float16, got " + dtype);
    }
    this.cfg = cfg;
    this.dtype = dtype;
    int layers = cfg.numLayers();
    int hd = cfg.headDim();
    cos = base.create(FloatBuffer.wrap(tables.ropeCos), new Shape(tables.tableRows, hd));
    sin = base.create(FloatBuffer.wrap(tables.ropeSin), new Shape(tables.tableRows, hd));
    qGain = new NDArray[layers];
    kGain = new NDArray[layers];
    wQkv = new IValue[layers];
    bQkv = new IValue[layers];
    wO = new IValue[layers];
    wGateUp = new IValue[layers];
    wDown = new IValue[layers];
    cast = new TorchScriptModule(base, "ToEditCast", "w: Tensor, dt: int",
        "return torch.contiguous(torch.to(w, dt))");
    embedding = new TorchScriptModule(base, "ToEditEmbedding", "w: Tensor, ids: Tensor",
        "return torch.to(torch.embedding(w, ids), 6)");
    logits = new TorchScriptModule(base, "ToEditLogits", "h: Tensor, w: Tensor, c0: int, c1: int, dt: int",
        "if dt == 6:",
        "  return torch.linear(h, torch.to(torch.slice(w, 0, c0, c1), 6))",
        "return torch.to(torch.linear(torch.to(h, dt), torch.slice(w, 0, c0, c1)), 6)");
    exactLogits = new TorchScriptModule(base, "ToEditExactLogits", "h: Tensor, w: Tensor, ids: Tensor, chunk: int",
        "n = torch.size(ids, 0)",
        "out = torch.zeros_like(ids, dtype=6)",
        "for s0 in range(0, n, chunk):",
        "  e = min(s0 + chunk, n)",
        "  rows = torch.to(torch.embedding(w, torch.slice(ids, 0, s0, e)), 6)",
        "  _0 = torch.copy_(torch.slice(out, 0, s0, e), "
            + "torch.squeeze(torch.matmul(rows, torch.unsqueeze(torch.slice(h, 0, s0, e), 2)), 2))",
        "return out");
    layer = new TorchScriptModule(base, "ToEditLayer",
        "x: Tensor, wqkv: Tensor, bqkv: Tensor, qg: Tensor, kg: Tensor, cos: Tensor, sin: Tensor, wo: Tensor, "
            + "wgu: Tensor, wd: Tensor, b: int, t: int, nh: int, nkv: int, hd: int, window: int, eps: float, "
            + "inter: int, chunk: int, dt: int, bias: bool, qknorm: bool",
        "n = torch.to(" + rmsNorm("x") + ", dt)",
        "if bias:",
        "  y = torch.linear(n, wqkv, bqkv)",
        "else:",
        "  y = torch.linear(n, wqkv)",
        "y = torch.reshape(torch.to(y, 6), [b, t, (nh + 2 * nkv) * hd])",
        "q = torch.reshape(torch.slice(y, 2, 0, nh * hd), [b, t, nh, hd])",
        "k = torch.reshape(torch.slice(y, 2, nh * hd, (nh + nkv) * hd), [b, t, nkv, hd])",
        "v = torch.reshape(torch.slice(y, 2, (nh + nkv) * hd, (nh + 2 * nkv) * hd), [b, t, nkv, hd])",
        "if qknorm:",
        "  q = torch.mul(" + rmsNorm("q") + ", qg)",
        "  k = torch.mul(" + rmsNorm("k") + ", kg)",
        "half = hd // 2",
        "c = torch.reshape(torch.slice(cos, 0, 0, t), [1, t, 1, hd])",
        "s = torch.reshape(torch.slice(sin, 0, 0, t), [1, t, 1, hd])",
        "q = " + rope("q"),
        "k = " + rope("k"),
        "q = torch.to(torch.transpose(q, 1, 2), dt)",
        "k = torch.to(torch.transpose(k, 1, 2), dt)",
        "v = torch.to(torch.transpose(v, 1, 2), dt)",
        "if nh > nkv:",
        "  k = torch.repeat_interleave(k, nh // nkv, 1)",
        "  v = torch.repeat_interleave(v, nh // nkv, 1)",
        "if window > 0:",
        "  pos = torch.arange(t, device=x.device)",
        "  back = torch.sub(torch.unsqueeze(pos, 1), torch.unsqueeze(pos, 0))",
        "  keep = torch.logical_and(torch.ge(back, 0), torch.lt(back, window))",
        "  o = torch.scaled_dot_product_attention(q, k, v, keep, 0., False, scale=1.)",
        "else:",
        "  o = torch.scaled_dot_product_attention(q, k, v, None, 0., True, scale=1.)",
        "o = torch.reshape(torch.transpose(o, 1, 2), [b * t, nh * hd])",
        "x1 = torch.add_(torch.to(torch.linear(o, wo), 6), x)",
        "n2 = torch.to(" + rmsNorm("x1") + ", dt)",
        "rows = b * t",
        "out = torch.empty_like(x1)",
        "for s0 in range(0, rows, chunk):",
        "  e = min(s0 + chunk, rows)",
        "  gu = torch.linear(torch.slice(n2, 0, s0, e), wgu)",
        "  a = torch.mul_(torch.silu(torch.slice(gu, 1, 0, inter)), torch.slice(gu, 1, inter, None))",
        "  _0 = torch.copy_(torch.slice(out, 0, s0, e), "
            + "torch.add_(torch.to(torch.linear(a, wd), 6), torch.slice(x1, 0, s0, e)))",
        "return out");
  }

  ComputeDtype dtype() {
    return dtype;
  }

  /** TorchScript of {@code v} RMS-normalised over its last dimension (no gain), with {@code eps} in scope. */
  private static String rmsNorm(String v) {
    return "torch.mul(" + v + ", torch.rsqrt(torch.add(torch.mean(torch.mul(" + v + ", " + v + "), [-1], True), eps)))";
  }

  /** TorchScript of HF RoPE on {@code v [.., hd]}: {@code v * c + rotate_half(v) * s}, with c, s, half, hd in scope. */
  private static String rope(String v) {
    return "torch.add_(torch.mul(" + v + ", c), torch.mul_(torch.cat([torch.neg(torch.slice(" + v + ", 3, half, hd)), "
        + "torch.slice(" + v + ", 3, 0, half)], 3), s))";
  }

  /** A float32 weight converted to the compute dtype, held outside DJL; the caller may close {@code w}. */
  IValue hold(NDArray w) {
    return cast.forward(w, dtype.torchCode);
  }

  void setEmbedding(NDArray embed, NDArray head) {
    this.embed = hold(embed);
    this.head = head == embed ? this.embed : hold(head);
  }

  /**
   * A layer's weights, float32 with the gains and scales folded in (q/k/v rows not rotated), each converted to the
   * compute dtype as soon as it is ready, so that the caller can release the float32 one before loading the next;
   * {@code bias} may be null.
   */
  void setQkv(int l, NDArray qkv, NDArray bias) {
    wQkv[l] = hold(qkv);
    bQkv[l] = bias == null ? null : hold(bias);
  }

  void setO(int l, NDArray wo) {
    wO[l] = hold(wo);
  }

  void setGateUp(int l, NDArray gateUp) {
    wGateUp[l] = hold(gateUp);
  }

  void setDown(int l, NDArray down) {
    wDown[l] = hold(down);
  }

  /** qwen3's per-head q/k RMSNorm gains of a layer ({@code q} includes the attention scale). */
  void setQkNorm(int l, float[] q, float[] k, NDManager base) {
    qGain[l] = base.create(q);
    kGain[l] = base.create(k);
  }

  /** Float32 rows of the embedding for {@code tokens [N]}: {@code [N, H]}. */
  NDArray embed(NDManager m, NDArray tokens) {
    return embedding.call(m, embed, tokens);
  }

  /** One decoder layer: {@code x [B*T, H]} float32 in, the next hidden state out, attached to {@code m}. */
  NDArray layer(NDManager m, NDArray x, int l, int b, int t, int window, long mlpRows) {
    boolean bias = bQkv[l] != null;
    boolean qkNorm = qGain[l] != null;
    return layer.call(m, x, wQkv[l], bias ? bQkv[l] : cos, qkNorm ? qGain[l] : cos, qkNorm ? kGain[l] : cos,
        cos, sin, wO[l], wGateUp[l], wDown[l], (long) b, (long) t, (long) cfg.numHeads(), (long) cfg.numKvHeads(),
        (long) cfg.headDim(), (long) window, cfg.rmsNormEps(), (long) cfg.intermediateSize(), mlpRows,
        dtype.torchCode, bias, qkNorm);
  }

  /**
   * Logits {@code [n, c1 - c0]} of the head's vocabulary rows [c0, c1) for float32 {@code h [n, H]}, as float32:
   * a 16-bit product, so each logit is rounded to 16 bits (bfloat16: 2^-8 of its magnitude, 0.0625 at 10-16),
   * or with {@code exact} a float32 product of the 16-bit weights.
   */
  NDArray logits(NDManager m, NDArray h, int c0, int c1, boolean exact) {
    return logits.call(m, h, head, (long) c0, (long) c1, exact ? 6L : dtype.torchCode);
  }

  /**
   * Float32 logits of chosen vocabulary rows: {@code ids [n, j]} (int64) of position i against float32
   * {@code h [n, H]}, from the 16-bit weights without a 16-bit rounding of h or of the product; positions in
   * chunks so that the gathered rows stay within {@link LlamaModel#HEAD_BUDGET} floats.
   */
  NDArray exactLogits(NDManager m, NDArray h, NDArray ids) {
    long perRow = ids.getShape().get(1) * (long) cfg.hiddenSize();     // float32 weight rows gathered per position
    return exactLogits.call(m, h, head, ids, Math.max(1, LlamaModel.HEAD_BUDGET / perRow));
  }

  /** The held 16-bit head weight {@code [V, H]} (the embedding when tied). */
  IValue headWeight() {
    return head;
  }

  /** {@code h [n, H]} float32 times the first {@code rows} rows of a held {@code w} transposed, in 16 bits. */
  NDArray product(NDManager m, NDArray h, IValue w, int rows) {
    return logits.call(m, h, w, 0L, (long) rows, dtype.torchCode);   // (16-bit)
  }

  @Override
  public void close() {
    for (IValue[] all : new IValue[][] {wQkv, bQkv, wO, wGateUp, wDown}) {
      for (IValue v : all) {
        if (v != null) {
          v.close();
        }
      }
    }
    if (head != null && head != embed) {
      head.close();
    }
    if (embed != null) {
      embed.close();
    }
    for (TorchScriptModule module : new TorchScriptModule[] {cast, embedding, layer, logits, exactLogits}) {
      module.close();
    }
  }
}
