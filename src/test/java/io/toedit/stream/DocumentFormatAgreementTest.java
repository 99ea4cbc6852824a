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
 * The stream, {@code edit}, {@code produce}, {@code drift} and {@code profile} accept the same JSON documents and
 * refuse the same ones, with the same {@link Rejection}: the disagreement the one codec removed (a
 * line accepted by {@code edit} used to be dead-lettered by the stream, and the other way round; a
 * line {@code drift} audited could be refused by the stream; {@code profile} stopped at the first line it
 * could not read, and took lines the stream refuses). {@code edit}, {@code drift} and {@code profile} give the
 * stream's reason word for word (they may add which option to change; an oversized text names each
 * one's own limit setting).
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

    // drift: the audit of the same file against a reference profiled from real stories
    Path stories = dir.resolve("stories.jsonl");
    try (var gz = new java.util.zip.GZIPInputStream(getClass().getResourceAsStream("/corpora/tinystories_valid.jsonl.gz"));
        var r = new java.io.BufferedReader(new java.io.InputStreamReader(gz, StandardCharsets.UTF_8))) {
      Files.write(stories, r.lines().limit(40).toList(), StandardCharsets.UTF_8);
    }
    Path reference = dir.resolve("ref.bin");
    assertEquals(io.toedit.cli.ExitCodes.OK, cli(new java.io.StringWriter(), new java.io.StringWriter(), "profile",
        "--input", stories.toString(), "--output", reference.toString()));
    java.io.StringWriter driftOut = new java.io.StringWriter();
    java.io.StringWriter driftErr = new java.io.StringWriter();
    int driftCode = cli(driftOut, driftErr, "drift", "--reference", reference.toString(), "--input", in.toString(),
        "--format", "json", "--max-document-chars", Integer.toString(MAX_CHARS));
    assertEquals(io.toedit.cli.ExitCodes.PARTIAL, driftCode, driftOut + "\n" + driftErr);
    Map<Long, String> driftRejects = new HashMap<>();
    String prefix = "rejected " + in + ":";
    for (String l : driftErr.toString().split("\n")) {
      if (l.startsWith(prefix)) {
        int colon = l.indexOf(": ", prefix.length());
        driftRejects.put(Long.parseLong(l.substring(prefix.length(), colon)), l.substring(colon + 2));
      }
    }
    // profile: a reference of the same file, n-grams only
    java.io.StringWriter profileOut = new java.io.StringWriter();
    java.io.StringWriter profileErr = new java.io.StringWriter();
    int profileCode = cli(profileOut, profileErr, "profile", "--input", in.toString(), "--output",
        dir.resolve("in.bin").toString(), "--ngrams-only", "--docs-per-window", "2", "--max-document-chars",
        Integer.toString(MAX_CHARS));
    assertEquals(io.toedit.cli.ExitCodes.PARTIAL, profileCode, profileOut + "\n" + profileErr);
    Map<Long, String> profileRejects = new HashMap<>();
    for (String l : profileErr.toString().split("\n")) {
      if (l.startsWith(prefix)) {
        int colon = l.indexOf(": ", prefix.length());
        profileRejects.put(Long.parseLong(l.substring(prefix.length(), colon)), l.substring(colon + 2));
      }
    }
    long profiled = io.toedit.drift.Reference.fromBytes(Files.readAllBytes(dir.resolve("in.bin"))).summary()
        .documents();
    String[] driftLines = driftOut.toString().split("\n");
    JsonNode driftSummary = new ObjectMapper().readTree(driftLines[driftLines.length - 1]);

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
      String drift = driftRejects.get(i + 1L);
      String profile = profileRejects.get(i + 1L);
      check(problems, line, "stream", want, stream);
      check(problems, line, "edit", want, edit);
      check(problems, line, "drift", want, drift);
      check(problems, line, "profile", want, profile);
      for (String[] other : new String[][] {{"edit", edit}, {"drift", drift}, {"profile", profile}}) {
        // (an oversized text names each command's own setting to raise)
        if (stream != null && want != Rejection.OVERSIZED_TEXT && (other[1] == null || !other[1].startsWith(stream))) {
          problems.add(other[0] + " on " + line + ": the stream says \"" + stream + "\", " + other[0] + " \""
              + other[1] + "\"");
        }
      }
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
    assertEquals(summary.documents(), driftSummary.get("documents").asLong(), driftSummary.toString());
    assertEquals(lines.size() - summary.documents(), driftSummary.get("rejectedLines").asLong());
    assertEquals(summary.documents(), profiled, "profile keeps every accepted line");
    assertEquals(lines.size() - summary.documents(), profileRejects.size());
  }

  private static int cli(java.io.StringWriter out, java.io.StringWriter err, String... args) {
    return io.toedit.cli.Main.newCommandLine(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true))
        .execute(args);
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
