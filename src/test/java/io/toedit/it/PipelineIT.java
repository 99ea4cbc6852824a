package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DeadLetter;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.JsonlEditJob;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline on a real broker with the real stories260k model: 1,011 documents of two
 * bundled corpora (each cut to its first {@value #MAX_CHARS} characters at a space, so the test
 * stays within minutes on 2 busy cores) mixed with bad records, two stream threads sharing one scorer, exactly-once, and
 * output read with read_committed, compared byte for byte with the batch {@code edit} job.
 */
class PipelineIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final int MAX_CHARS = 400;

  @TempDir
  Path tmp;

  @Test
  void shouldEditEveryDocumentOnceAndDeadLetterEveryBadRecordLikeTheBatchJob() throws Exception {
    List<JsonNode> docs = new ArrayList<>(read("corpora/tinystories_valid.jsonl.gz", Integer.MAX_VALUE));
    docs.addAll(read("corpora/tinyshakespeare.jsonl.gz", 200));
    assertTrue(docs.size() >= 1000, "at least 1,000 documents");
    Map<String, byte[]> bad = badRecords();

    String run = KafkaTestCluster.uniqueTopic("pipeline-it");
    Properties props = KafkaTestCluster.clientProperties();
    props.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, run);
    props.setProperty(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state").toString());
    props.setProperty(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "2");
    props.setProperty("toedit.input.topic", run + ".raw");
    props.setProperty("toedit.edited.topic", run + ".edited");
    props.setProperty("toedit.dlq.topic", run + ".dlq");
    props.setProperty("toedit.input.max.chars", "20000");
    PipelineConfig config = PipelineConfig.fromProperties(props);
    assertEquals(StreamsConfig.EXACTLY_ONCE_V2,
        PipelineRunner.streamsProperties(props).getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
    KafkaTestCluster.createTopics(2, config.inputTopic(), config.editedTopic(), config.deadLetterTopic());

    ModelSettings settings = ModelSettings.defaults();
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      List<ConsumerRecord<String, EditedDocument>> edited;
      List<ConsumerRecord<byte[], DeadLetter>> dead;
      try (PipelineRunner runner = PipelineRunner.start(props, tokenizer, scorer, EditConfig.defaults())) {
        runner.printProgress(new java.io.PrintWriter(System.out, true), Duration.ofSeconds(15));
        produce(config.inputTopic(), docs, bad);
        int total = docs.size() + bad.size();
        edited = KafkaTestCluster.consumeAll(config.editedTopic(), AvroSerde.edited().deserializer(), docs.size(),
            Duration.ofMinutes(12));
        dead = KafkaTestCluster.consumeAll(config.deadLetterTopic(), new ByteArrayDeserializer(),
            AvroSerde.deadLetter().deserializer(), bad.size(), Duration.ofMinutes(2));
        assertEquals(total, edited.size() + dead.size(), "in = edited + dead-letter (read_committed)");
        assertEquals(null, runner.failure());
      }

      // Every good document exactly once, every bad record in the dead-letter topic with its bytes.
      Map<String, EditedDocument> byId = new HashMap<>();
      for (ConsumerRecord<String, EditedDocument> r : edited) {
        assertEquals(r.key(), r.value().getId());
        assertEquals(null, byId.put(r.key(), r.value()), "duplicate output for " + r.key());
      }
      Set<String> deadKeys = new HashSet<>();
      for (ConsumerRecord<byte[], DeadLetter> r : dead) {
        DeadLetter d = r.value();
        String key = new String(bytes(d.getKey()), StandardCharsets.UTF_8);
        assertTrue(bad.containsKey(key), "unexpected dead letter " + key + ": " + d.getReason());
        assertArrayEquals(bad.get(key), d.getValue() == null ? null : bytes(d.getValue()), key);
        assertEquals(config.inputTopic(), d.getTopic());
        assertTrue(!d.getReason().isBlank() && !d.getStage().isBlank());
        deadKeys.add(key);
      }
      assertEquals(bad.keySet(), deadKeys);

      // The batch edit job on the same documents, same model and seed: byte-identical text.
      Map<String, String> batch = batchEdit(docs, tokenizer, scorer);
      int unchanged = 0;
      long changed = 0;
      for (JsonNode doc : docs) {
        String id = doc.get("id").asText();
        EditedDocument e = byId.get(id);
        assertTrue(e != null, "missing output for " + id);
        assertArrayEquals(batch.get(id).getBytes(StandardCharsets.UTF_8), e.getText().getBytes(StandardCharsets.UTF_8),
            "stream and batch disagree on " + id);
        if (e.getEdits().isEmpty()) {
          unchanged++;
          assertArrayEquals(doc.get("text").asText().getBytes(StandardCharsets.UTF_8),
              e.getText().getBytes(StandardCharsets.UTF_8), "a document without edits must be kept exactly: " + id);
        }
        changed += e.getChanged();
        assertEquals(EditConfig.DEFAULT_SEED, e.getSeed());
        assertEquals(scorer.modelId(), e.getModel());
      }
      assertTrue(unchanged > 0, "some documents have no edit");
      assertTrue(changed > 0, "some tokens changed");
    }
  }

  private Map<String, String> batchEdit(List<JsonNode> docs, TextTokenizer tokenizer, Scorer scorer)
      throws IOException {
    Path in = tmp.resolve("batch-in.jsonl");
    Path out = tmp.resolve("batch-out.jsonl");
    try (BufferedWriter w = Files.newBufferedWriter(in, StandardCharsets.UTF_8)) {
      for (JsonNode d : docs) {
        w.write(JSON.writeValueAsString(d));
        w.write('\n');
      }
    }
    DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    JsonlEditJob.Summary summary = new JsonlEditJob(editor, JsonlEditJob.Options.defaults(in, out)).run(JsonlEditJob.Progress.NONE);
    assertEquals(0, summary.rejects());
    Map<String, String> texts = new LinkedHashMap<>();
    for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
      JsonNode n = JSON.readTree(line);
      texts.put(n.get("id").asText(), n.get("text").asText());
    }
    assertEquals(docs.size(), texts.size());
    return texts;
  }

  private static void produce(String topic, List<JsonNode> docs, Map<String, byte[]> bad) throws Exception {
    Properties p = KafkaTestCluster.clientProperties();
    p.setProperty("acks", "all");
    List<String> badKeys = new ArrayList<>(bad.keySet());
    int every = docs.size() / badKeys.size();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      int b = 0;
      for (int i = 0; i < docs.size(); i++) {
        JsonNode d = docs.get(i);
        String id = d.get("id").asText();
        byte[] value = i % 2 == 0 ? JSON.writeValueAsBytes(d)
            : AvroSerde.raw().encode(RawDocument.newBuilder().setId(id).setText(d.get("text").asText())
                .setSource(d.path("source").asText(null)).build());
        producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8), value));
        if (i % every == every - 1 && b < badKeys.size()) {
          String key = badKeys.get(b++);
          producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), bad.get(key)));
        }
      }
      while (b < badKeys.size()) {
        String key = badKeys.get(b++);
        producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), bad.get(key)));
      }
      producer.flush();
    }
  }

  /** Bad records keyed by what is wrong with them. */
  private static Map<String, byte[]> badRecords() {
    Map<String, byte[]> bad = new LinkedHashMap<>();
    byte[] avro = AvroSerde.raw().encode(RawDocument.newBuilder().setId("x").setText("Käse").build());
    bad.put("bad-malformed-json", utf8("{\"id\":\"bad\",\"text\":\"Es war einmal"));
    bad.put("bad-json-array", utf8("[1,2,3]"));
    bad.put("bad-missing-text", utf8("{\"id\":\"bad\",\"source\":\"x\"}"));
    bad.put("bad-empty-text", utf8("{\"id\":\"bad\",\"text\":\"\"}"));
    bad.put("bad-whitespace-text", utf8("{\"id\":\"bad\",\"text\":\" \\n\\t \"}"));
    bad.put("bad-number-text", utf8("{\"id\":\"bad\",\"text\":3.14}"));
    bad.put("bad-oversized", utf8("{\"id\":\"bad\",\"text\":\"" + "наш ".repeat(6000) + "\"}"));
    bad.put("bad-lone-surrogate", utf8("{\"id\":\"bad\",\"text\":\"x\\udc00y\"}"));
    bad.put("bad-invalid-utf8", new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xFF, '"', '}'});
    bad.put("bad-null-value", null);
    bad.put("bad-truncated-avro", java.util.Arrays.copyOf(avro, avro.length - 3));
    byte[] unknown = avro.clone();
    unknown[5] ^= 0x11;
    bad.put("bad-unknown-fingerprint", unknown);
    return bad;
  }

  private static List<JsonNode> read(String resource, int limit) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (InputStream raw = PipelineIT.class.getClassLoader().getResourceAsStream(resource)) {
      if (raw == null) {
        throw new IOException("missing test resource " + resource);
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null && out.size() < limit) {
        if (!line.isBlank()) {
          com.fasterxml.jackson.databind.node.ObjectNode doc = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(line);
          String text = doc.get("text").asText();
          if (text.length() > MAX_CHARS) {
            int cut = text.lastIndexOf(' ', MAX_CHARS);
            doc.put("text", text.substring(0, cut > 0 ? cut : MAX_CHARS));
          }
          out.add(doc);
        }
      }
    }
    return out;
  }

  private static byte[] bytes(java.nio.ByteBuffer b) {
    java.nio.ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
