package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.text.TextTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlEditJobTest {

  static final Path SAMPLE = Path.of("src/main/resources/data/sample.jsonl");
  static final TextTokenizer tokenizer = BundledTokenizer.get();
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  static DocumentEditor editor(EditConfig config) {
    return new DocumentEditor(tokenizer, FakeScorer.bigram(tokenizer.vocabulary().size()),
        new Editor(config, tokenizer.vocabulary()));
  }

  static List<JsonNode> readJsonl(Path p) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : lines(p)) {
      out.add(JSON.readTree(line));
    }
    return out;
  }

  static List<String> lines(Path p) throws IOException {
    byte[] bytes = Files.readAllBytes(p);
    if (p.toString().endsWith(".gz")) {
      try (GZIPInputStream in = new GZIPInputStream(Files.newInputStream(p))) {
        bytes = in.readAllBytes();
      }
    }
    String s = new String(bytes, StandardCharsets.UTF_8);
    return s.isEmpty() ? List.of() : List.of(s.split("\n", -1)).subList(0, s.split("\n", -1).length - 1);
  }

  @Test
  void shouldKeepEveryOtherFieldAndAddTheEditInfo() throws IOException {
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"meta\":{\"a\":[1,2.50,null]},\"text\":\"Once upon a time, Lily saw a 猫 😀.\",\"n\":1.10,\"id\":\"x-1\"}\n");
    Path out = dir.resolve("out.jsonl");
    EditConfig cfg = EditConfig.defaults().withThreshold(0.0, true).withExcludeOriginal(true);
    JsonlEditJob.Summary s = new JsonlEditJob(editor(cfg), JsonlEditJob.Options.defaults(in, out)).run(JsonlEditJob.Progress.NONE);
    assertEquals(1, s.documents());
    assertEquals(0, s.rejects());
    assertNull(s.rejectsFile());
    assertFalse(Files.exists(JsonlEditJob.Options.defaultRejects(out)));
    String line = lines(out).get(0);
    // field order and number spelling are kept; the info object is appended
    assertTrue(line.startsWith("{\"meta\":{\"a\":[1,2.50,null]},\"text\":\""), line);
    assertTrue(line.contains(",\"n\":1.10,\"id\":\"x-1\",\"toedit\":{"), line);
    JsonNode node = JSON.readTree(line);
    JsonNode info = node.get("toedit");
    assertEquals("Once upon a time, Lily saw a 猫 😀.", info.get("originalText").asText());
    assertTrue(info.get("changed").asInt() > 5);
    assertEquals(info.get("changed").asInt(), info.get("edits").size());
    assertEquals(s.changed(), info.get("changed").asLong());
    assertEquals("fake-bigram", info.get("model").asText());
    assertEquals("<s> (1) from tokenizer.json post_processor", info.get("contextToken").asText());
    assertTrue(info.get("excludedCandidates").asInt() >= 0);
    assertEquals("up_revise", info.get("strategy").asText());
    assertEquals("true", info.get("parameters").get("exclude_original").asText());
    assertEquals(42, info.get("seed").asLong());
    JsonNode e = info.get("edits").get(0);
    for (String f : List.of("position", "charStart", "charEnd", "originalId", "originalPiece", "newId", "newPiece",
        "probOriginal")) {
      assertTrue(e.has(f), f);
    }
    assertFalse(node.get("text").asText().equals(info.get("originalText").asText()));
  }

  @Test
  void shouldRejectBadLinesWithTheirLineNumberAndEditTheRest() throws IOException {
    Path in = dir.resolve("mixed.jsonl.gz");
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    raw.writeBytes("{\"id\":\"ok-1\",\"text\":\"Once upon a time.\"}\n".getBytes(StandardCharsets.UTF_8)); // 1
    raw.writeBytes("{not json}\n".getBytes(StandardCharsets.UTF_8)); // 2
    raw.writeBytes("{\"id\":\"no-text\",\"body\":\"x\"}\n".getBytes(StandardCharsets.UTF_8)); // 3
    raw.writeBytes("{\"id\":\"num\",\"text\":42}\n".getBytes(StandardCharsets.UTF_8)); // 4
    raw.writeBytes(("{\"id\":\"huge\",\"text\":\"" + "a".repeat(5000) + "\"}\n").getBytes(StandardCharsets.UTF_8)); // 5
    raw.writeBytes(new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}', '\n'}); // 6
    raw.writeBytes("{\"text\":\"lone \\ud800 surrogate\"}\n".getBytes(StandardCharsets.UTF_8)); // 7
    raw.writeBytes("\n".getBytes(StandardCharsets.UTF_8)); // 8
    raw.writeBytes("[1,2]\n".getBytes(StandardCharsets.UTF_8)); // 9
    raw.writeBytes("{\"text\":\"already\",\"toedit\":{}}\n".getBytes(StandardCharsets.UTF_8)); // 10
    raw.writeBytes("{\"id\":[1],\"text\":\"bad id\"}\n".getBytes(StandardCharsets.UTF_8)); // 11
    raw.writeBytes("{\"text\":\"trailing\"} garbage\n".getBytes(StandardCharsets.UTF_8)); // 12
    raw.writeBytes(("{\"text\":\"" + "long text ".repeat(40) + "\"}\r\n").getBytes(StandardCharsets.UTF_8)); // 13
    raw.writeBytes("{\"text\":\"Ünïcödé without newline at the end\"}".getBytes(StandardCharsets.UTF_8)); // 14
    try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(in))) {
      os.write(raw.toByteArray());
    }
    Path out = dir.resolve("edited.jsonl.gz");
    JsonlEditJob.Options opts = JsonlEditJob.Options.defaults(in, out).withLimits(1000, 300).withChunking(4, 2);
    JsonlEditJob.Summary s = new JsonlEditJob(editor(EditConfig.defaults()), opts).run(JsonlEditJob.Progress.NONE);
    assertEquals(14, s.lines());
    assertEquals(2, s.documents());
    assertEquals(12, s.rejects());
    assertEquals(dir.resolve("edited.rejects.jsonl"), s.rejectsFile());
    List<JsonNode> good = readJsonl(out);
    assertEquals("ok-1", good.get(0).get("id").asText());
    assertEquals("Ünïcödé without newline at the end", good.get(1).get("toedit").get("originalText").asText());
    List<JsonNode> rejects = readJsonl(s.rejectsFile());
    List<Long> lineNumbers = rejects.stream().map(r -> r.get("line").asLong()).toList();
    assertEquals(List.of(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 13L), lineNumbers);
    for (JsonNode r : rejects) {
      assertEquals("read", r.get("stage").asText());
      assertFalse(r.get("reason").asText().isBlank());
    }
    assertTrue(rejects.get(0).get("reason").asText().startsWith("malformed JSON"), rejects.get(0).toString());
    assertTrue(rejects.get(1).get("reason").asText().contains("--text-field"));
    assertTrue(rejects.get(3).get("reason").asText().contains("--max-line-bytes"));
    assertTrue(rejects.get(4).get("reason").asText().contains("UTF-8"));
    assertTrue(rejects.get(5).get("reason").asText().contains("surrogate"));
    assertTrue(rejects.get(8).get("reason").asText().contains("--info-field"));
    assertTrue(rejects.get(11).get("reason").asText().contains("--max-document-chars"));
  }

  @Test
  void shouldKeyDrawsByLineNumberWhenTheIdFieldIsMissing() throws IOException {
    String text = "Once upon a time, there was a little girl named Lily. She loved to play outside.";
    Path in = dir.resolve("noid.jsonl");
    Files.writeString(in, "{\"text\":\"" + text + "\"}\n{\"text\":\"" + text + "\"}\n{\"id\":\"2\",\"text\":\"" + text + "\"}\n");
    Path out = dir.resolve("noid.out.jsonl");
    EditConfig cfg = EditConfig.defaults().withThreshold(0.0, true).withBeta(50.0);
    new JsonlEditJob(editor(cfg), JsonlEditJob.Options.defaults(in, out)).run(JsonlEditJob.Progress.NONE);
    List<JsonNode> got = readJsonl(out);
    assertFalse(got.get(0).get("text").equals(got.get(1).get("text")), "lines 1 and 2 are different documents");
    assertEquals(got.get(1).get("text"), got.get(2).get("text"), "line 2 without id = id \"2\"");
  }

  @Test
  void shouldWriteIdenticalBytesWhateverTheBatchSizeAndThreadCount() throws IOException {
    EditConfig cfg = EditConfig.defaults().withBeta(5.0);
    byte[] reference = null;
    int[][] shapes = {{1, 1}, {7, 3}, {64, 2}, {500, 1}};
    for (int[] shape : shapes) {
      Path out = dir.resolve("det-" + shape[0] + "-" + shape[1] + ".jsonl");
      JsonlEditJob.Summary s = new JsonlEditJob(editor(cfg),
          JsonlEditJob.Options.defaults(SAMPLE, out).withChunking(shape[0], shape[1])).run(JsonlEditJob.Progress.NONE);
      assertEquals(120, s.documents());
      assertTrue(s.changed() > 0);
      byte[] bytes = Files.readAllBytes(out);
      if (reference == null) {
        reference = bytes;
      } else {
        assertArrayEquals(reference, bytes, "batch " + shape[0] + ", threads " + shape[1]);
      }
    }
  }

  @Test
  void shouldReportProgressAndStopOnACorruptGzip() throws IOException {
    byte[] gz;
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream os = new GZIPOutputStream(bos)) {
      os.write(Files.readAllBytes(SAMPLE));
    }
    gz = bos.toByteArray();
    Path good = dir.resolve("sample.jsonl.gz");
    Files.write(good, gz);
    List<long[]> updates = new ArrayList<>();
    new JsonlEditJob(editor(EditConfig.defaults()), JsonlEditJob.Options.defaults(good, dir.resolve("o.jsonl")).withChunking(50, 1))
        .run((d, t, r, total, e) -> updates.add(new long[] {d, t, r, total}));
    assertEquals(3, updates.size());
    long[] last = updates.get(updates.size() - 1);
    assertEquals(120, last[0]);
    assertEquals(gz.length, last[3]);
    assertEquals(last[3], last[2]);

    Path truncated = dir.resolve("truncated.jsonl.gz");
    Files.write(truncated, java.util.Arrays.copyOf(gz, gz.length / 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        new JsonlEditJob(editor(EditConfig.defaults()), JsonlEditJob.Options.defaults(truncated, dir.resolve("t.jsonl")))
            .run(JsonlEditJob.Progress.NONE));
    assertTrue(e.getMessage().contains("corrupt or truncated"), e.getMessage());
  }

  @Test
  void defaultRejectsFileShouldSitNextToTheOutput() {
    assertEquals(Path.of("a/b/out.rejects.jsonl"), JsonlEditJob.Options.defaultRejects(Path.of("a/b/out.jsonl.gz")));
    assertEquals(Path.of("out.rejects.jsonl"), JsonlEditJob.Options.defaultRejects(Path.of("out.jsonl")));
    assertEquals(Path.of("data.txt.rejects.jsonl"), JsonlEditJob.Options.defaultRejects(Path.of("data.txt")));
  }
}
