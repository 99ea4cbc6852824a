package io.toedit.cli;

import io.toedit.model.ModelSettings;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How {@code profile} and {@code drift} read and score documents (picocli mixin): a drift audit is
 * only meaningful when its documents are cut and scored as the reference's were, so both commands
 * take the same options.
 */
public final class ProfileOptions {

  @Option(names = "--text-field", defaultValue = "text", description = "JSON field with the text (default: ${DEFAULT-VALUE})")
  String textField;

  @Option(names = "--max-tokens", defaultValue = "512",
      description = "Ids kept per document, BOS included; 0 = all (default: ${DEFAULT-VALUE})")
  int maxTokens;

  @Option(names = "--threshold", defaultValue = "0.99", description = "Edit threshold p for over-threshold counts")
  double threshold;

  @Option(names = "--model-dir", description = "Hugging Face model folder (default: bundled stories260k)")
  Path modelDir;

  /** The default model settings with {@code --model-dir}. */
  ModelSettings modelSettings() {
    return ModelSettings.defaults().withModelDir(modelDir);
  }
}
