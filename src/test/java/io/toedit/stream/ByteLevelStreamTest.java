package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.EditedDocument;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.FakeScorer;
import io.toedit.model.HfTokenizer;
import io.toedit.model.SyntheticModels;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.JsonlEditJob;
import io.toedit.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stream path with the real Qwen3 tokenizer (byte-level BPE) gives the same bytes as the batch
 * {@code edit} job, on the mixed-script corpus with edits forced on every token.
 */
class ByteLevelStreamTest {

  static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");

  @TempDir
  Path tmp;

  /** With scoring on the stream thread and in the background ({@code toedit.microbatch.overlap}). */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void streamShouldWriteTheSameBytesAsEdit(boolean overlap) throws Exception {
    EditConfig config = EditConfig.defaults().withThreshold(0.0, true).withExcludeOriginal(true);
    ObjectMapper json = new ObjectMapper();
    List<String> lines = Files.readAllLines(Path.of("src/test/resources/corpora/mixed_script.jsonl"));
    try (TextTokenizer tokenizer = HfTokenizer.open(SyntheticModels.tokenizerFolder(tmp, "qwen3-tiny"))) {
      FakeScorer scorer = FakeScorer.acrossVocabulary(151_936, 8,
          new int[] {tokenizer.vocabulary().bosId(), 151_935});
      // edit: the batch job on a JSONL file
      Path in = tmp.resolve("in.jsonl");
      Files.write(in, lines);
      Path out = tmp.resolve("out.jsonl");
      new JsonlEditJob(new DocumentEditor(tokenizer, scorer, new Editor(config, tokenizer.vocabulary())),
          JsonlEditJob.Options.defaults(in, out)).run(JsonlEditJob.Progress.NONE);
      Map<String, String> originals = new HashMap<>();
      for (String l : lines) {
        originals.put(json.readTree(l).get("id").asText(), json.readTree(l).get("text").asText());
      }
      Map<String, String> batch = new HashMap<>();
      for (String l : Files.readAllLines(out, StandardCharsets.UTF_8)) {
        JsonNode n = json.readTree(l);
        batch.put(n.get("id").asText(), n.get("text").asText());
      }
      // run: the topology
      PipelineConfig cfg = PipelineConfig.defaults().with("toedit.batch.max.tokens", "100000")
          .with("toedit.batch.max.latency.ms", "1000").with("toedit.batch.punctuate.interval.ms", "100")
          .with("toedit.microbatch.overlap", Boolean.toString(overlap));
      Properties p = new Properties();
      p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-byte-level-test");
      p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
      p.put(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state").toString());
      try (TopologyTestDriver d = new TopologyTestDriver(ToEditTopology.build(cfg, tokenizer, scorer, config), p, T0)) {
        TestInputTopic<byte[], byte[]> input = d.createInputTopic(cfg.inputTopic(), new ByteArraySerializer(),
            new ByteArraySerializer(), T0, Duration.ofMillis(1));
        TestOutputTopic<String, EditedDocument> edited = d.createOutputTopic(cfg.editedTopic(), new StringDeserializer(),
            AvroSerde.edited().deserializer());
        for (String l : lines) {
          String id = json.readTree(l).get("id").asText();
          input.pipeInput(new TestRecord<>(id.getBytes(StandardCharsets.UTF_8), l.getBytes(StandardCharsets.UTF_8), T0));
        }
        d.advanceWallClockTime(Duration.ofMillis(2000));
        List<EditedDocument> docs = new java.util.ArrayList<>(edited.readValuesToList());
        ToEditTopologyTest.drain(d, cfg, () -> {
          docs.addAll(edited.readValuesToList());
          return docs.size() >= lines.size();
        });
        assertEquals(lines.size(), docs.size());
        int changed = 0;
        for (EditedDocument doc : docs) {
          String original = originals.get(doc.getId());
          assertTrue(doc.getChanged() > 0, doc.getId() + ": forced edits change something");
          assertTrue(!doc.getText().equals(original), doc.getId());
          assertArrayEquals(batch.get(doc.getId()).getBytes(StandardCharsets.UTF_8),
              doc.getText().getBytes(StandardCharsets.UTF_8), doc.getId() + ": stream and edit differ");
          changed += doc.getChanged();
        }
        assertTrue(changed > 400, "changed " + changed);
      }
    }
  }
}
