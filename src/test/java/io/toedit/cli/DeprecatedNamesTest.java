package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.stream.PipelineConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Renamed settings and flags: the old names still work, each with a deprecation warning. */
class DeprecatedNamesTest {

  @Test
  void shouldReadTheOldMicroBatchPropertiesWithAWarning() {
    Properties props = new Properties();
    props.setProperty("toedit.batch.max.tokens", "100");
    props.setProperty("toedit.batch.max.latency.ms", "7");
    props.setProperty("toedit.batch.max.records", "9");
    props.setProperty("toedit.batch.punctuate.interval.ms", "3");
    props.setProperty("toedit.batch.parallelism", "2");
    List<String> warnings = new ArrayList<>();
    PipelineConfig c = PipelineConfig.fromProperties(props, warnings::add);
    assertEquals(100, c.batchMaxTokens());
    assertEquals(7, c.batchMaxLatencyMs());
    assertEquals(9, c.batchMaxRecords());
    assertEquals(3, c.punctuateIntervalMs());
    assertEquals(2, c.batchParallelism());
    assertEquals(5, warnings.size(), warnings.toString());
    assertTrue(warnings.contains(
        "'toedit.batch.max.tokens' is deprecated and will be removed: use 'toedit.microbatch.max.tokens'"),
        warnings.toString());
  }

  @Test
  void shouldReadTheNewNamesWithoutAWarning() {
    Properties props = new Properties();
    props.setProperty("toedit.microbatch.max.tokens", "100");
    List<String> warnings = new ArrayList<>();
    assertEquals(100, PipelineConfig.fromProperties(props, warnings::add).batchMaxTokens());
    assertEquals(List.of(), warnings);
  }

  @Test
  void shouldRefuseTheOldAndTheNewNameWithDifferentValues() {
    Properties props = new Properties();
    props.setProperty("toedit.microbatch.max.tokens", "100");
    props.setProperty("toedit.batch.max.tokens", "200");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PipelineConfig.fromProperties(props, w -> { }));
    assertTrue(e.getMessage().contains("both set"), e.getMessage());
    props.setProperty("toedit.batch.max.tokens", "100");
    assertEquals(100, PipelineConfig.fromProperties(props, w -> { }).batchMaxTokens());
  }

  @Test
  void shouldChangeOneSettingByItsOldName() {
    assertEquals(3, PipelineConfig.defaults().with("toedit.batch.max.records", "3").batchMaxRecords());
  }

  /** An {@code edit} command parsed from {@code args}, deprecated names applied; its stderr in {@code err}. */
  private static EditCommand parseEdit(StringWriter err, String... args) {
    EditCommand edit = new EditCommand();
    CommandLine cl = new CommandLine(edit);
    cl.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("-i", "in.jsonl", "-o", "out.jsonl"));
    all.addAll(List.of(args));
    cl.parseArgs(all.toArray(String[]::new));
    edit.applyDeprecatedNames();
    return edit;
  }

  @Test
  void shouldAcceptTheOldEditChunkFlagsWithAWarning() {
    StringWriter err = new StringWriter();
    EditCommand edit = parseEdit(err, "--batch-size", "5", "--concurrent-batches", "2");
    assertEquals(5, edit.chunkSize);
    assertEquals(2, edit.concurrentChunks);
    assertTrue(err.toString().contains("'--batch-size' is deprecated and will be removed: use '--chunk-size'"),
        err.toString());
    assertTrue(err.toString().contains("'--concurrent-batches' is deprecated"), err.toString());
  }

  @Test
  void shouldPreferTheNewEditFlagOverTheOldOne() {
    assertEquals(7, parseEdit(new StringWriter(), "--batch-size", "5", "--chunk-size", "7").chunkSize);
  }

  @Test
  void shouldTakeTheNewEditChunkFlagsSilently() {
    StringWriter err = new StringWriter();
    assertEquals(6, parseEdit(err, "--chunk-size", "6").chunkSize);
    assertEquals("", err.toString());
  }
}
