package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DeadLetter;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.avro.ScoredDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failure modes of issue 13 on a real broker with the real stories260k model: records over the
 * broker's size limits, a scorer that throws {@link OutOfMemoryError} once and fails transiently, a
 * scorer slower than a small transaction timeout, and JSON output read by a plain consumer. In each,
 * the application keeps running and every input is edited or dead-lettered exactly once
 * (read_committed).
 */
class StreamReliabilityIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static TextTokenizer tokenizer;
  static Scorer model;

  @TempDir
  Path tmp;

  @BeforeAll
  static void openModel() {
    ModelSettings settings = ModelSettings.defaults();
    tokenizer = Models.openTokenizer(settings);
    model = Models.openScorer(settings);
  }

  @AfterAll
  static void closeModel() {
    model.close();
    tokenizer.close();
  }

  /** The real model behind a hook that runs first on every call (to throw or to take time). */
  static final class HookedScorer implements Scorer {
    volatile Consumer<List<int[]>> hook = s -> { };

    @Override
    public List<TokenScores> score(List<int[]> sequences) {
      hook.accept(sequences);
      return model.score(sequences);
    }

    @Override
    public int topK() {
      return model.topK();
    }

    @Override
    public String modelId() {
      return model.modelId();
    }

    @Override
    public String device() {
      return model.device();
    }

    @Override
    public void close() {
    }
  }

  Properties props(String run) {
    Properties p = KafkaTestCluster.clientProperties();
    p.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, run);
    p.setProperty(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve(run).toString());
    p.setProperty("toedit.input.topic", run + ".raw");
    p.setProperty("toedit.edited.topic", run + ".edited");
    p.setProperty("toedit.dlq.topic", run + ".dlq");
    p.setProperty("toedit.scored.topic", run + ".scored");
    p.setProperty("toedit.input.max.chars", "200000");
    return p;
  }

  static void produce(String topic, List<RawDocument> docs) {
    ReliabilityFixtures.produce(KafkaTestCluster.clientProperties(), topic, docs);
  }

  static RawDocument doc(String id, String text) {
    return RawDocument.newBuilder().setId(id).setText(text).setSource("it").build();
  }

  /**
   * Reads the edited and dead-letter topics until {@code docs} are all accounted for and asserts
   * exactly once: every id in exactly one of them, nothing else. Returns the dead letters by id.
   */
  static Map<String, DeadLetter> assertExactlyOnce(PipelineConfig config, List<RawDocument> docs, int expectedDead,
      PipelineRunner runner) {
    List<ConsumerRecord<String, EditedDocument>> edited = KafkaTestCluster.consumeAll(config.editedTopic(),
        AvroSerde.edited().deserializer(), docs.size() - expectedDead, Duration.ofMinutes(6));
    List<ConsumerRecord<byte[], DeadLetter>> dead = expectedDead == 0 ? List.of()
        : KafkaTestCluster.consumeAll(config.deadLetterTopic(), new ByteArrayDeserializer(),
            AvroSerde.deadLetter().deserializer(), expectedDead, Duration.ofMinutes(2));
    Set<String> seen = new HashSet<>();
    for (ConsumerRecord<String, EditedDocument> r : edited) {
      assertTrue(seen.add(r.key()), "duplicate output for " + r.key());
    }
    Map<String, DeadLetter> deadById = new ConcurrentHashMap<>();
    for (ConsumerRecord<byte[], DeadLetter> r : dead) {
      String id = new String(r.key(), StandardCharsets.UTF_8);
      assertTrue(seen.add(id), "duplicate or edited-and-dead " + id);
      deadById.put(id, r.value());
    }
    Set<String> ids = new HashSet<>();
    docs.forEach(d -> ids.add(d.getId()));
    assertEquals(ids, seen, "in = edited + dead letters");
    assertNull(runner.failure(), "no stream thread failed");
    assertTrue(runner.state() == KafkaStreams.State.RUNNING || runner.state() == KafkaStreams.State.REBALANCING,
        "still running: " + runner.state());
    return deadById;
  }

  @Test
  void shouldSplitAScoredDocumentLargerThanTheBrokerLimitAndKeepRunning() throws Exception {
    String run = KafkaTestCluster.uniqueTopic("oversized-it");
    Properties p = props(run);
    p.setProperty("toedit.scored.enabled", "true");
    PipelineConfig config = PipelineConfig.fromProperties(p);
    KafkaTestCluster.createTopics(1, config.inputTopic(), config.editedTopic(), config.deadLetterTopic(),
        config.scoredTopic());
    List<RawDocument> docs = new ArrayList<>(ReliabilityFixtures.documents(20));
    // ~25 k tokens: a ScoredDocument of about 1.5 MB, over the broker's and producer's 1 MiB default.
    StringBuilder big = new StringBuilder();
    for (RawDocument d : ReliabilityFixtures.documents(600)) {
      big.append(d.getText()).append("\n\n");
    }
    docs.add(10, doc("big-scored", big.toString()));
    try (PipelineRunner runner = PipelineRunner.start(p, tokenizer, new HookedScorer(), EditConfig.defaults())) {
      produce(config.inputTopic(), docs);
      assertExactlyOnce(config, docs, 0, runner);
      List<ConsumerRecord<String, byte[]>> scored = KafkaTestCluster.consumeAll(config.scoredTopic(),
          new ByteArrayDeserializer(), docs.size(), Duration.ofMinutes(2));
      List<Integer> ids = new ArrayList<>();
      int parts = 0;
      for (ConsumerRecord<String, byte[]> r : scored) {
        if (r.key().equals("big-scored")) {
          ScoredDocument s = AvroSerde.scored().decode(r.value());
          assertEquals(parts++, s.getPart(), "parts in order");
          assertEquals(ids.size(), s.getFirstPosition());
          ids.addAll(s.getTokenIds());
          assertTrue(r.value().length < 1_048_576);
        }
      }
      assertTrue(parts > 1, "split into parts: " + parts);
      assertEquals(tokenizer.encode(big.toString()).length(), ids.size(), "the parts hold every position once");
      assertEquals(docs.size() - 1 + parts, scored.size());
    }
  }

  @Test
  void shouldDeadLetterWhatCannotFitATopicWithASmallMaxMessageBytes() throws Exception {
    String run = KafkaTestCluster.uniqueTopic("small-topic-it");
    Properties p = props(run);
    PipelineConfig config = PipelineConfig.fromProperties(p);
    KafkaTestCluster.createTopics(1, config.inputTopic(), config.deadLetterTopic());
    try (Admin admin = KafkaTestCluster.adminClient()) {
      admin.createTopics(List.of(new NewTopic(config.editedTopic(), 1, (short) 1)
          .configs(Map.of("max.message.bytes", "6000")))).all().get(60, TimeUnit.SECONDS);
    }
    List<RawDocument> docs = new ArrayList<>(ReliabilityFixtures.documents(24));
    StringBuilder text = new StringBuilder();
    for (RawDocument d : ReliabilityFixtures.documents(40)) {
      text.append(d.getText()).append(' ');
    }
    docs.add(5, doc("too-big-for-topic", text.toString())); // ~7 KB of text: its EditedDocument cannot fit
    try (PipelineRunner runner = PipelineRunner.start(p, tokenizer, new HookedScorer(), EditConfig.defaults())) {
      produce(config.inputTopic(), docs);
      Map<String, DeadLetter> dead = assertExactlyOnce(config, docs, 1, runner);
      DeadLetter d = dead.get("too-big-for-topic");
      assertEquals("output", d.getStage());
      assertTrue(d.getReason().contains("over the output limit of 6000 bytes"), d.getReason());
      byte[] sent = ReliabilityFixtures.wire(docs.get(5), 5);
      assertEquals((long) sent.length, d.getValueLength());
      assertArrayEquals(java.util.Arrays.copyOf(sent, ReliabilityFixtures.bytes(d.getValue()).length),
          ReliabilityFixtures.bytes(d.getValue()), "a prefix of the original bytes");
    }
  }

  @Test
  void shouldIsolateAnOutOfMemoryErrorAndRetryATransientFailure() throws Exception {
    String run = KafkaTestCluster.uniqueTopic("failures-it");
    Properties p = props(run);
    p.setProperty("toedit.score.retry.backoff.ms", "50");
    PipelineConfig config = PipelineConfig.fromProperties(p);
    KafkaTestCluster.createTopics(1, config.inputTopic(), config.editedTopic(), config.deadLetterTopic());
    List<RawDocument> docs = ReliabilityFixtures.documents(40);
    int[] oom = tokenizer.encode(docs.get(7).getText()).ids();
    int[] flaky = tokenizer.encode(docs.get(23).getText()).ids();
    AtomicBoolean oomThrown = new AtomicBoolean();
    Map<String, Integer> flakyFailures = new ConcurrentHashMap<>();
    HookedScorer scorer = new HookedScorer();
    scorer.hook = seqs -> {
      for (int[] s : seqs) {
        if (java.util.Arrays.equals(s, oom) && oomThrown.compareAndSet(false, true)) {
          throw new OutOfMemoryError("simulated: Java heap space");
        }
        if (java.util.Arrays.equals(s, flaky) && flakyFailures.merge("n", 1, Integer::sum) <= 2) {
          throw new IllegalStateException("simulated transient failure");
        }
      }
    };
    try (PipelineRunner runner = PipelineRunner.start(p, tokenizer, scorer, EditConfig.defaults())) {
      produce(config.inputTopic(), docs);
      assertExactlyOnce(config, docs, 0, runner);
      assertTrue(oomThrown.get(), "the OutOfMemoryError was thrown");
      assertTrue(flakyFailures.get("n") >= 3, "failed twice, then succeeded");
    }
  }

  @Test
  void shouldKeepEveryFlushWithinASmallTransactionTimeoutWithASlowScorer() throws Exception {
    String run = KafkaTestCluster.uniqueTopic("slow-it");
    Properties p = props(run);
    p.setProperty(StreamsConfig.producerPrefix("transaction.timeout.ms"), "5000");
    PipelineConfig config = PipelineConfig.fromProperties(p);
    KafkaTestCluster.createTopics(1, config.inputTopic(), config.editedTopic(), config.deadLetterTopic());
    List<RawDocument> docs = ReliabilityFixtures.documents(60);
    long tokens = docs.stream().mapToLong(d -> tokenizer.encode(d.getText()).length()).sum();
    HookedScorer scorer = new HookedScorer();
    // 3 ms per token: the whole input in one pass would take far longer than the 5 s transaction.
    scorer.hook = seqs -> {
      long n = seqs.stream().mapToLong(s -> s.length).sum();
      try {
        Thread.sleep(3 * n);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    assertTrue(3 * tokens > 2 * 5000, "the test input is slow enough: " + tokens + " tokens");
    try (PipelineRunner runner = PipelineRunner.start(p, tokenizer, scorer, EditConfig.defaults())) {
      produce(config.inputTopic(), docs);
      assertExactlyOnce(config, docs, 0, runner);
      assertEquals(1250, runner.stats().snapshot().passBudgetMs(), "0.25 x transaction.timeout.ms");
      String line = PipelineRunner.progressLine(runner.stats().snapshot(), "RUNNING", 1);
      assertTrue(line.contains("flush budget "), line);
    }
  }

  @Test
  void shouldWriteJsonThatAPlainConsumerReadsWithTheInputTimestamps() throws Exception {
    String run = KafkaTestCluster.uniqueTopic("json-it");
    Properties p = props(run);
    p.setProperty("toedit.output.format", "json");
    PipelineConfig config = PipelineConfig.fromProperties(p);
    KafkaTestCluster.createTopics(1, config.inputTopic(), config.editedTopic(), config.deadLetterTopic());
    List<RawDocument> docs = ReliabilityFixtures.documents(16);
    long t0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    Properties pp = KafkaTestCluster.clientProperties();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < docs.size(); i++) {
        var n = JSON.createObjectNode().put("id", docs.get(i).getId()).put("text", docs.get(i).getText())
            .put("timestamp", t0 + i * 1000L);
        producer.send(new ProducerRecord<>(config.inputTopic(), ReliabilityFixtures.utf8(docs.get(i).getId()),
            JSON.writeValueAsBytes(n)));
      }
      producer.send(new ProducerRecord<>(config.inputTopic(), ReliabilityFixtures.utf8("bad"),
          ReliabilityFixtures.utf8("{\"id\":\"bad\"}")));
      producer.flush();
    }
    try (PipelineRunner runner = PipelineRunner.start(p, tokenizer, new HookedScorer(), EditConfig.defaults())) {
      List<ConsumerRecord<String, String>> out = KafkaTestCluster.consumeAll(config.editedTopic(),
          new StringDeserializer(), new StringDeserializer(), docs.size(), Duration.ofMinutes(4));
      assertEquals(docs.size(), out.size(), "exactly once");
      for (ConsumerRecord<String, String> r : out) {
        JsonNode n = JSON.readTree(r.value());
        assertEquals(r.key(), n.get("id").asText());
        int i = docs.indexOf(docs.stream().filter(d -> d.getId().equals(r.key())).findFirst().orElseThrow());
        assertEquals(t0 + i * 1000L, r.timestamp(), "record timestamp = the JSON input's timestamp");
        assertTrue(n.get("text").isTextual() && n.get("edits").isArray() && n.get("meanNll").isNumber());
      }
      List<ConsumerRecord<String, String>> dead = KafkaTestCluster.consumeAll(config.deadLetterTopic(),
          new StringDeserializer(), new StringDeserializer(), 1, Duration.ofMinutes(1));
      assertEquals(1, dead.size());
      JsonNode d = JSON.readTree(dead.get(0).value());
      assertEquals("{\"id\":\"bad\"}", new String(java.util.Base64.getDecoder().decode(d.get("value").asText()),
          StandardCharsets.UTF_8));
      assertNull(runner.failure());
    }
  }

  @Test
  void shouldKeepDriftWindowsOnTimeAfterAFarFutureTimestamp() throws Exception {
    String run = KafkaTestCluster.uniqueTopic("drift-future-it");
    Properties p = props(run);
    p.setProperty("toedit.drift.window.size.ms", "5000");
    p.setProperty("toedit.drift.grace.ms", "2000");
    p.setProperty("toedit.drift.retention.ms", "600000");
    p.setProperty("toedit.drift.punctuate.interval.ms", "500");
    p.setProperty("toedit.drift.future.tolerance.ms", "1000");
    p.setProperty("toedit.drift.idle.ms", "4000");
    PipelineConfig config = PipelineConfig.fromProperties(p);
    KafkaTestCluster.createTopics(1, config.inputTopic(), config.editedTopic(), config.deadLetterTopic());
    List<RawDocument> docs = ReliabilityFixtures.documents(30);
    Map<String, Long> late = new ConcurrentHashMap<>();
    io.toedit.stream.drift.DriftListener listener = new io.toedit.stream.drift.DriftListener() {
      @Override
      public void drift(String source, String stream, String name, double value) {
      }

      @Override
      public void late(String source, long documents) {
        late.merge(source, documents, Long::sum);
      }
    };
    try (PipelineRunner runner = PipelineRunner.start(p, tokenizer, new HookedScorer(), EditConfig.defaults(),
        listener)) {
      Properties pp = KafkaTestCluster.clientProperties();
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < docs.size(); i++) {
          var n = JSON.createObjectNode().put("id", docs.get(i).getId()).put("text", docs.get(i).getText())
              .put("source", "it");
          if (i == 0) {
            n.put("timestamp", System.currentTimeMillis() + 30 * 60_000L); // a producer clock 30 min ahead
          }
          producer.send(new ProducerRecord<>(config.inputTopic(), ReliabilityFixtures.utf8(docs.get(i).getId()),
              JSON.writeValueAsBytes(n)));
          producer.flush();
          if (i == 0) {
            Thread.sleep(1500); // the far-future document is processed before the normal traffic
          }
        }
      }
      assertExactlyOnce(config, docs, 0, runner);
      // Every document lands in a raw drift window that closes (without more traffic): none was late.
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      long windowed = 0;
      Properties cp = KafkaTestCluster.clientProperties();
      cp.setProperty("isolation.level", "read_committed");
      cp.setProperty("auto.offset.reset", "earliest");
      try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<String, io.toedit.avro.DriftWindow>(cp,
          new StringDeserializer(), AvroSerde.of(io.toedit.avro.DriftWindow.class).deserializer())) {
        var parts = consumer.partitionsFor(config.drift().driftTopic(), Duration.ofSeconds(30)).stream()
            .map(i -> new org.apache.kafka.common.TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        while (windowed < docs.size() && System.nanoTime() < deadline) {
          for (var r : consumer.poll(Duration.ofMillis(500))) {
            if (r.value().getStream().equals("raw")) {
              windowed += r.value().getDocuments();
            }
          }
        }
      }
      assertEquals(Map.of(), late, "no document after the far-future one was late");
      assertEquals(docs.size(), windowed, "every document counted in a closed raw window");
      assertNull(runner.failure());
    }
  }
}
