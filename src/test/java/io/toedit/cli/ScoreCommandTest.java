package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScoreCommandTest {

  @Test
  void shouldPrintOneJsonLinePerDocumentAndASummary(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("in.jsonl");
    Files.writeString(in, "{\"id\":\"a\",\"text\":\"Once upon a time, there was a little girl named Lily.\"}\n"
        + "{\"id\":\"b\",\"text\":\"Le café était fermé — 猫 😀\"}\n");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out), new PrintWriter(err))
        .execute("score", "--workers", "1", in.toString());
    assertEquals(ExitCodes.OK, code, err.toString());
    String[] lines = out.toString().strip().split("\n");
    assertEquals(2, lines.length);
    JsonNode a = new ObjectMapper().readTree(lines[0]);
    assertEquals("a", a.get("id").asText());
    assertEquals(16, a.get("tokens").asInt()); // golden 'lily' ids
    // golden sum_logprob of 'lily' is -1.50206 over 15 predicted tokens
    assertEquals(1.5020601579451762 / 15, a.get("mean_nll").asDouble(), 1e-4);
    assertEquals(4, a.get("count_p_ge_threshold").asInt());
    assertTrue(err.toString().contains("2 documents"), err.toString());
  }

  @Test
  void shouldExitWithUsageWhenTheInputIsMissing(@TempDir Path tmp) {
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(new StringWriter()), new PrintWriter(err))
        .execute("score", tmp.resolve("nope.jsonl").toString());
    assertEquals(ExitCodes.USAGE, code);
    assertTrue(err.toString().contains("nope.jsonl"), err.toString());
  }

  @Test
  void shouldBenchTheBundledSampleAndReportTheMedian() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out), new PrintWriter(err))
        .execute("bench", "--runs", "1", "--max-tokens-per-doc", "64", "--workers", "1");
    assertEquals(ExitCodes.OK, code, err.toString());
    assertTrue(out.toString().contains("120 docs") && out.toString().contains("scored tokens/s"), out.toString());
  }
}
