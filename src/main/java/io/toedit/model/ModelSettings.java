package io.toedit.model;

import java.nio.file.Path;

/**
 * How to load and run the prior model.
 *
 * @param modelDir a Hugging Face Llama-family folder; {@code null} means the bundled stories260k
 * @param device {@code auto}, {@code cpu} or {@code gpu}
 * @param workers scoring workers (threads that each run forward passes on the shared weights)
 * @param threadsPerWorker PyTorch intra-op threads per worker (PyTorch's pool is process-wide, so this is
 *     also the process's intra-op thread count)
 * @param topK candidates returned per position
 * @param maxBatchTokens padded tokens (B x T) per forward pass
 * @param windowTokens longest sequence scored in one pass; longer ones are scored in windows
 *     ({@code 0} = min(max_position_embeddings, maxBatchTokens); capped at a {@code qwen2} sliding window only)
 * @param windowOverlap tokens of context carried into each following window
 * @param attentionBudget most attention-score elements (B x heads x Tq x Tk) materialised at once by the
 *     {@code ndarray} attention kernel
 * @param attention the attention kernel ({@link AttentionKernel#AUTO} picks by device and model)
 * @param dtype the weights' and matrix products' dtype ({@link ComputeDtype#AUTO}: bfloat16 on a GPU, float32
 *     on a CPU)
 */
public record ModelSettings(Path modelDir, String device, int workers, int threadsPerWorker, int topK,
    int maxBatchTokens, int windowTokens, int windowOverlap, long attentionBudget, AttentionKernel attention,
    ComputeDtype dtype) {

  /** Settings with {@link ComputeDtype#AUTO}. */
  public ModelSettings(Path modelDir, String device, int workers, int threadsPerWorker, int topK,
      int maxBatchTokens, int windowTokens, int windowOverlap, long attentionBudget, AttentionKernel attention) {
    this(modelDir, device, workers, threadsPerWorker, topK, maxBatchTokens, windowTokens, windowOverlap,
        attentionBudget, attention, ComputeDtype.AUTO);
  }

  public static ModelSettings defaults() {
    int cores = Runtime.getRuntime().availableProcessors();
    // measured on 2 vCPUs: one worker per core with 1 intra-op thread each; batches of <= 2048 padded
    // tokens and attention chunks of <= 256 Ki scores keep every temporary small (large fresh buffers
    // were several times slower per element there)
    return new ModelSettings(null, "auto", cores, 1, 8, 2048, 0, 128, 256L * 1024, AttentionKernel.AUTO);
  }

  public ModelSettings withModelDir(Path dir) {
    return new ModelSettings(dir, device, workers, threadsPerWorker, topK, maxBatchTokens, windowTokens,
        windowOverlap, attentionBudget, attention, dtype);
  }

  public ModelSettings withTopK(int k) {
    return new ModelSettings(modelDir, device, workers, threadsPerWorker, k, maxBatchTokens, windowTokens,
        windowOverlap, attentionBudget, attention, dtype);
  }

  public ModelSettings withAttention(AttentionKernel kernel) {
    return new ModelSettings(modelDir, device, workers, threadsPerWorker, topK, maxBatchTokens, windowTokens,
        windowOverlap, attentionBudget, kernel, dtype);
  }

  public ModelSettings withDtype(ComputeDtype d) {
    return new ModelSettings(modelDir, device, workers, threadsPerWorker, topK, maxBatchTokens, windowTokens,
        windowOverlap, attentionBudget, attention, d);
  }

  /** The folder to load: {@link #modelDir()} or the bundled model. */
  public Path resolvedModelDir() {
    return modelDir != null ? modelDir : BundledModel.directory();
  }
}
