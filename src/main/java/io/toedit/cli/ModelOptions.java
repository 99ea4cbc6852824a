package io.toedit.cli;

import io.toedit.model.AttentionKernel;
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
      description = "Scoring threads sharing the weights. Default: one per core.")
  Integer workers;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
      description = "PyTorch intra-op threads per worker (process-wide). Default: ${DEFAULT-VALUE}.")
  int threads;

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
      description = "Context tokens carried into each following window. Default: ${DEFAULT-VALUE}.")
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

  static final class AttentionConverter implements picocli.CommandLine.ITypeConverter<AttentionKernel> {
    @Override
    public AttentionKernel convert(String value) {
      return AttentionKernel.parse(value);
    }
  }

  public ModelSettings toSettings() {
    return new ModelSettings(modelDir, device, workers != null ? workers : D.workers(), threads, topK,
        maxBatchTokens, window, windowOverlap, attentionBudget, attention);
  }
}
