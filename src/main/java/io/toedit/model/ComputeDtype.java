package io.toedit.model;

import java.util.Locale;

/**
 * The dtype of the prior's weights and matrix products. Whatever it is, RMSNorm statistics, RoPE, q/k norms,
 * the residual stream, softmax, log-softmax and top-k run in float32 ({@link ReducedPrecision}).
 */
public enum ComputeDtype {
  /**
   * {@link #BFLOAT16} on a GPU; on a CPU {@link #FLOAT32}, or {@link #BFLOAT16} for a large model where this CPU's
   * bfloat16 products measure at least {@link #BF16_MIN_SPEEDUP} x float32's ({@link #resolveOnCpu}).
   */
  AUTO(-1),
  /** Everything in float32: bit-identical across batching, every attention kernel. */
  FLOAT32(6),
  /** bfloat16 weights and activations into the matrix products and attention (PyTorch's sdpa). */
  BFLOAT16(15),
  /** float16 likewise (for GPUs without bfloat16, before Ampere). */
  FLOAT16(5);

  /** PyTorch's {@code ScalarType} code, as TorchScript takes a dtype argument. */
  final long torchCode;

  ComputeDtype(long torchCode) {
    this.torchCode = torchCode;
  }

  /** Whether the weights are held in a 16-bit dtype (the {@link ReducedPrecision} path). */
  boolean reduced() {
    return this == BFLOAT16 || this == FLOAT16;
  }

  /**
   * Least measured speedup of bfloat16 products over float32 ones ({@link DtypeProbe}) for which {@code auto} picks
   * bfloat16 on a CPU. Below it float32 wins: it is more precise, and bit-identical across batching. The two hosts
   * measured are far from it on either side (0.55x and about 2x), so a noisy probe does not flip the choice there.
   */
  static final double BF16_MIN_SPEEDUP = 1.3;

  /**
   * The dtype for {@code auto} without a measurement: bfloat16 on a GPU (tensor cores, and PyTorch's flash
   * attention needs a 16-bit dtype), float32 on a CPU (see {@link #resolveOnCpu} for large models).
   */
  static ComputeDtype resolve(ComputeDtype requested, boolean gpu) {
    if (requested != AUTO) {
      return requested;
    }
    return gpu ? BFLOAT16 : FLOAT32;
  }

  /**
   * The dtype for {@code auto} on a CPU: bfloat16 when the model is large ({@link Models#LARGE_MODEL_BYTES}: its
   * time goes to matrix products), the attention kernel may run in 16 bits (auto or sdpa) and bfloat16 products
   * measure at least {@link #BF16_MIN_SPEEDUP} x float32's on this CPU; float32 otherwise. {@code bf16Speedup} is
   * asked only when the rest allows bfloat16. On the AMD EPYC (Zen 4) host of docs/performance.md this picks
   * bfloat16 (about 2x, and 1.8-2x the scored tokens/s at the Llama-3.2-1B shape), on the Intel Xeon (Emerald
   * Rapids, no AMX) float32 (0.55x, {@code Bf16MatmulProbe}). A small model keeps float32 whatever the CPU: its
   * passes are dominated by attention and per-call costs, and float32 is bit-identical across batching.
   */
  static ComputeDtype resolveOnCpu(ComputeDtype requested, boolean large, AttentionKernel attention,
      java.util.function.DoubleSupplier bf16Speedup) {
    if (requested != AUTO) {
      return requested;
    }
    boolean attentionAllows = attention == AttentionKernel.AUTO || attention == AttentionKernel.SDPA;
    return large && attentionAllows && bf16Speedup.getAsDouble() >= BF16_MIN_SPEEDUP ? BFLOAT16 : FLOAT32;
  }

  /** Parses {@code auto|float32|bfloat16|float16} (any case; also {@code f32}, {@code bf16}, {@code f16}). */
  public static ComputeDtype parse(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "auto" -> AUTO;
      case "float32", "f32", "fp32" -> FLOAT32;
      case "bfloat16", "bf16" -> BFLOAT16;
      case "float16", "f16", "fp16", "half" -> FLOAT16;
      default -> throw new IllegalArgumentException("dtype must be one of auto, float32, bfloat16, float16; got '"
          + s + "'");
    };
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
