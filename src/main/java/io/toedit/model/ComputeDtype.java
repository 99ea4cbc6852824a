package io.toedit.model;

import java.util.Locale;

/**
 * The dtype of the prior's weights and matrix products. Whatever it is, RMSNorm statistics, RoPE, q/k norms,
 * the residual stream, softmax, log-softmax and top-k run in float32 ({@link ReducedPrecision}).
 */
public enum ComputeDtype {
  /** {@link #BFLOAT16} on a GPU, {@link #FLOAT32} on a CPU (measured: see {@link #resolve}). */
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
   * The dtype for {@code auto}: bfloat16 on a GPU (tensor cores, and PyTorch's flash attention needs a 16-bit
   * dtype), float32 on a CPU: on the AVX512_BF16 Xeon (Emerald Rapids, no AMX) of docs/performance.md bfloat16
   * products run at 0.55-0.59x float32 per core ({@code Bf16MatmulProbe}), and float32 keeps batch invariance.
   */
  static ComputeDtype resolve(ComputeDtype requested, boolean gpu) {
    if (requested != AUTO) {
      return requested;
    }
    return gpu ? BFLOAT16 : FLOAT32;
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
