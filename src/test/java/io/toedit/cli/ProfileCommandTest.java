package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.drift.Reference;
import io.toedit.drift.WindowSummary;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileCommandTest {

  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
  }

  private Path corpus() throws Exception {
    Path in = dir.resolve("human.jsonl");
    Files.write(in, List.of(
        "{\"text\": \"Once upon a time, there was a little girl named Lily.\"}",
        "{\"text\": \"She saw a big red ball in the park — 猫 and 🐱 too.\"}",
        "{\"text\": \"Tom said, \\\"Let's play!\\\" They played all day.\"}",
        "{\"text\": \"The sun was warm. The birds sang. Everyone was happy.\"}",
        "{\"text\": \"Ünïcode café: the dog ran to the tree and barked.\"}"), StandardCharsets.UTF_8);
    return in;
  }

  @Test
  void shouldWriteScoredReferenceInPseudoWindows() throws Exception {
    Path ref = dir.resolve("ref.bin");
    int code = run("profile", "--input", corpus().toString(), "--output", ref.toString(), "--docs-per-window", "2");
    assertEquals(ExitCodes.OK, code, err.toString());
    Reference r = Reference.fromBytes(Files.readAllBytes(ref));
    WindowSummary s = r.summary();
    assertEquals(5, s.documents());
    assertEquals(3, r.windows(), "2 + 2 + a tail of 1 (>= 2/2)");
    assertEquals(s.tokens(), s.predictedTokens(), "every content token is predicted");
    assertTrue(s.meanNll() > 0.1 && s.meanNll() < 10, "mean NLL " + s.meanNll());
    assertTrue(out.toString().contains("5 documents"), out.toString());
  }

  @Test
  void shouldBuildNGramOnlyProfileWithoutModel() throws Exception {
    Path ref = dir.resolve("ngrams.bin");
    assertEquals(ExitCodes.OK, run("profile", "--input", corpus().toString(), "--output", ref.toString(),
        "--ngrams-only"), err.toString());
    WindowSummary s = Reference.fromBytes(Files.readAllBytes(ref)).summary();
    assertEquals(5, s.documents());
    assertEquals(0, s.predictedTokens());
    assertTrue(s.ngramCount(2) > 40);
  }

  @Test
  void shouldExitWithUsageWhenInputIsMissingOrMalformed() throws Exception {
    assertEquals(ExitCodes.USAGE, run("profile", "--input", dir.resolve("nope.jsonl").toString(), "--output",
        dir.resolve("x.bin").toString(), "--ngrams-only"));
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"body\": \"no text field\"}\n");
    assertEquals(ExitCodes.USAGE, run("profile", "--input", bad.toString(), "--output",
        dir.resolve("y.bin").toString(), "--ngrams-only"));
    assertTrue(err.toString().contains("--text-field"), err.toString());
  }

  /**
   * Lines the stream would dead-letter are refused here too, reported on stderr with their line number
   * and reason, and left out of the profile; the rest is profiled and the exit code says some input
   * was refused. (The older reader stopped at the first unreadable line, skipped blank ones and took
   * empty, oversized and invalid-Unicode texts.)
   */
  @Test
  void shouldReportRefusedLinesAndProfileTheOthers() throws Exception {
    Path in = dir.resolve("mixed.jsonl");
    Files.write(in, List.of(
        "{\"text\": \"Once upon a time, there was a little girl named Lily.\"}",
        "{not json}",
        "",
        "{\"text\": \"\"}",
        "{\"text\": \"lone \\ud800 surrogate\"}",
        "{\"id\": [1], \"text\": \"an id that is not a string\"}",
        "{\"text\": \"" + "ж".repeat(60) + "\"}",
        "{\"text\": \"Ünïcode café: the dog ran to the tree and barked.\"}"), StandardCharsets.UTF_8);
    Path ref = dir.resolve("mixed.bin");
    int code = run("profile", "--input", in.toString(), "--output", ref.toString(), "--docs-per-window", "2",
        "--max-document-chars", "55");
    assertEquals(ExitCodes.PARTIAL, code, err.toString());
    assertEquals(2, Reference.fromBytes(Files.readAllBytes(ref)).summary().documents());
    List<String> rejected = err.toString().lines().filter(l -> l.startsWith("rejected ")).toList();
    String prefix = "rejected " + in + ":";
    assertEquals(List.of("2", "3", "4", "5", "6", "7"), rejected.stream()
        .map(l -> l.substring(prefix.length(), l.indexOf(": ", prefix.length()))).toList(), err.toString());
    assertTrue(rejected.get(0).contains("malformed JSON"), rejected.get(0));
    assertTrue(rejected.get(5).contains("--max-document-chars"), rejected.get(5));
    assertTrue(out.toString().contains("2 documents") && out.toString().contains("6 rejected lines"), out.toString());
  }

  @Test
  void shouldRefuseALineOverTheByteLimitWithoutStopping() throws Exception {
    Path in = dir.resolve("long.jsonl");
    Files.write(in, List.of("{\"text\": \"" + "a".repeat(300) + "\"}", "{\"text\": \"A short story.\"}"),
        StandardCharsets.UTF_8);
    assertEquals(ExitCodes.PARTIAL, run("profile", "--input", in.toString(), "--output", dir.resolve("l.bin")
        .toString(), "--ngrams-only", "--max-line-bytes", "100"), err.toString());
    assertTrue(err.toString().contains("rejected " + in + ":1: ") && err.toString().contains("--max-line-bytes"),
        err.toString());
    assertEquals(1, Reference.fromBytes(Files.readAllBytes(dir.resolve("l.bin"))).summary().documents());
  }
}
