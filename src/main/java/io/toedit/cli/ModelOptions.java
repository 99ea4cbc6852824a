package io.toedit.cli;

import io.toedit.model.AttentionKernel;
import io.toedit.model.ComputeDtype;
import io.toedit.model.ModelSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Prior-model options shared by every command that scores text ({@code score}, {@code bench}, ...). */
public final class ModelOptions {

  private static final ModelSettings D = ModelSettings.defaults();

  @Option(names = "--model-dir", paramLabel = "DIR",
      description = "Hugging Face folder of a llama, mistral, qwen2 or qwen3 model (config.json, model.safetensors[.index.json], tokenizer.json). "
          + "Default: the bundled stories260k.")
  Path modelDir;

  @Option(names = "--device", paramLabel = "auto|cpu|gpu", defaultValue = "auto",
      description = "auto uses a GPU when DJL sees one. Default: ${DEFAULT-VALUE}.")
  String device;

  @Option(names = "--workers", paramLabel = "N",
      description = "Scoring threads sharing the weights. Default: one per core; at most 2 for a checkpoint of "
          + "1 GiB or more of float32 weights.")
  Integer workers;

  @Option(names = "--threads", paramLabel = "N",
      description = "PyTorch intra-op threads per worker (process-wide). Default: 1; for a checkpoint of 1 GiB or "
          + "more of float32 weights, cores / workers.")
  Integer threads;

  @Option(names = "--top-k", paramLabel = "K", defaultValue = "8",
      description = "Candidates per position. Default: ${DEFAULT-VALUE}.")
  int topK;

  @Option(names = "--max-batch-tokens", paramLabel = "N",
      description = "Padded tokens (B x T) per forward pass. Default: " + "${DEFAULT-VALUE}.", defaultValue = "2048")
  int maxBatchTokens;

  @Option(names = "--window", paramLabel = "N", defaultValue = "0",
      description = "Longest sequence per forward pass; longer ones are scored in sliding windows "
          + "(0 = min(max_position_embeddings, --max-batch-tokens); a mistral sliding_window is masked, a qwen2 "
          + "one caps it). "
          + "Default: ${DEFAULT-VALUE}.")
  int window;

  @Option(names = "--window-overlap", paramLabel = "N", defaultValue = "128",
      description = "Context tokens carried into each following window (at least 1). Default: ${DEFAULT-VALUE}.")
  int windowOverlap;

  @Option(names = "--attention-budget", paramLabel = "N",
      description = "Most attention scores (B x heads x query chunk x keys) materialised at once; queries are "
          + "processed in chunks that fit. Default: " + "${DEFAULT-VALUE}.")
  long attentionBudget = D.attentionBudget();

  @Option(names = "--attention", paramLabel = "auto|simd|sdpa|ndarray", defaultValue = "auto",
      converter = AttentionConverter.class,
      description = "Attention kernel: simd (Java Vector API, CPU, head_dim a multiple of 8), sdpa (PyTorch's "
          + "fused scaled_dot_product_attention), ndarray (chunked NDArray ops). auto: simd on a CPU for "
          + "head_dim a multiple of 8, sdpa on a GPU, else ndarray. Default: ${DEFAULT-VALUE}.")
  AttentionKernel attention;

  @Option(names = "--dtype", paramLabel = "auto|float32|bfloat16|float16", defaultValue = "auto",
      converter = DtypeConverter.class,
      description = "Dtype of the weights and matrix products: float32, or bfloat16/float16 (norm statistics, "
          + "RoPE, the residual stream, softmax and top-k stay float32; attention runs in sdpa). auto: bfloat16 "
          + "on a GPU; on a CPU float32, or bfloat16 for a checkpoint of 1 GiB or more of float32 weights when "
          + "this CPU's bfloat16 products measure at least 1.3x float32's at load (logged). "
          + "Default: ${DEFAULT-VALUE}.")
  ComputeDtype dtype;

  static final class DtypeConverter implements picocli.CommandLine.ITypeConverter<ComputeDtype> {
    @Override
    public ComputeDtype convert(String value) {
      return ComputeDtype.parse(value);
    }
  }

  static final class AttentionConverter implements picocli.CommandLine.ITypeConverter<AttentionKernel> {
    @Override
    public AttentionKernel convert(String value) {
      return AttentionKernel.parse(value);
    }
  }

  public ModelSettings toSettings() {
    int[] wt = workersAndThreads(workers, threads, Relauncher.float32WeightBytes(modelDir), D.workers());
    return new ModelSettings(modelDir, device, wt[0], wt[1], topK, maxBatchTokens, window, windowOverlap,
        attentionBudget, attention, dtype);
  }

  /**
   * Workers and intra-op threads per worker, the given ones or the defaults: one worker per core with one thread
   * each; for a checkpoint of {@link Relauncher#LARGE_MODEL_BYTES} or more of float32 weights, at most
   * {@link #LARGE_MODEL_WORKERS} workers sharing the cores, so that at most that many passes' temporaries are
   * in flight on any machine (at the Llama-3.2-1B shape on 2 vCPUs, 2 workers x 1 thread against 1 x 2: 46, 46
   * and 45 against 33, 38 and 26 tokens/s in one alternating sitting, 44 vs 31 and 93 vs 80 in earlier ones;
   * peak RSS 6.13-6.15 against 5.85-5.86 GB, 1.24 x against 1.18 x the float32 weights; docs/performance.md).
   */
  static final int LARGE_MODEL_WORKERS = 2;

  static int[] workersAndThreads(Integer workers, Integer threads, long f32Bytes, int cores) {
    boolean large = f32Bytes >= Relauncher.LARGE_MODEL_BYTES;
    int w = workers != null ? workers
        : large ? Math.min(LARGE_MODEL_WORKERS, Math.max(1, cores / (threads != null ? threads : 1))) : cores;
    int t = threads != null ? threads : large ? Math.max(1, cores / Math.max(1, w)) : 1;
    return new int[] {w, t};
  }
}
