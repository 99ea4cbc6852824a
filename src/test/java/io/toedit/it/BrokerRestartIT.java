package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.DeadLetter;
import io.toedit.avro.RawDocument;
import io.toedit.edit.EditConfig;
import io.toedit.local.LocalBroker;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes away while the pipeline is processing and comes back on the same port with its
 * data. The pipeline (in this JVM, real model) keeps running through the outage and finishes by
 * itself: every document exactly once (read_committed), byte-identical to an uninterrupted run, and
 * in = edited + dead-letter. Uses its own {@link LocalBroker}, not the shared test broker.
 */
class BrokerRestartIT {

  static final int DOCS = 400;

  @TempDir
  Path tmp;

  @Test
  void shouldResumeByItselfAndWriteEveryDocumentOnceWhenTheBrokerRestartsMidStream() throws Exception {
    List<RawDocument> docs = ReliabilityFixtures.documents(DOCS);
    Map<String, byte[]> bad = new LinkedHashMap<>();
    bad.put("bad-json", ReliabilityFixtures.utf8("{\"id\":\"bad-json\",\"text\":\"Es war einmal"));
    bad.put("bad-empty", ReliabilityFixtures.utf8("{\"id\":\"bad-empty\",\"text\":\"\"}"));
    bad.put("bad-surrogate", ReliabilityFixtures.utf8("{\"id\":\"bad-surrogate\",\"text\":\"x\\ud800\"}"));

    Path brokerDir = tmp.resolve("broker");
    LocalBroker broker = LocalBroker.start(brokerDir, 0);
    int port = broker.port();
    String run = KafkaTestCluster.uniqueTopic("broker-restart-it");
    Properties client = new Properties();
    client.setProperty("bootstrap.servers", broker.bootstrapServers());
    Properties props = new Properties();
    props.putAll(client);
    props.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, run);
    props.setProperty(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state").toString());
    props.setProperty("toedit.input.topic", run + ".raw");
    props.setProperty("toedit.edited.topic", run + ".edited");
    props.setProperty("toedit.dlq.topic", run + ".dlq");
    props.setProperty("toedit.batch.max.tokens", "1024");
    try (Admin admin = Admin.create(client)) {
      admin.createTopics(List.of(new NewTopic(run + ".raw", 2, (short) 1), new NewTopic(run + ".edited", 2, (short) 1),
          new NewTopic(run + ".dlq", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
    }
    ReliabilityFixtures.produce(client, run + ".raw", docs);
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(client, new ByteArraySerializer(), new ByteArraySerializer())) {
      bad.forEach((k, v) -> producer.send(new ProducerRecord<>(run + ".raw", ReliabilityFixtures.utf8(k), v)));
      producer.flush();
    }

    ModelSettings settings = ModelSettings.defaults();
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      PipelineRunner runner = PipelineRunner.start(props, tokenizer, scorer, EditConfig.defaults());
      try (CommittedReader out = new CommittedReader(client, run + ".edited")) {
        int seen = out.awaitAtLeast(DOCS / 5, Duration.ofMinutes(4), () -> runner.failure() != null);
        assertTrue(seen >= DOCS / 5 && seen < DOCS, "committed before the broker stop: " + seen);
        broker.close();
        System.out.printf("BrokerRestartIT: broker stopped with %d/%d outputs committed%n", seen, DOCS);
        Thread.sleep(5000);
        assertEquals(null, runner.failure(), "the pipeline must survive a short broker outage");
        broker = LocalBroker.start(brokerDir, port);
        assertEquals(port, broker.port());
        System.out.println("BrokerRestartIT: broker restarted on the same port, pipeline state " + runner.state());

        PipelineRunner current = runner;
        seen = out.awaitAtLeast(DOCS, Duration.ofMinutes(5), () -> current.failure() != null
            || current.state() == KafkaStreams.State.ERROR || current.state() == KafkaStreams.State.NOT_RUNNING);
        assertEquals(null, runner.failure(), "the pipeline resumes by itself after the broker restart");
        assertTrue(seen >= DOCS, "only " + seen + "/" + DOCS + " outputs after the broker restart");
        out.settle(Duration.ofSeconds(3));

        Map<String, byte[]> byId = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : out.records()) {
          String key = new String(r.key(), StandardCharsets.UTF_8);
          assertEquals(key, AvroSerde.edited().decode(r.value()).getId());
          assertEquals(null, byId.put(key, r.value()), "duplicate committed output for " + key);
        }
        try (CommittedReader dead = new CommittedReader(client, run + ".dlq")) {
          dead.awaitAtLeast(bad.size(), Duration.ofMinutes(1), () -> false);
          dead.settle(Duration.ofSeconds(2));
          assertEquals(DOCS + bad.size(), byId.size() + dead.records().size(), "in = edited + dead-letter");
          for (ConsumerRecord<byte[], byte[]> r : dead.records()) {
            DeadLetter d = AvroSerde.deadLetter().decode(r.value());
            String key = new String(ReliabilityFixtures.bytes(d.getKey()), StandardCharsets.UTF_8);
            assertArrayEquals(bad.get(key), ReliabilityFixtures.bytes(d.getValue()), key);
          }
        }
        Map<String, byte[]> reference = ReliabilityFixtures.reference(docs, tokenizer, scorer, EditConfig.defaults());
        for (RawDocument d : docs) {
          ReliabilityFixtures.assertSameAsReference(d.getId(), reference.get(d.getId()), byId.get(d.getId()));
        }
      } finally {
        runner.close();
      }
    } finally {
      broker.close();
    }
  }
}
