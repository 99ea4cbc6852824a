package io.toedit.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.local.SyntheticCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import java.util.zip.GZIPInputStream;

/**
 * The four synthetic real-shaped models of {@code src/test/resources/models/synthetic}, their weights
 * regenerated from SPEC.md v1 at test time into a temporary folder (once per JVM and variant), and
 * their tokenizer: the real Qwen3 {@code tokenizer.json} (gunzipped from the shipped {@code .gz}) with
 * its {@code tokenizer_config.json}.
 */
public final class SyntheticModels {

  public static final Path ROOT = Path.of("src/test/resources/models/synthetic");
  public static final List<String> NAMES = List.of("llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny");
  private static final Map<String, Path> CACHE = new ConcurrentHashMap<>();

  private SyntheticModels() {
  }

  static JsonNode config(String model) {
    return SyntheticCheckpoint.readConfig(ROOT.resolve(model).resolve("config.json"));
  }

  static JsonNode golden(String model) {
    try {
      return new ObjectMapper().readTree(ROOT.resolve(model).resolve("golden.json").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The checkpoint folder of {@code model} as {@code dtype} in {@code shards} files (no tokenizer). */
  static Path folder(String model, String dtype, int shards) {
    return CACHE.computeIfAbsent(model + "-" + dtype + "-" + shards, key -> {
      try {
        Path dir = Files.createTempDirectory("toedit-synth-" + key);
        dir.toFile().deleteOnExit();
        SyntheticCheckpoint.write(config(model), dir, dtype, shards, null);
        dir.toFile().deleteOnExit();
        try (var files = Files.list(dir)) {
          files.forEach(f -> f.toFile().deleteOnExit());
        }
        return dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** A fresh checkpoint of {@code model} in {@code dir} with its config edited (weights from the original). */
  static Path withConfig(String model, Path dir, UnaryOperator<ObjectNode> edit) throws IOException {
    Path src = folder(model, "BF16", 1);
    Files.createDirectories(dir);
    Files.copy(src.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    ObjectNode c = (ObjectNode) config(model).deepCopy();
    new ObjectMapper().writeValue(dir.resolve("config.json").toFile(), edit.apply(c));
    return dir;
  }

  /** A folder under {@code tmp} with {@code name}'s config.json and the Qwen3 tokenizer files (no weights). */
  public static Path tokenizerFolder(Path tmp, String name) {
    try {
      Path dir = Files.createDirectories(tmp.resolve(name));
      Files.copy(ROOT.resolve(name).resolve("config.json"), dir.resolve("config.json"),
          StandardCopyOption.REPLACE_EXISTING);
      return withTokenizer(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Adds the Qwen3 tokenizer files to {@code dir} (a checkpoint folder, or one with a config.json). */
  public static Path withTokenizer(Path dir) {
    try {
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
