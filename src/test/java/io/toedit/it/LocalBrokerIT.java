package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.local.LocalBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The broker the tests use (shared) and the {@link LocalBroker} lifecycle (a broker of its own). */
class LocalBrokerIT {

  private static final List<String> TEXTS = List.of(
      "Once upon a time ▁ there was a cat 猫 🐈", "שָׁלוֹם עולם", "e\u0301te\u0301 café", "plain ascii");

  @Test
  void shouldRoundTripUnicodeRecordsWhenProducedAndConsumed() throws Exception {
    String topic = KafkaTestCluster.uniqueTopic("roundtrip");
    KafkaTestCluster.createTopics(2, topic);
    try (KafkaProducer<String, String> producer = producer(KafkaTestCluster.clientProperties())) {
      for (int i = 0; i < TEXTS.size(); i++) {
        producer.send(new ProducerRecord<>(topic, "doc-" + i + "-ü", TEXTS.get(i))).get();
      }
    }
    List<ConsumerRecord<String, String>> got =
        KafkaTestCluster.consumeAll(topic, new StringDeserializer(), TEXTS.size(), Duration.ofSeconds(60));
    assertEquals(TEXTS.size(), got.size());
    for (int i = 0; i < TEXTS.size(); i++) {
      String key = "doc-" + i + "-ü";
      List<String> values = got.stream().filter(r -> r.key().equals(key)).map(ConsumerRecord::value).toList();
      assertEquals(List.of(TEXTS.get(i)), values, key);
    }
  }

  @Test
  void shouldExposeOnlyCommittedTransactionsWhenReadCommitted() throws Exception {
    String topic = KafkaTestCluster.uniqueTopic("tx");
    KafkaTestCluster.createTopics(1, topic);
    Properties p = KafkaTestCluster.clientProperties();
    p.setProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "it-" + topic);
    try (KafkaProducer<String, String> producer = producer(p)) {
      producer.initTransactions(); // needs the transaction-state topic: fails on a misconfigured broker
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "a", "committed 1 ✓"));
      producer.commitTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "b", "aborted ✗"));
      producer.flush();
      producer.abortTransaction();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, "c", "committed 2 ✓"));
      producer.commitTransaction();
    }
    List<ConsumerRecord<String, String>> got =
        KafkaTestCluster.consumeAll(topic, new StringDeserializer(), 2, Duration.ofSeconds(60));
    assertEquals(List.of("committed 1 ✓", "committed 2 ✓"), got.stream().map(ConsumerRecord::value).toList());
  }

  @Test
  void shouldStopChildJvmAndKeepDataWhenClosedAndRestarted(@TempDir Path dir) throws Exception {
    String topic = "restart-topic";
    LocalBroker broker = LocalBroker.start(dir, 0);
    long pid = broker.pid();
    int port = broker.port();
    try {
      assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child JVM runs");
      assertTrue(Files.readString(dir.resolve("broker.log")).contains("Kafka Server started"));
      Properties p = new Properties();
      p.setProperty("bootstrap.servers", broker.bootstrapServers());
      try (KafkaProducer<String, String> producer = producer(p)) {
        producer.send(new ProducerRecord<>(topic, "k", "kept across restart 🔁")).get();
      }
    } finally {
      broker.close();
    }
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child JVM gone after close");
    broker.close(); // idempotent

    try (LocalBroker again = LocalBroker.start(dir, 0)) {
      assertEquals(port, again.port(), "a restart on the same directory reuses the port");
      Properties p = new Properties();
      p.setProperty("bootstrap.servers", again.bootstrapServers());
      p.setProperty("isolation.level", "read_committed");
      p.setProperty("auto.offset.reset", "earliest");
      p.setProperty("group.id", "restart-check");
      try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(p,
          new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(topic));
        List<String> values = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (values.isEmpty() && System.nanoTime() < deadline) {
          consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
        }
        assertEquals(List.of("kept across restart 🔁"), values);
      }
    }
  }

  private static KafkaProducer<String, String> producer(Properties p) {
    p.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }
}
