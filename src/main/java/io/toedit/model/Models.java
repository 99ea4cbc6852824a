package io.toedit.model;

import io.toedit.text.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Factories for the model side: one place that turns {@link ModelSettings} into live objects. */
public final class Models {

  /**
   * Float32 weight size from which a checkpoint counts as large: the launcher gives it a malloc setting and a heap
   * of its own, the CLI defaults to at most two workers sharing the cores, and on a CPU {@code dtype=auto} measures
   * whether bfloat16 products are faster than float32 ones ({@link ComputeDtype#resolveOnCpu}). For a 1B-parameter
   * model (4.9 GB float32) the retained malloc arenas of small models cost RSS and bought nothing: measured on
   * 2 vCPUs, Llama-3.2-1B shape, one 500-token pass, peak RSS 7.85 GB with them and 7.49 GB without, both 37 scored
   * tokens per CPU-second.
   */
  public static final long LARGE_MODEL_BYTES = 1L << 30;

  private Models() {
  }

  /** Size of a model folder's weights once widened to float32 (2-byte dtypes double); 0 for null. */
  public static long float32WeightBytes(Path dir) {
    long bytes = 0;
    if (dir == null) {
      return 0;
    }
    try (var files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.getFileName().toString().endsWith(".safetensors")) {
          bytes += Files.size(f);
        }
      }
      String config = Files.readString(dir.resolve("config.json"));
      boolean half = config.contains("\"bfloat16\"") || config.contains("\"float16\"");
      return half ? 2 * bytes : bytes;
    } catch (java.io.IOException | RuntimeException e) {
      return bytes;                                                     // a broken folder fails later, with a clear error
    }
  }

  /**
   * The tokenizer of the configured model folder: {@code tokenizer.json}, with the special tokens of
   * {@code tokenizer_config.json} and {@code config.json} (see {@link HfTokenizer#open}).
   */
  public static TextTokenizer openTokenizer(ModelSettings settings) {
    Path dir = settings.resolvedModelDir();
    Path config = dir.resolve("config.json");
    if (!Files.isRegularFile(config)) {
      throw new IllegalArgumentException("Missing model config: " + config
          + " (expected a Hugging Face model folder with config.json, model.safetensors and tokenizer.json)");
    }
    return HfTokenizer.open(dir);
  }

  /**
   * Loads the prior model (a Hugging Face Llama-family folder, F32/BF16/F16 safetensors, single or sharded)
   * onto the configured device and returns a thread-safe scorer. Caller must close.
   *
   * @throws IllegalArgumentException for a missing file, unsupported architecture or dtype, a shape
   *     mismatch (naming the file and field), bad settings, or {@code device=gpu} without a GPU
   */
  public static Scorer openScorer(ModelSettings settings) {
    return DjlScorer.open(settings);
  }
}
