package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code edit} command end to end with the bundled stories260k model. */
class EditCommandTest {

  @TempDir
  Path dir;

  record Run(int code, String out, String err) {
  }

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /**
   * Forced edits with the synthetic Qwen3 checkpoint (real Qwen3 tokenizer, weights from the spec) on
   * the mixed-script corpus: the written text is the original with each edit's span replaced by the
   * drawn token's exact bytes, with no byte-level piece characters, and every document changes.
   */
  @Test
  void shouldWriteTextNotPiecesWithAByteLevelTokenizer() throws Exception {
    Path src = io.toedit.model.SyntheticModels.folder("qwen3-tiny", "BF16", 1);
    Path model = Files.createDirectory(dir.resolve("qwen3-tiny"));
    Files.copy(src.resolve("config.json"), model.resolve("config.json"));
    Files.copy(src.resolve("model.safetensors"), model.resolve("model.safetensors"));
    io.toedit.model.SyntheticModels.withTokenizer(model);
    Path out = dir.resolve("out.jsonl");
    Run r = run("edit", "--input", "src/test/resources/corpora/mixed_script.jsonl", "--output", out.toString(),
        "-p", "0", "--inclusive", "--exclude-original", "--model-dir", model.toString(), "--no-progress");
    assertEquals(ExitCodes.OK, r.code(), r.err());
    assertTrue(r.out().contains("context token <|endoftext|> (151643) from config.json bos_token_id"), r.out());
    ObjectMapper json = new ObjectMapper();
    try (io.toedit.model.HfTokenizer tok = io.toedit.model.HfTokenizer.open(model)) {
      int docs = 0;
      for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
        JsonNode n = json.readTree(line);
        JsonNode info = n.get("toedit");
        String original = info.get("originalText").asText();
        String text = n.get("text").asText();
        assertTrue(info.get("changed").asInt() > 0, n.get("id").asText());
        assertEquals("<|endoftext|> (151643) from config.json bos_token_id (the tokenizer adds no BOS)",
            info.get("contextToken").asText());
        StringBuilder rebuilt = new StringBuilder(original);
        JsonNode edits = info.get("edits");
        for (int i = edits.size() - 1; i >= 0; i--) {
          JsonNode e = edits.get(i);
          byte[] drawn = tok.vocabulary().bytes(e.get("newId").asInt());
          assertEquals(new String(drawn, StandardCharsets.UTF_8), e.get("newPiece").asText(), "inserted text " + e);
          assertTrue(java.util.Arrays.equals(drawn, e.get("newPiece").asText().getBytes(StandardCharsets.UTF_8)), e.toString());
          rebuilt.replace(e.get("charStart").asInt(), e.get("charEnd").asInt(), e.get("newPiece").asText());
        }
        assertEquals(rebuilt.toString(), text, "the original outside the edits");
        for (char piece : new char[] {'Ġ', 'Ċ', '▁'}) {
          assertFalse(text.indexOf(piece) >= 0 && original.indexOf(piece) < 0, piece + " in " + text);
        }
        docs++;
      }
      assertEquals(11, docs);
    }
  }

  @Test
  void shouldEditAFileWriteRejectsAndExitPartial() throws Exception {
    List<String> sample = Files.readAllLines(Path.of("src/main/resources/data/sample.jsonl"), StandardCharsets.UTF_8);
    Path in = dir.resolve("in.jsonl");
    Files.write(in, List.of(sample.get(0), "{\"id\": \"broken\", \"text\": ", sample.get(1),
        "{\"id\":\"unicode\",\"body\":\"Lily saw a café, a 猫 and 😀.\"}"), StandardCharsets.UTF_8);
    Path out = dir.resolve("out.jsonl.gz");
    Run r = run("edit", "--input", in.toString(), "--output", out.toString(), "--exclude-original", "--seed", "7",
        "--progress");
    assertEquals(ExitCodes.PARTIAL, r.code(), r.err());
    assertTrue(r.out().contains("documents  2 edited of 4 lines"), r.out());
    assertTrue(r.out().contains("rejects    2 (written to " + dir.resolve("out.rejects.jsonl")), r.out());
    assertTrue(r.err().contains("2 documents |"), r.err());
    ObjectMapper json = new ObjectMapper();
    List<String> rejects = Files.readAllLines(dir.resolve("out.rejects.jsonl"));
    assertEquals(2, rejects.size());
    assertEquals(2, json.readTree(rejects.get(0)).get("line").asInt());
    assertEquals(4, json.readTree(rejects.get(1)).get("line").asInt());
    String edited;
    try (var gz = new java.util.zip.GZIPInputStream(Files.newInputStream(out))) {
      edited = new String(gz.readAllBytes(), StandardCharsets.UTF_8);
    }
    String[] lines = edited.split("\n");
    assertEquals(2, lines.length);
    JsonNode first = json.readTree(lines[0]);
    JsonNode info = first.get("toedit");
    assertEquals(json.readTree(sample.get(0)).get("text").asText(), info.get("originalText").asText());
    assertEquals("tinystories-validation", first.get("source").asText());
    // exclude-original: every over-threshold token changed
    assertEquals(info.get("overThreshold").asInt(), info.get("changed").asInt());
    assertTrue(info.get("changed").asInt() > 10);
    assertTrue(info.get("model").asText().contains("stories260k"), info.get("model").asText());
    assertEquals("7", info.get("parameters").get("seed").asText());

    // the same command again gives the same bytes
    Path again = dir.resolve("again.jsonl.gz");
    run("edit", "-i", in.toString(), "-o", again.toString(), "--exclude-original", "--seed", "7", "--no-progress");
    try (var gz = new java.util.zip.GZIPInputStream(Files.newInputStream(again))) {
      assertEquals(edited, new String(gz.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void shouldExitWithUsageOnMissingInputOrBadOptions() throws Exception {
    Path missing = dir.resolve("nope.jsonl");
    Run r = run("edit", "--input", missing.toString(), "--output", dir.resolve("o.jsonl").toString());
    assertEquals(ExitCodes.USAGE, r.code());
    assertTrue(r.err().contains("nope.jsonl"), r.err());
    assertFalse(Files.exists(dir.resolve("o.jsonl")));
    Path in = Files.writeString(dir.resolve("in.jsonl"), "{\"text\":\"hi\"}\n");
    Run bad = run("edit", "-i", in.toString(), "-o", dir.resolve("y.jsonl").toString(), "--strategy", "best_guess");
    assertEquals(ExitCodes.USAGE, bad.code());
    assertTrue(bad.err().contains("up_revise, low_drop_up_revise, filtering"), bad.err());
    Run beta = run("edit", "-i", in.toString(), "-o", dir.resolve("y.jsonl").toString(), "--beta", "0");
    assertEquals(ExitCodes.USAGE, beta.code());
    assertTrue(beta.err().contains("beta"), beta.err());
    Run noOutput = run("edit", "-i", "x.jsonl");
    assertEquals(ExitCodes.USAGE, noOutput.code());
    assertTrue(noOutput.err().contains("--output"), noOutput.err());
  }
}
