package io.toedit.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.DeadLetter;
import io.toedit.stream.AvroSerde;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.internals.AutoOffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardExporterTest {

  private static final String TOPIC = "toedit.edited";
  private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

  private static MockConsumer<byte[], byte[]> consumerWith(List<String> values) {
    MockConsumer<byte[], byte[]> c = new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
    c.schedulePollTask(() -> {
      c.rebalance(List.of(TP));
      c.updateBeginningOffsets(Map.of(TP, 0L));
      for (int i = 0; i < values.size(); i++) {
        byte[] v = values.get(i) == null ? null : values.get(i).getBytes(StandardCharsets.UTF_8);
        c.addRecord(new ConsumerRecord<>(TOPIC, 0, i, ("k" + i).getBytes(StandardCharsets.UTF_8), v));
      }
    });
    return c;
  }

  @Test
  void shouldRollShardsAndCommitAfterEachWhenShardIsFull(@TempDir Path dir) throws Exception {
    List<String> values = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      values.add("{\"id\":\"d" + i + "\",\"text\":\"猫 " + i + "\"}");
    }
    MockConsumer<byte[], byte[]> c = consumerWith(values);
    ShardExporter.Result r = new ShardExporter(c, TOPIC, dir, "edited", 2, ShardExporter.Format.JSON, w -> { })
        .run(0, Duration.ofMillis(300));
    assertEquals(new ShardExporter.Result(5, 0, 3), r);
    assertEquals(List.of("edited-00000.jsonl", "edited-00001.jsonl", "edited-00002.jsonl"), names(dir));
    assertEquals(List.of("{\"id\":\"d4\",\"text\":\"猫 4\"}"),
        Files.readAllLines(dir.resolve("edited-00002.jsonl"), StandardCharsets.UTF_8));
    assertEquals(5L, c.committed(Set.of(TP)).get(TP).offset());
  }

  @Test
  void shouldStopAtMaxRecordsAndCommitOnlyWhatWasWritten(@TempDir Path dir) throws Exception {
    MockConsumer<byte[], byte[]> c = consumerWith(List.of("{\"a\":1}", "{\"a\":2}", "{\"a\":3}"));
    ShardExporter.Result r = new ShardExporter(c, TOPIC, dir, "edited", 100, ShardExporter.Format.JSON, w -> { })
        .run(2, null);
    assertEquals(new ShardExporter.Result(2, 0, 1), r);
    assertEquals(2L, c.committed(Set.of(TP)).get(TP).offset(), "the third record is read again next time");
  }

  @Test
  void shouldSkipUndecodableValuesWithWarningAndContinueNumberingAfterExistingShards(@TempDir Path dir)
      throws Exception {
    Files.writeString(dir.resolve("edited-00007.jsonl"), "{}\n");
    Files.writeString(dir.resolve("edited-00008.jsonl.tmp"), "{\"partial\":");
    MockConsumer<byte[], byte[]> c = consumerWith(Arrays.asList("not json ✗", null, "{\"ok\":\"✓\"}"));
    List<String> warnings = new ArrayList<>();
    ShardExporter.Result r = new ShardExporter(c, TOPIC, dir, "edited", 10, ShardExporter.Format.JSON, warnings::add)
        .run(0, Duration.ofMillis(300));
    assertEquals(new ShardExporter.Result(1, 2, 1), r);
    assertEquals(List.of("edited-00007.jsonl", "edited-00008.jsonl"), names(dir));
    assertEquals(List.of("{\"ok\":\"✓\"}"), Files.readAllLines(dir.resolve("edited-00008.jsonl")));
    assertEquals(3, warnings.size(), warnings.toString()); // the deleted .tmp, the bad JSON, the null value
    assertTrue(warnings.get(0).contains("edited-00008.jsonl.tmp"), warnings.toString());
    assertEquals(3L, c.committed(Set.of(TP)).get(TP).offset());
  }

  @Test
  void shouldSkipAvroValueThatIsNotAnEditedDocument(@TempDir Path dir) throws Exception {
    MockConsumer<byte[], byte[]> c = consumerWith(List.of("{\"json\":\"not avro\"}"));
    List<String> warnings = new ArrayList<>();
    ShardExporter.Result r = new ShardExporter(c, TOPIC, dir, "edited", 10, ShardExporter.Format.AVRO, warnings::add)
        .run(0, Duration.ofMillis(300));
    assertEquals(new ShardExporter.Result(0, 1, 0), r);
    assertFalse(warnings.isEmpty());
    assertEquals(List.of(), names(dir));
  }

  @Test
  void shouldWriteDeadLettersOfTheDeadLetterTopicAsJson(@TempDir Path dir) throws Exception {
    DeadLetter dl = DeadLetter.newBuilder()
        .setKey(null).setValue(ByteBuffer.wrap("{\"id\": \"bad".getBytes(StandardCharsets.UTF_8)))
        .setTopic("toedit.raw").setPartition(0).setOffset(7L).setDocumentId(null)
        .setErrorClass("io.toedit.document.InvalidDocumentException").setReason("not JSON: unexpected end")
        .setStage("validate").setTime(Instant.ofEpochMilli(1_700_000_000_000L))
        .setValueLength(10L).setValueSha256("ab").setValueTruncated(false).build();
    byte[] value = AvroSerde.deadLetter().encode(dl);
    MockConsumer<byte[], byte[]> c = new MockConsumer<>(AutoOffsetResetStrategy.EARLIEST.name());
    TopicPartition tp = new TopicPartition("toedit.dlq", 0);
    c.schedulePollTask(() -> {
      c.rebalance(List.of(tp));
      c.updateBeginningOffsets(Map.of(tp, 0L));
      c.addRecord(new ConsumerRecord<>("toedit.dlq", 0, 0, null, value));
    });
    List<String> warnings = new ArrayList<>();
    ShardExporter.Result r = new ShardExporter(c, "toedit.dlq", dir, "dlq", 10, ShardExporter.Format.AVRO,
        warnings::add).run(0, Duration.ofMillis(300));
    assertEquals(new ShardExporter.Result(1, 0, 1), r, warnings.toString());
    String line = Files.readAllLines(dir.resolve("dlq-00000.jsonl"), StandardCharsets.UTF_8).get(0);
    assertTrue(line.contains("\"stage\":\"validate\""), line);
    assertTrue(line.contains("\"reason\":\"not JSON: unexpected end\""), line);
    assertTrue(line.contains("\"offset\":7"), line);
    assertTrue(line.contains("\"value\":\"eyJpZCI6ICJiYWQ=\""), line);   // base64 of the original bytes
  }

  private static List<String> names(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static final class Arrays {
    static List<String> asList(String... values) {
      return java.util.Arrays.asList(values);
    }
  }
}
