package io.toedit.cli;

import io.toedit.model.ModelSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Model options shared by the commands that load the prior model (picocli mixin). Minimal version
 * written by the edit branch; the model branch owns the full set.
 */
public final class ModelOptions {

  @Option(names = "--model-dir", paramLabel = "DIR",
      description = "Hugging Face Llama-family model folder (config.json, model.safetensors, tokenizer.json); "
          + "default: the bundled stories260k.")
  Path modelDir;

  @Option(names = "--device", paramLabel = "DEVICE", defaultValue = "auto",
      description = "auto, cpu or gpu (default: ${DEFAULT-VALUE}).")
  String device;

  public ModelSettings toSettings() {
    ModelSettings d = ModelSettings.defaults();
    return new ModelSettings(modelDir, device, d.workers(), d.threadsPerWorker(), d.topK(), d.maxBatchTokens(),
        d.windowTokens(), d.windowOverlap(), d.attentionBudget());
  }
}
