package io.toedit.model;

import io.toedit.text.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Factories for the model side: one place that turns {@link ModelSettings} into live objects. */
public final class Models {

  private Models() {
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
