package io.toedit.drift;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Reads the bundled gzip JSONL test corpora. */
final class CorpusFixtures {

  private static final ObjectMapper JSON = new ObjectMapper();

  private CorpusFixtures() {
  }

  /** One JSON object per line of a gzip JSONL classpath resource, e.g. {@code /corpora/brown_first100.jsonl.gz}. */
  static List<JsonNode> lines(String resource) {
    List<JsonNode> out = new ArrayList<>();
    try (InputStream raw = CorpusFixtures.class.getResourceAsStream(resource)) {
      if (raw == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw),
          StandardCharsets.UTF_8))) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          if (!line.isBlank()) {
            out.add(JSON.readTree(line));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
    return out;
  }

  static List<String> texts(String resource) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : lines(resource)) {
      out.add(n.path("text").asText());
    }
    return out;
  }
}
