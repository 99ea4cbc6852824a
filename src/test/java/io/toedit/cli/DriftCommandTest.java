package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code drift} audit command end to end with the bundled stories260k prior: a reference
 * profiled from the first 200 documents of {@code tinystories_valid}, then audits of held-out human
 * stories (no alert), of the model's own temperature-0.7 samples (alert), of a gzip file and of a
 * file with bad lines.
 */
class DriftCommandTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dir;

  private static Path reference;
  private static List<String> human;
  private static List<String> generated;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    return Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
  }

  private static List<String> lines(String resource) throws Exception {
    List<String> out = new ArrayList<>();
    try (InputStream in = DriftCommandTest.class.getResourceAsStream(resource);
        BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        out.add(line);
      }
    }
    return out;
  }

  @BeforeAll
  static void profile() throws Exception {
    human = lines("/corpora/tinystories_valid.jsonl.gz");
    generated = lines("/drift/generated_t0.7.jsonl.gz");
    Path corpus = dir.resolve("reference.jsonl");
    Files.write(corpus, human.subList(0, 200), StandardCharsets.UTF_8);
    reference = dir.resolve("ref.bin");
    StringWriter e = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(e, true))
        .execute("profile", "--input", corpus.toString(), "--output", reference.toString());
    assertEquals(ExitCodes.OK, code, e.toString());
  }

  private List<JsonNode> jsonOut() throws Exception {
    List<JsonNode> objects = new ArrayList<>();
    for (String line : out.toString().split("\n")) {
      if (!line.isBlank()) {
        objects.add(JSON.readTree(line));
      }
    }
    return objects;
  }

  @Test
  void shouldPassHeldOutHumanTextWithOneJsonObjectPerWindowThenSummary() throws Exception {
    Path in = dir.resolve("held-out.jsonl");
    Files.write(in, human.subList(200, 250), StandardCharsets.UTF_8);
    int code = run("drift", "--reference", reference.toString(), "--input", in.toString(), "--format", "json");
    assertEquals(ExitCodes.OK, code, out + "\n" + err);
    List<JsonNode> objects = jsonOut();
    assertEquals(4, objects.size(), "20 + 20 + a tail of 10, then the summary: " + out);
    for (int i = 0; i < 3; i++) {
      JsonNode w = objects.get(i);
      for (String f : List.of("window", "documents", "jsd", "syntheticFraction", "syntheticFractionLow",
          "syntheticFractionHigh", "alert", "nllKsPValue", "ngramPValue", "excessPValue", "documentNllMean",
          "firstLine", "lastLine")) {
        assertTrue(w.has(f), f + " in " + w);
      }
      assertEquals(i, w.get("window").asInt());
      assertEquals(i < 2 ? 20 : 10, w.get("documents").asInt());
      assertEquals(20 * i + 1, w.get("firstLine").asInt());
      assertFalse(w.get("alert").asBoolean(), w.toString());
      double f = w.get("syntheticFraction").asDouble();
      assertTrue(w.get("syntheticFractionLow").asDouble() <= f && f <= w.get("syntheticFractionHigh").asDouble());
      assertTrue(f < 0.2, "held-out human text: " + w);
    }
    JsonNode summary = objects.get(3);
    assertTrue(summary.get("summary").asBoolean());
    assertEquals(50, summary.get("documents").asInt());
    assertEquals(3, summary.get("windows").asInt());
    assertEquals(0, summary.get("alerts").asInt());
    assertEquals(ExitCodes.OK, summary.get("exitCode").asInt());
  }

  @Test
  void shouldAlertWithItsExitCodeOnTheModelsOwnSamplesAndReadGzipByMagicBytes() throws Exception {
    // 10 human stories, then 20 samples of the model at T = 0.7, then 10 human: windows of 10
    List<String> mixed = new ArrayList<>(human.subList(300, 310));
    mixed.addAll(generated.subList(0, 20));
    mixed.addAll(human.subList(310, 320));
    Path gz = dir.resolve("mixed.data");
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(gz))) {
      o.write((String.join("\n", mixed) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    int code = run("drift", "--reference", reference.toString(), "--input", gz.toString(), "--format", "json",
        "--docs-per-window", "10");
    assertEquals(ExitCodes.DRIFT_ALERT, code, out + "\n" + err);
    List<JsonNode> objects = jsonOut();
    assertEquals(5, objects.size(), out.toString());
    assertFalse(objects.get(0).get("alert").asBoolean(), objects.get(0).toString());
    assertTrue(objects.get(1).get("alert").asBoolean(), objects.get(1).toString());
    assertTrue(objects.get(2).get("alert").asBoolean(), objects.get(2).toString());
    assertFalse(objects.get(3).get("alert").asBoolean(), objects.get(3).toString());
    assertTrue(objects.get(1).get("syntheticFractionLow").asDouble() > 0.3, objects.get(1).toString());
    JsonNode summary = objects.get(4);
    assertEquals(2, summary.get("alerts").asInt());
    assertEquals("[1,2]", summary.get("alertWindows").toString());
    assertEquals(ExitCodes.DRIFT_ALERT, summary.get("exitCode").asInt());
  }

  @Test
  void shouldReportBadLinesByLineNumberAndKeepAuditing() throws Exception {
    List<String> lines = new ArrayList<>(human.subList(200, 205));
    lines.add(2, "{not json");
    lines.add(4, "{\"body\": \"no text field\"}");
    lines.add(5, "");
    Path in = dir.resolve("bad.jsonl");
    Files.write(in, lines, StandardCharsets.UTF_8);
    int code = run("drift", "--reference", reference.toString(), "--input", in.toString(), "--docs-per-window", "5");
    assertEquals(ExitCodes.PARTIAL, code, out + "\n" + err);
    // The reasons of 'run' and 'edit' (DocumentFormatAgreementTest checks every kind); an empty line is
    // refused as an empty record is.
    assertTrue(err.toString().contains(in + ":3: malformed JSON: "), err.toString());
    assertTrue(err.toString().contains(in + ":5: missing text: the JSON object has no \"text\" field (choose the"
        + " text field with --text-field)"), err.toString());
    assertTrue(err.toString().contains(in + ":6: malformed JSON: expected an object, got nothing"), err.toString());
    assertTrue(out.toString().contains("5 documents in 1 windows, 3 rejected lines"), out.toString());
    assertTrue(out.toString().contains("synthetic [interval]"), "table header: " + out);
  }

  @Test
  void shouldRefuseMissingFilesAndNGramOnlyReferences() throws Exception {
    Path in = dir.resolve("one.jsonl");
    Files.write(in, human.subList(0, 3), StandardCharsets.UTF_8);
    assertEquals(ExitCodes.USAGE, run("drift", "--reference", dir.resolve("none.bin").toString(), "--input",
        in.toString()));
    assertEquals(ExitCodes.USAGE, run("drift", "--reference", reference.toString(), "--input",
        dir.resolve("none.jsonl").toString()));
    Path ngrams = dir.resolve("ngrams.bin");
    assertEquals(ExitCodes.OK, run("profile", "--input", in.toString(), "--output", ngrams.toString(),
        "--ngrams-only"));
    assertEquals(ExitCodes.USAGE, run("drift", "--reference", ngrams.toString(), "--input", in.toString()));
    assertTrue(err.toString().contains("has no document NLL"), err.toString());
    assertEquals(ExitCodes.USAGE, run("drift", "--reference", reference.toString(), "--input", in.toString(),
        "--format", "xml"));
  }
}
