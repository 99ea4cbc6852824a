package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.Edit;
import io.toedit.avro.EditedDocument;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.JsonlEditJob;
import io.toedit.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edited document carries the same fields, with the same values, in every output format: the
 * stream's {@code toedit.output.format=avro} and {@code json}, and the info object of {@code edit}
 * (which has everything but the input's own {@code id}, {@code source}, {@code text} and
 * {@code metadata}, kept on the line itself). One document, the same fake model and edit settings.
 */
class OutputFormatParityTest {

  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  static final ObjectMapper JSON = new ObjectMapper();
  static final TextTokenizer tokenizer = BundledTokenizer.get();
  static final String ID = "parität-1";
  static final String TEXT = "Once upon a time, Lily fand einen Stein — «schön» 🪨, and she smiled at the 猫.";

  @TempDir
  Path dir;

  static FakeScorer scorer() {
    return FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
  }

  /** The edited topic's one record, as the stream writes it in {@code format}. */
  byte[] streamRecord(String format) throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.output.format", format)
        .with("toedit.output.include.original", "true").with("toedit.microbatch.max.records", "1");
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-parity-" + format);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve(format).toString());
    try (TopologyTestDriver d = new TopologyTestDriver(ToEditTopology.build(ToEditTopologyTest.onStreamThread(config),
        tokenizer, scorer(), EditConfig.defaults()), p, T0)) {
      d.createInputTopic(config.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer(), T0,
          Duration.ofMillis(1)).pipeInput(ID.getBytes(StandardCharsets.UTF_8), JSON.writeValueAsBytes(
              Map.of("id", ID, "text", TEXT, "source", "wiki-ü", "metadata", Map.of("lang", "de/en"))));
      var out = d.createOutputTopic(config.editedTopic(), new StringDeserializer(), new ByteArrayDeserializer())
          .readValuesToList();
      assertEquals(1, out.size());
      return out.get(0);
    }
  }

  @Test
  void shouldWriteTheSameFieldsAndValuesInAvroAndJson() throws Exception {
    EditedDocument avro = AvroSerde.edited().decode(streamRecord("avro"));
    JsonNode json = JSON.readTree(new String(streamRecord("json"), StandardCharsets.UTF_8));

    Set<String> avroFields = new LinkedHashSet<>();
    for (Schema.Field f : avro.getSchema().getFields()) {
      avroFields.add(f.name());
    }
    assertEquals(avroFields, fieldNames(json));
    assertTrue(avroFields.containsAll(List.of("expectedChanged", "excludedCandidates", "contextToken")));

    assertEquals(avro.getId(), json.get("id").asText());
    assertEquals(avro.getSource(), json.get("source").asText());
    assertEquals(avro.getText(), json.get("text").asText());
    assertEquals(avro.getOriginalText(), json.get("originalText").asText());
    assertEquals(TEXT, avro.getOriginalText());
    assertEquals(avro.getTokens(), json.get("tokens").asInt());
    assertEquals(avro.getOverThreshold(), json.get("overThreshold").asInt());
    assertEquals(avro.getChanged(), json.get("changed").asInt());
    assertEquals(avro.getDeleted(), json.get("deleted").asInt());
    assertNotNull(avro.getExpectedChanged());
    assertTrue(avro.getExpectedChanged() > 0, "the fake model makes every third id easy");
    assertEquals(avro.getExpectedChanged(), json.get("expectedChanged").asDouble(), 0.0);
    assertNotNull(avro.getExcludedCandidates());
    assertEquals(avro.getExcludedCandidates(), json.get("excludedCandidates").asInt());
    assertEquals(avro.getMeanNll(), json.get("meanNll").asDouble(), 0.0);
    assertEquals("fake-scorer", avro.getModel());
    assertEquals(avro.getModel(), json.get("model").asText());
    assertEquals("<s> (1) from tokenizer.json post_processor", avro.getContextToken());
    assertEquals(avro.getContextToken(), json.get("contextToken").asText());
    assertEquals(avro.getStrategy(), json.get("strategy").asText());
    assertEquals(avro.getParameters(), JSON.convertValue(json.get("parameters"), Map.class));
    assertEquals(avro.getSeed(), json.get("seed").asLong());
    assertEquals(Map.of("lang", "de/en"), avro.getMetadata());
    assertEquals(avro.getMetadata(), JSON.convertValue(json.get("metadata"), Map.class));
    assertTrue(avro.getChanged() > 0 && !avro.getEdits().isEmpty(), "something was edited to compare");
    assertEdits(avro.getEdits(), json.get("edits"));
  }

  @Test
  void shouldWriteTheSameEditFieldsAndValuesInTheStreamAsEditDoes() throws Exception {
    EditedDocument avro = AvroSerde.edited().decode(streamRecord("avro"));
    Path in = dir.resolve("in.jsonl");
    Path out = dir.resolve("out.jsonl");
    Files.writeString(in, JSON.writeValueAsString(Map.of("id", ID, "text", TEXT)) + "\n");
    DocumentEditor editor = new DocumentEditor(tokenizer, scorer(), new Editor(EditConfig.defaults(),
        tokenizer.vocabulary()));
    new JsonlEditJob(editor, JsonlEditJob.Options.defaults(in, out)).run(JsonlEditJob.Progress.NONE);
    JsonNode info = JSON.readTree(Files.readAllLines(out).get(0)).get("toedit");

    Set<String> expected = new LinkedHashSet<>();
    for (Schema.Field f : avro.getSchema().getFields()) {
      expected.add(f.name());
    }
    expected.removeAll(List.of("id", "source", "text", "metadata")); // the input line's own fields
    assertEquals(expected, fieldNames(info));

    assertEquals(avro.getOriginalText(), info.get("originalText").asText());
    assertEquals(avro.getTokens(), info.get("tokens").asInt());
    assertEquals(avro.getOverThreshold(), info.get("overThreshold").asInt());
    assertEquals(avro.getChanged(), info.get("changed").asInt());
    assertEquals(avro.getDeleted(), info.get("deleted").asInt());
    assertEquals(avro.getExpectedChanged(), info.get("expectedChanged").asDouble(), 0.0);
    assertEquals(avro.getExcludedCandidates(), info.get("excludedCandidates").asInt());
    assertEquals(avro.getMeanNll(), info.get("meanNll").asDouble(), 0.0);
    assertEquals(avro.getModel(), info.get("model").asText());
    assertEquals(avro.getContextToken(), info.get("contextToken").asText());
    assertEquals(avro.getStrategy(), info.get("strategy").asText());
    assertEquals(avro.getParameters(), JSON.convertValue(info.get("parameters"), Map.class));
    assertEquals(avro.getSeed(), info.get("seed").asLong());
    assertEdits(avro.getEdits(), info.get("edits"));
  }

  @Test
  void shouldDecodeAnEditedDocumentWrittenWithTheVersion1SchemaWithNullNewFields() throws Exception {
    Schema v1;
    try (var in = getClass().getClassLoader().getResourceAsStream("schema-history/EditedDocument-v1.avsc")) {
      v1 = new Schema.Parser().parse(in);
    }
    assertEquals(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
        org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(EditedDocument.getClassSchema(), v1)
            .getType());
    org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericData.Record(v1);
    old.put("id", "alt-ü");
    old.put("text", "Früher geschrieben.");
    old.put("edits", List.of());
    old.put("tokens", 4);
    old.put("overThreshold", 1);
    old.put("changed", 0);
    old.put("deleted", 0);
    old.put("meanNll", 2.5);
    old.put("model", "m");
    old.put("strategy", "up_revise");
    old.put("parameters", Map.of("beta", "1.0"));
    old.put("seed", 7L);
    byte[] bytes = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
        org.apache.avro.generic.GenericData.get(), v1).encode(old).array();
    EditedDocument d = AvroSerde.edited().decode(bytes);
    assertEquals("alt-ü", d.getId());
    assertEquals(4, d.getTokens());
    assertEquals(null, d.getExpectedChanged());
    assertEquals(null, d.getExcludedCandidates());
    assertEquals(null, d.getContextToken());
  }

  static Set<String> fieldNames(JsonNode object) {
    Set<String> names = new LinkedHashSet<>();
    for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }

  static void assertEdits(List<Edit> expected, JsonNode actual) {
    assertEquals(expected.size(), actual.size());
    Set<String> editFields = new LinkedHashSet<>();
    for (Schema.Field f : Edit.getClassSchema().getFields()) {
      editFields.add(f.name());
    }
    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < expected.size(); i++) {
      Edit e = expected.get(i);
      JsonNode j = actual.get(i);
      assertEquals(editFields, fieldNames(j), "edit " + i);
      if (e.getPosition() != j.get("position").asInt() || e.getCharStart() != j.get("charStart").asInt()
          || e.getCharEnd() != j.get("charEnd").asInt() || e.getOriginalId() != j.get("originalId").asInt()
          || !e.getOriginalPiece().equals(j.get("originalPiece").asText()) || e.getNewId() != j.get("newId").asInt()
          || !e.getNewPiece().equals(j.get("newPiece").asText())
          || e.getProbOriginal() != (float) j.get("probOriginal").asDouble()) {
        mismatches.add(i + ": " + e + " vs " + j);
      }
    }
    assertEquals(List.of(), mismatches);
  }
}
