package io.toedit.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The synthetic real-shaped models of {@code src/test/resources/models/synthetic} as tokenizer
 * folders: the model's {@code config.json} next to the real Qwen3 {@code tokenizer.json} (gunzipped
 * here from the shipped {@code .gz}) and {@code tokenizer_config.json}. No weights: these folders are
 * for the tokenizer.
 */
public final class SyntheticModels {

  public static final Path ROOT = Path.of("src/test/resources/models/synthetic");
  public static final List<String> NAMES = List.of("llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny");

  private SyntheticModels() {
  }

  /** A folder under {@code tmp} with {@code name}'s config.json and the Qwen3 tokenizer files. */
  public static Path tokenizerFolder(Path tmp, String name) {
    try {
      Path dir = Files.createDirectories(tmp.resolve(name));
      Files.copy(ROOT.resolve(name).resolve("config.json"), dir.resolve("config.json"),
          StandardCopyOption.REPLACE_EXISTING);
      Path tok = ROOT.resolve("tokenizer-qwen3");
      Files.copy(tok.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"),
          StandardCopyOption.REPLACE_EXISTING);
      try (InputStream in = new GZIPInputStream(Files.newInputStream(tok.resolve("tokenizer.json.gz")))) {
        Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
