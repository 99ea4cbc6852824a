package io.toedit.cli;

import io.toedit.document.DocumentCodec;
import io.toedit.model.ModelSettings;
import io.toedit.pipeline.DocumentLines;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How {@code profile} and {@code drift} read and score documents (picocli mixin): a drift audit is
 * only meaningful when its documents are read, cut and scored as the reference's were, so both
 * commands take the same options. Both read lines in the JSON document format of {@code run} and
 * {@code edit} ({@link DocumentCodec} through {@link DocumentLines}) and refuse the same lines for the
 * same reasons.
 */
public final class ProfileOptions {

  @Option(names = "--text-field", defaultValue = "text", description = "JSON field with the text (default: ${DEFAULT-VALUE})")
  String textField;

  @Option(names = "--id-field", defaultValue = "id", description = "JSON field with the document id; the line"
      + " number when absent (default: ${DEFAULT-VALUE})")
  String idField;

  @Option(names = "--max-line-bytes", defaultValue = "16777216",
      description = "Longer lines are refused without being held in memory (default: ${DEFAULT-VALUE})")
  int maxLineBytes;

  @Option(names = "--max-document-chars", defaultValue = "1000000",
      description = "Longer texts (UTF-16 units) are refused, as 'run' does with toedit.input.max.chars"
          + " (default: ${DEFAULT-VALUE})")
  int maxDocumentChars;

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

  /**
   * The lines of {@code input} as documents or refusals (the caller closes it).
   *
   * @throws IllegalArgumentException when a limit is not positive
   */
  DocumentLines open(Path input) throws IOException {
    if (maxDocumentChars < 1) {                                          // DocumentLines checks the other
      throw new IllegalArgumentException("--max-document-chars must be positive, got " + maxDocumentChars);
    }
    DocumentCodec codec = new DocumentCodec(textField, idField, maxDocumentChars, "--max-document-chars");
    return new DocumentLines(input, codec, maxLineBytes, "--max-line-bytes", "--text-field");
  }
}
