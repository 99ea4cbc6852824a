package io.toedit.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.local.SyntheticCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The four synthetic real-shaped models of {@code src/test/resources/models/synthetic}, their weights
 * regenerated from SPEC.md v1 at test time into a temporary folder (once per JVM and variant).
 */
final class SyntheticModels {

  static final Path ROOT = Path.of("src/test/resources/models/synthetic");
  static final List<String> NAMES = List.of("llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny");
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
}
