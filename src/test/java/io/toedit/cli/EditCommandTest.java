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
