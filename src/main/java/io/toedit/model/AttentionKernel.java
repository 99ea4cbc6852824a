package io.toedit.model;

import java.util.List;
import java.util.Locale;

/**
 * How a forward pass computes causal attention. All kernels give the same numbers to float rounding;
 * the golden tests run through each one.
 */
public enum AttentionKernel {
  /** {@link #SIMD} on a CPU when it applies ({@code head_dim} a multiple of 8, Vector API present), else
   * {@link #SDPA} on a GPU, else {@link #NDARRAY}. */
  AUTO,
  /** Plain Java with the Vector API ({@link SimdAttention}); CPU only. */
  SIMD,
  /** PyTorch's fused {@code scaled_dot_product_attention} through a TorchScript module: on float32 tensors,
   * or on 16-bit ones with a 16-bit {@link ComputeDtype} (where PyTorch's flash kernels apply on CUDA); on a CPU
   * with {@code head_dim} 8 it is no faster than {@link #NDARRAY}. */
  SDPA,
  /** DJL NDArray operations: query-chunked matrix products, mask and softmax under the attention budget. */
  NDARRAY;

  /** The JVM module {@link #SIMD} needs. */
  public static final String VECTOR_MODULE = "jdk.incubator.vector";

  /** JVM flags that keep each vector pass of {@link SimdAttention} compiled on its own (see there). */
  public static final List<String> JIT_FLAGS = List.of(
      "-XX:CompileCommand=quiet",
      "-XX:CompileCommand=dontinline,io.toedit.model.SimdAttention::scores*",
      "-XX:CompileCommand=dontinline,io.toedit.model.SimdAttention::expSum",
      "-XX:CompileCommand=dontinline,io.toedit.model.SimdAttention::weighted*");

  /** Whether this JVM has the Vector API module (checked without loading any vector class). */
  public static boolean simdAvailable() {
    return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
  }

  /** Whether {@link #SIMD} can run a model with this head dimension in this JVM. */
  static boolean simdSupports(int headDim) {
    return simdAvailable() && headDim > 0 && headDim % 8 == 0;
  }

  /**
   * The kernel's implementation bound to a model (the one place that dispatches on the kernel).
   *
   * @param tableRows rows of the RoPE tables: the longest sequence a forward pass accepts, rounded up
   */
  Attention bind(LlamaConfig cfg, ai.djl.ndarray.NDManager base, int tableRows) {
    return switch (this) {
      case SIMD -> new Attention.Simd(cfg, base, tableRows);
      case SDPA -> new Attention.Sdpa(cfg, base, tableRows);
      case NDARRAY -> new Attention.Chunked(cfg, base, tableRows);
      case AUTO -> throw new IllegalArgumentException("resolve AttentionKernel.AUTO before loading the model");
    };
  }

  /** Parses {@code auto|simd|sdpa|ndarray} (any case), naming the accepted values on error. */
  public static AttentionKernel parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("attention kernel must be one of auto, simd, sdpa, ndarray; got '" + s
          + "'");
    }
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
