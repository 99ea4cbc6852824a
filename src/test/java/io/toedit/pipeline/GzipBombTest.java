package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.text.TextTokenizer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gzip bomb fed to the batch {@code edit} job: a 1 MB file that expands to one 512 MiB JSON line.
 * The line is rejected (with its size and the limit) without ever being held in memory, the
 * well-formed line after it is still edited, and the old generation never grows by anything near
 * the expanded size.
 */
class GzipBombTest {

  static final long EXPANDED = 512L * 1024 * 1024;
  static final TextTokenizer tokenizer = BundledTokenizer.get();

  @TempDir
  Path dir;

  @Test
  void shouldRejectAGzipBombLineWithBoundedMemoryAndEditTheRest() throws IOException {
    Path bomb = dir.resolve("bomb.jsonl.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(bomb), 1 << 16) {
      {
        def.setLevel(Deflater.BEST_COMPRESSION);
      }
    }) {
      out.write("{\"id\":\"bomb\",\"text\":\"".getBytes(StandardCharsets.UTF_8));
      byte[] chunk = new byte[1 << 20];
      Arrays.fill(chunk, (byte) 'a');
      for (long written = 0; written < EXPANDED; written += chunk.length) {
        out.write(chunk);
      }
      out.write("\"}\n{\"id\":\"ok\",\"text\":\"Es war einmal ein kleiner Käse. 🧀\"}\n".getBytes(StandardCharsets.UTF_8));
    }
    assertTrue(Files.size(bomb) < 2 * 1024 * 1024, "a bomb: " + Files.size(bomb) + " bytes compressed");

    List<MemoryPoolMXBean> oldGen = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP && p.isUsageThresholdSupported()).toList();
    System.gc();
    long before = oldGen.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
    oldGen.forEach(MemoryPoolMXBean::resetPeakUsage);

    Path out = dir.resolve("out.jsonl");
    DocumentEditor editor = new DocumentEditor(tokenizer, FakeScorer.bigram(tokenizer.vocabulary().size()),
        new Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    JsonlEditJob.Summary summary = new JsonlEditJob(editor, JsonlEditJob.Options.defaults(bomb, out))
        .run(JsonlEditJob.Progress.NONE);

    long peak = oldGen.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    assertTrue(peak - before < 128L * 1024 * 1024, "old generation grew by " + (peak - before) / (1024 * 1024)
        + " MiB while reading a line of " + EXPANDED / (1024 * 1024) + " MiB: the line was held in memory");
    assertEquals(2, summary.lines());
    assertEquals(1, summary.documents(), "the line after the bomb is edited");
    assertEquals(1, summary.rejects());
    List<String> rejects = Files.readAllLines(summary.rejectsFile(), StandardCharsets.UTF_8);
    assertEquals(1, rejects.size());
    JsonNode reject = new ObjectMapper().readTree(rejects.get(0));
    String reason = reject.toString();
    assertTrue(reason.contains("over the limit"), reason);
    assertTrue(reason.contains(Long.toString(EXPANDED + "{\"id\":\"bomb\",\"text\":\"\"}".length())), reason);
    List<String> edited = Files.readAllLines(out, StandardCharsets.UTF_8);
    assertEquals(1, edited.size());
    assertEquals("ok", new ObjectMapper().readTree(edited.get(0)).get("id").asText());
  }
}
