package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.avro.Edit;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.cli.ExitCodes;
import io.toedit.cli.Main;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code produce} and {@code consume} commands against the shared test broker. */
class ProduceConsumeCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final List<String> TEXTS = List.of(
      "Once upon a time, a cat 猫 sat. 🐈‍⬛",
      "مرحبا بالعالم — right to left",
      "combining: e\u0301 a\u0308 and the block ▁ char",
      "line one\nline two\ttab \"quoted\"",
      "日本語のテキスト。",
      "emoji 👩🏽‍💻 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
      "plain");

  @Test
  void shouldRoundTripJsonlWithUnicodeWhenProducedAndConsumedAsJson(@TempDir Path dir) throws Exception {
    String topic = KafkaTestCluster.uniqueTopic("cli-json");
    KafkaTestCluster.createTopics(1, topic);
    Path input = writeInput(dir.resolve("in.jsonl.gz"), true);

    Cli produced = cli("produce", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, "--format", "json",
        input.toString());
    assertEquals(ExitCodes.OK, produced.code, produced.all());
    assertTrue(produced.out.contains("produced " + TEXTS.size() + " records"), produced.all());

    Path out = dir.resolve("shards");
    Cli consumed = cli("consume", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, "--format", "json",
        "--output-dir", out.toString(), "--shard-records", "3", "--group", "g-" + topic,
        "--from-beginning", "--max-records", String.valueOf(TEXTS.size()), "--idle-timeout", "60s");
    assertEquals(ExitCodes.OK, consumed.code, consumed.all());

    assertEquals(List.of("edited-00000.jsonl", "edited-00001.jsonl", "edited-00002.jsonl"), files(out));
    assertEquals(List.of(3, 3, 1), lineCounts(out));
    List<JsonNode> lines = readShards(out);
    assertEquals(TEXTS.size(), lines.size());
    for (int i = 0; i < TEXTS.size(); i++) {
      assertEquals(inputLine(i), lines.get(i), "record " + i);
    }
  }

  @Test
  void shouldWriteRawDocumentsAsAvroSingleObjectsKeyedById(@TempDir Path dir) throws Exception {
    String topic = KafkaTestCluster.uniqueTopic("cli-avro");
    KafkaTestCluster.createTopics(1, topic);
    Path input = writeInput(dir.resolve("in.jsonl"), false);
    Cli produced = cli("produce", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, input.toString());
    assertEquals(ExitCodes.OK, produced.code, produced.all());

    List<ConsumerRecord<String, byte[]>> got = KafkaTestCluster.consumeAll(topic, new ByteArrayDeserializer(),
        TEXTS.size(), Duration.ofSeconds(60));
    assertEquals(TEXTS.size(), got.size());
    for (int i = 0; i < TEXTS.size(); i++) {
      RawDocument doc = RawDocument.getDecoder().decode(got.get(i).value());
      assertEquals("doc-" + i, got.get(i).key());
      assertEquals("doc-" + i, doc.getId());
      assertEquals(TEXTS.get(i), doc.getText());
      assertEquals("test-ü", doc.getSource());
      assertEquals(Map.of("n", String.valueOf(i)), doc.getMetadata());
    }
  }

  @Test
  void shouldRejectInvalidLineWithLineNumberUnlessSkipping(@TempDir Path dir) throws Exception {
    String topic = KafkaTestCluster.uniqueTopic("cli-invalid");
    Path input = dir.resolve("bad.jsonl");
    Files.writeString(input, "{\"id\":\"a\",\"text\":\"ok ✓\"}\n{\"id\":\"b\",\"text\":42}\n{\"id\":\"c\",\"text\":\"ok 2\"}\n",
        StandardCharsets.UTF_8);
    Cli failed = cli("produce", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, input.toString());
    assertEquals(ExitCodes.USAGE, failed.code, failed.all());
    assertTrue(failed.err.contains("bad.jsonl line 2: text is not a string"), failed.all());

    Cli skipped = cli("produce", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, "--skip-invalid",
        input.toString());
    assertEquals(ExitCodes.PARTIAL, skipped.code, skipped.all());
    assertTrue(skipped.out.contains("produced 2 records"), skipped.all());
  }

  @Test
  void shouldDecodeEditedDocumentsSkipAbortedOnesAndResumeWithGroup(@TempDir Path dir) throws Exception {
    String topic = KafkaTestCluster.uniqueTopic("cli-edited");
    KafkaTestCluster.createTopics(1, topic);
    Properties p = KafkaTestCluster.clientProperties();
    p.setProperty("transactional.id", "it-" + topic);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      producer.beginTransaction();
      for (int i = 0; i < 4; i++) {
        producer.send(new ProducerRecord<>(topic, "doc-" + i, encode(edited(i))));
      }
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "aborted", encode(edited(99))));
      producer.flush();
      producer.abortTransaction();
    }
    Path out = dir.resolve("shards");
    String group = "g-" + topic;
    Cli first = cli("consume", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, "-o", out.toString(),
        "--group", group, "--from-beginning", "--idle-timeout", "5s");
    assertEquals(ExitCodes.OK, first.code, first.all());
    List<JsonNode> lines = readShards(out);
    assertEquals(4, lines.size(), "the aborted record is not read: " + lines);
    for (int i = 0; i < 4; i++) {
      JsonNode n = lines.get(i);
      assertEquals("doc-" + i, n.get("id").asText());
      assertEquals(TEXTS.get(i) + " edited", n.get("text").asText());
      assertEquals(TEXTS.get(i), n.get("originalText").asText());
      assertEquals("▁cat", n.get("edits").get(0).get("newPiece").asText());
      assertEquals(0.995, n.get("edits").get(0).get("probOriginal").asDouble(), 1e-6);
      assertEquals("1.5", n.get("parameters").get("beta").asText());
      assertTrue(n.get("source").isNull());
    }

    // Same group: the committed offsets hold, only the new record arrives, in a new shard.
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaTestCluster.clientProperties(),
        new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, "doc-5", encode(edited(5)))).get();
    }
    Cli second = cli("consume", "-b", KafkaTestCluster.bootstrapServers(), "-t", topic, "-o", out.toString(),
        "--group", group, "--from-beginning", "--idle-timeout", "5s");
    assertEquals(ExitCodes.OK, second.code, second.all());
    assertEquals(List.of("edited-00000.jsonl", "edited-00001.jsonl"), files(out));
    List<JsonNode> all = readShards(out);
    assertEquals(5, all.size());
    assertEquals("doc-5", all.get(4).get("id").asText());
  }

  // ---------------------------------------------------------------------------------------------

  private static EditedDocument edited(int i) {
    String text = TEXTS.get(i % TEXTS.size());
    Edit edit = Edit.newBuilder().setPosition(3).setCharStart(2).setCharEnd(5).setOriginalId(42)
        .setOriginalPiece("▁dog").setNewId(43).setNewPiece("▁cat").setProbOriginal(0.995f).build();
    return EditedDocument.newBuilder().setId("doc-" + i).setSource(null).setText(text + " edited")
        .setOriginalText(text).setEdits(List.of(edit)).setTokens(10).setOverThreshold(2).setChanged(1)
        .setDeleted(0).setMeanNll(1.25).setModel("stories260k").setStrategy("resample")
        .setParameters(Map.of("beta", "1.5", "p", "0.99")).setSeed(7L).setMetadata(null).build();
  }

  private static byte[] encode(EditedDocument doc) throws IOException {
    ByteBuffer b = EditedDocument.getEncoder().encode(doc);
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return bytes;
  }

  private static ObjectNode inputLine(int i) {
    ObjectNode n = JSON.createObjectNode();
    n.put("id", "doc-" + i);
    n.put("text", TEXTS.get(i));
    n.put("source", "test-ü");
    n.putObject("metadata").put("n", String.valueOf(i));
    return n;
  }

  private static Path writeInput(Path file, boolean gzip) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < TEXTS.size(); i++) {
      sb.append(JSON.writeValueAsString(inputLine(i))).append('\n');
      if (i == 2) {
        sb.append("   \n"); // blank lines are ignored
      }
    }
    byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
      out.write(bytes);
    }
    return file;
  }

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static List<Integer> lineCounts(Path dir) throws IOException {
    List<Integer> counts = new ArrayList<>();
    for (String f : files(dir)) {
      counts.add(Files.readAllLines(dir.resolve(f), StandardCharsets.UTF_8).size());
    }
    return counts;
  }

  private static List<JsonNode> readShards(Path dir) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String f : files(dir)) {
      assertFalse(f.endsWith(".tmp"), "no unfinished shard left: " + f);
      for (String line : Files.readAllLines(dir.resolve(f), StandardCharsets.UTF_8)) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }

  static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
    return new Cli(code, out.toString(), err.toString());
  }

  record Cli(int code, String out, String err) {
    String all() {
      return "exit " + code + "\nout:\n" + out + "\nerr:\n" + err;
    }
  }
}
