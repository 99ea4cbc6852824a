package io.toedit.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.document.Gzip;
import io.toedit.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** JSONL corpora ({@code id}, {@code text} per line; optionally gzipped) tokenized for scoring. */
public final class Corpus {

  /** One document as token ids (BOS first), possibly cut to a maximum length. */
  public record Doc(String id, int[] ids) {
  }

  private Corpus() {
  }

  /** Reads a {@code .jsonl} or {@code .jsonl.gz} file; a line without a {@code text} string is an error. */
  public static List<String[]> readJsonl(InputStream raw, String name) {
    List<String[]> out = new ArrayList<>();
    forEachDocument(raw, name, "text", (id, text) -> out.add(new String[] {id, text}));
    return out;
  }

  /**
   * Streams the documents of a {@code .jsonl} or {@code .jsonl.gz} input (gzip detected by its magic
   * bytes) to {@code sink} as (id, text), without holding the file in memory. The id
   * is the {@code id} field, else {@code line-N}. A line that is not JSON or lacks a string
   * {@code textField} is an error naming the line.
   */
  public static void forEachDocument(InputStream raw, String name, String textField,
      java.util.function.BiConsumer<String, String> sink) {
    ObjectMapper json = new ObjectMapper();
    try (InputStream in = Gzip.decompressIfGzip(raw, 1 << 16);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode node;
        try {
          node = json.readTree(line);
        } catch (IOException e) {
          throw new IllegalArgumentException(name + ":" + n + ": not a JSON object: " + e.getMessage(), e);
        }
        if (!node.path(textField).isTextual()) {
          throw new IllegalArgumentException(name + ":" + n + ": field '" + textField + "' is missing or not a string");
        }
        sink.accept(node.path("id").asText("line-" + n), node.get(textField).asText());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + name, e);
    }
  }

  /** The first {@code maxTokens} ids ({@code 0} = all). */
  public static int[] cut(int[] ids, int maxTokens) {
    return maxTokens > 0 && ids.length > maxTokens ? Arrays.copyOf(ids, maxTokens) : ids;
  }

  public static List<String[]> readJsonl(Path file) throws NoSuchFileException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "input JSONL file not found");
    }
    try {
      return readJsonl(Files.newInputStream(file), file.getFileName().toString());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot open " + file, e);
    }
  }

  /** Tokenizes every document, keeping at most {@code maxTokens} ids (0 = all). */
  public static List<Doc> tokenize(List<String[]> docs, TextTokenizer tok, int maxTokens) {
    List<Doc> out = new ArrayList<>(docs.size());
    for (String[] d : docs) {
      out.add(new Doc(d[0], cut(tok.encode(d[1]).ids(), maxTokens)));
    }
    return out;
  }

  /** Predicted (scored) positions of a batch: every id after the first. */
  public static long scoredTokens(List<Doc> docs) {
    return docs.stream().mapToLong(d -> Math.max(0, d.ids().length - 1)).sum();
  }
}
