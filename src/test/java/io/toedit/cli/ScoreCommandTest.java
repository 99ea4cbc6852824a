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
  void tokensShouldGiveEveryTokenItsTextLogProbAndTopKAsTheGolden(@TempDir Path tmp) throws Exception {
    JsonNode golden = new ObjectMapper().readTree(Path.of("src/test/resources/golden/golden.json").toFile())
        .get("texts").get(0);
    Path in = tmp.resolve("in.jsonl");
    Files.writeString(in, new ObjectMapper().createObjectNode().put("id", "lily").put("text", golden.get("text").asText())
        + "\n" + "{\"id\":\"cjk\",\"text\":\"猫 😀\"}\n");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out), new PrintWriter(err))
        .execute("score", "--tokens", "--workers", "1", in.toString());
    assertEquals(ExitCodes.OK, code, err.toString());
    assertTrue(err.toString().contains("context token <s> (1) from tokenizer.json post_processor"), err.toString());
    String[] lines = out.toString().strip().split("\n");
    JsonNode a = new ObjectMapper().readTree(lines[0]);
    int n = golden.get("ids").size();
    assertEquals(n, a.get("ids").size());
    assertTrue(a.get("logprob").get(0).isNull(), "the context token has no score");
    for (int t = 0; t < n; t++) {
      assertEquals(golden.get("ids").get(t).asInt(), a.get("ids").get(t).asInt());
      String piece = golden.get("tokens").get(t).asText();
      // the golden pieces, with SentencePiece's ▁ read as a space, are the decoded texts
      assertEquals(t == 0 ? "<s>" : piece.replace('\u2581', ' '), a.get("text").get(t).asText(), "text of " + t);
      if (t + 1 < n) {
        JsonNode g = golden.get("positions").get(t);
        assertEquals(g.get("logprob").asDouble(), a.get("logprob").get(t + 1).asDouble(), 1e-4, "log P at " + (t + 1));
        JsonNode top = a.get("top_ids").get(t + 1);
        assertEquals(8, top.size());
        for (int i = 0; i < 3; i++) {
          assertEquals(g.get("top5").get(i).get(0).asInt(), top.get(i).asInt(), "top-" + i + " at " + (t + 1));
          assertEquals(Math.log(g.get("top5").get(i).get(1).asDouble()),
              a.get("top_logprob").get(t + 1).get(i).asDouble(), 1e-4);
          if (top.get(i).asInt() == a.get("ids").get(t + 1).asInt()) {
            assertEquals(a.get("text").get(t + 1), a.get("top_text").get(t + 1).get(i), "text of a top id");
          }
        }
      }
    }
    // byte-fallback tokens of 猫 (E7 8C AB): each is part of a character, so its text is null and its hex is its byte
    JsonNode b = new ObjectMapper().readTree(lines[1]);
    StringBuilder hex = new StringBuilder();
    for (int t = 1; t < b.get("ids").size(); t++) {
      hex.append(b.get("hex").get(t).asText());
    }
    assertEquals("20e78cab20f09f9880", hex.toString(), "the tokens' bytes are the text, with the dummy-prefix space");
    int partial = 0;
    for (JsonNode x : b.get("text")) {
      partial += x.isNull() ? 1 : 0;
    }
    assertEquals(7, partial, "3 bytes of 猫 and 4 of 😀 are not text on their own");
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
