package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.document.Rejection;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.local.JsonlProducer;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.JsonlEditJob;
import io.toedit.text.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream, {@code edit} and {@code produce} accept the same JSON documents and refuse the same
 * ones, with the same {@link Rejection}: the disagreement the one codec removed (a line accepted by
 * {@code edit} used to be dead-lettered by the stream, and the other way round).
 */
class DocumentFormatAgreementTest {

  private static final int MAX_CHARS = 40;

  static final TextTokenizer tokenizer = BundledTokenizer.get();

  @TempDir
  Path dir;

  /** Each line and what all three must make of it: null = accepted, else the rejection. */
  static Map<String, Rejection> lines() {
    Map<String, Rejection> m = new java.util.LinkedHashMap<>();
    m.put("{\"id\":\"a\",\"text\":\"Once upon a time.\"}", null);
    m.put("{\"id\":7,\"text\":\"A number id.\"}", null);
    m.put("{\"id\":1.5,\"text\":\"A decimal id.\"}", null);
    m.put("{\"text\":\"No id: the fallback.\",\"metadata\":{\"n\":2.50,\"b\":true},\"timestamp\":5}", null);
    m.put("{\"text\":\"Source as JSON.\",\"source\":{\"a\":1}}", null);
    m.put("{\"text\":\"😀 and 猫 are fine.\"}", null);
    m.put("{not json}", Rejection.MALFORMED_JSON);
    m.put("{\"text\":\"a\"} trailing", Rejection.MALFORMED_JSON);
    m.put("[1,2]", Rejection.NOT_AN_OBJECT);
    m.put("null", Rejection.NOT_AN_OBJECT);
    m.put("{\"body\":\"no text\"}", Rejection.MISSING_TEXT);
    m.put("{\"text\":null}", Rejection.MISSING_TEXT);
    m.put("{\"text\":42}", Rejection.TEXT_NOT_A_STRING);
    m.put("{\"text\":\"\"}", Rejection.EMPTY_TEXT);
    m.put("{\"text\":\" \\t \"}", Rejection.WHITESPACE_TEXT);
    m.put("{\"text\":\"" + "x".repeat(MAX_CHARS + 1) + "\"}", Rejection.OVERSIZED_TEXT);
    m.put("{\"text\":\"lone \\ud800\"}", Rejection.INVALID_UNICODE);
    m.put("{\"id\":[1],\"text\":\"bad id\"}", Rejection.ID_NOT_A_STRING);
    m.put("{\"id\":\"  \",\"text\":\"blank id\"}", Rejection.EMPTY_ID);
    m.put("{\"text\":\"bad metadata\",\"metadata\":[1]}", Rejection.METADATA_NOT_AN_OBJECT);
    m.put("{\"text\":\"bad timestamp\",\"timestamp\":1.5}", Rejection.BAD_TIMESTAMP);
    return m;
  }

  @Test
  void shouldAcceptAndRefuseTheSameDocumentsForTheSameReasons() throws IOException {
    Map<String, Rejection> expected = lines();
    List<String> lines = new ArrayList<>(expected.keySet());

    // the stream
    InputDecoder decoder = new InputDecoder(
        PipelineConfig.defaults().with("toedit.input.max.chars", Integer.toString(MAX_CHARS)));
    // edit: one file, rejects by line number
    Path in = dir.resolve("in.jsonl");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (String l : lines) {
      bytes.writeBytes((l + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Files.write(in, bytes.toByteArray());
    JsonlEditJob.Options options = JsonlEditJob.Options.defaults(in, dir.resolve("out.jsonl"))
        .withLimits(1 << 20, MAX_CHARS);
    DocumentEditor editor = new DocumentEditor(tokenizer, FakeScorer.bigram(tokenizer.vocabulary().size()),
        new Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    JsonlEditJob.Summary summary = new JsonlEditJob(editor, options).run(JsonlEditJob.Progress.NONE);
    Map<Long, String> editRejects = new HashMap<>();
    if (summary.rejectsFile() != null) {
      ObjectMapper json = new ObjectMapper();
      for (String r : Files.readAllLines(summary.rejectsFile(), StandardCharsets.UTF_8)) {
        JsonNode node = json.readTree(r);
        editRejects.put(node.get("line").asLong(), node.get("reason").asText());
      }
    }

    List<String> problems = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      Rejection want = expected.get(line);
      String stream;
      try {
        decoder.decode("key".getBytes(StandardCharsets.UTF_8), line.getBytes(StandardCharsets.UTF_8));
        stream = null;
      } catch (RejectedRecordException e) {
        stream = e.getMessage();
      }
      String edit = editRejects.get(i + 1L);
      check(problems, line, "stream", want, stream);
      check(problems, line, "edit", want, edit);
      if (want != Rejection.OVERSIZED_TEXT) { // produce leaves the length limit to the pipeline
        String produce;
        try {
          JsonlProducer.toRawDocument(line, "file:" + (i + 1), null);
          produce = null;
        } catch (IllegalArgumentException e) {
          produce = e.getMessage();
        }
        check(problems, line, "produce", want, produce);
      }
    }
    assertTrue(problems.isEmpty(), String.join("\n", problems));
    assertEquals(expected.values().stream().filter(v -> v == null).count(), summary.documents());
  }

  private static void check(List<String> problems, String line, String who, Rejection want, String reason) {
    Rejection got = reason == null ? null : rejectionOf(reason);
    if (got != want) {
      problems.add(who + " on " + line + ": expected " + (want == null ? "accepted" : want.prefix())
          + ", got " + (reason == null ? "accepted" : reason));
    }
  }

  /** The rejection whose prefix starts the reason (the longest, as prefixes nest). */
  private static Rejection rejectionOf(String reason) {
    return java.util.Arrays.stream(Rejection.values())
        .filter(r -> reason.startsWith(r.prefix()))
        .max(Comparator.comparingInt(r -> r.prefix().length()))
        .orElse(null);
  }
}
