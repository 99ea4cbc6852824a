package io.toedit.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads one topic from the beginning with {@code isolation.level=read_committed} and keeps every
 * record it has seen, so a test can watch committed progress while a pipeline runs and, at the end,
 * see every committed record, duplicates included (aborted records never show).
 */
final class CommittedReader implements AutoCloseable {

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
  private final String topic;

  CommittedReader(Properties client, String topic) {
    this.topic = topic;
    Properties p = new Properties();
    p.putAll(client);
    p.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
        .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    if (parts.isEmpty()) {
      throw new IllegalStateException("topic " + topic + " has no partitions");
    }
    consumer.assign(parts);
    consumer.seekToBeginning(parts);
  }

  /** Polls once (up to {@code ms}); returns the number of committed records seen so far. */
  int poll(long ms) {
    try {
      consumer.poll(Duration.ofMillis(ms)).forEach(records::add);
    } catch (org.apache.kafka.common.KafkaException e) {
      // broker briefly away (broker-restart test): keep what we have, the next poll retries
    }
    return records.size();
  }

  /**
   * Polls until at least {@code count} records were seen, {@code stop} says so, or {@code timeout}.
   *
   * @return the number seen
   */
  int awaitAtLeast(int count, Duration timeout, BooleanSupplier stop) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (records.size() < count && System.nanoTime() < deadline && !stop.getAsBoolean()) {
      poll(200);
    }
    return records.size();
  }

  /** Polls for {@code settle} more, so surplus (duplicate) records are seen too. */
  void settle(Duration settle) {
    long end = System.nanoTime() + settle.toNanos();
    while (System.nanoTime() < end) {
      poll(200);
    }
  }

  List<ConsumerRecord<byte[], byte[]>> records() {
    return records;
  }

  String topic() {
    return topic;
  }

  @Override
  public void close() {
    consumer.close();
  }
}
