package io.toedit.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The stories260k checkpoint shipped inside the application (MIT, Karpathy's llama2.c), extracted
 * once to a folder because the tokenizer and weight loaders read files.
 */
public final class BundledModel {

  public static final String NAME = "stories260k";
  private static final String RESOURCE_DIR = "/models/" + NAME + "/";
  private static final List<String> FILES = List.of("config.json", "generation_config.json",
      "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json", "README.md");

  private static volatile Path extracted;

  private BundledModel() {
  }

  /** The folder holding the bundled model, extracting it on first use. */
  public static Path directory() {
    Path dir = extracted;
    if (dir == null) {
      synchronized (BundledModel.class) {
        dir = extracted;
        if (dir == null) {
          dir = extract();
          extracted = dir;
        }
      }
    }
    return dir;
  }

  private static Path extract() {
    try {
      Path dir = Files.createTempDirectory("toedit-" + NAME + "-");
      for (String f : FILES) {
        try (InputStream in = BundledModel.class.getResourceAsStream(RESOURCE_DIR + f)) {
          if (in == null) {
            throw new IllegalStateException("Bundled model file missing from the classpath: " + RESOURCE_DIR + f
                + " (was the jar built with `mvn package`?)");
          }
          Files.copy(in, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      dir.toFile().deleteOnExit();
      for (String f : FILES) {
        dir.resolve(f).toFile().deleteOnExit();
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot extract the bundled model to a temporary folder", e);
    }
  }
}
