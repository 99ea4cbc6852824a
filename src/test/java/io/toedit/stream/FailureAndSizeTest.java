package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DeadLetter;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.ScoredDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.FakeScorer;
import io.toedit.model.ForwardingScorer;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records too large for the output limit, failure classes of the scorer, the time bound of a flush
 * and the JSON output format, in {@link TopologyTestDriver} (the real-broker versions are in
 * {@code StreamReliabilityIT}).
 */
class FailureAndSizeTest {

  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  static final ObjectMapper JSON = new ObjectMapper();
  static TextTokenizer tokenizer;

  @TempDir
  Path stateDir;

  @BeforeAll
  static void openTokenizer() {
    tokenizer = Models.openTokenizer(ModelSettings.defaults());
  }

  @AfterAll
  static void closeTokenizer() {
    tokenizer.close();
  }

  /** A fake model that runs {@code hook} on each call first (to throw, or to take time). */
  static final class HookScorer extends ForwardingScorer {
    final List<Integer> calls = new CopyOnWriteArrayList<>();
    volatile java.util.function.Consumer<List<int[]>> hook = s -> { };

    HookScorer() {
      super(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of()));
    }

    @Override
    public List<TokenScores> score(List<int[]> sequences) {
      calls.add(sequences.size());
      hook.accept(sequences);
      return inner.score(sequences);
    }
  }

  TopologyTestDriver driver(PipelineConfig config, Scorer scorer) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-failure-size-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    return new TopologyTestDriver(ToEditTopology.build(ToEditTopologyTest.onStreamThread(config), tokenizer, scorer,
        EditConfig.defaults()), p, T0);
  }

  static TestInputTopic<byte[], byte[]> input(TopologyTestDriver d, PipelineConfig c) {
    return d.createInputTopic(c.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer(), T0,
        Duration.ofMillis(1));
  }

  static List<TestRecord<byte[], DeadLetter>> deadLetters(TopologyTestDriver d, PipelineConfig c) {
    return d.createOutputTopic(c.deadLetterTopic(), new ByteArrayDeserializer(), AvroSerde.deadLetter().deserializer())
        .readRecordsToList();
  }

  static List<TestRecord<String, EditedDocument>> edited(TopologyTestDriver d, PipelineConfig c) {
    return d.createOutputTopic(c.editedTopic(), new StringDeserializer(), AvroSerde.edited().deserializer())
        .readRecordsToList();
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String story(int sentences) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < sentences; i++) {
      b.append("Lily und Tom liefen zum Fluss, sahen einen Frosch 🐸 und lachten laut. ");
    }
    return b.toString().strip();
  }

  @Test
  void shouldSplitAScoredDocumentOverTheLimitIntoPartsThatEachFit() throws Exception {
    int limit = 8192;
    PipelineConfig config = PipelineConfig.defaults().with("toedit.scored.enabled", "true")
        .with("toedit.output.max.record.bytes", Integer.toString(limit)).with("toedit.microbatch.max.records", "1");
    String text = story(20);
    int[] ids = tokenizer.encode(text).ids();
    try (TopologyTestDriver d = driver(config, new HookScorer())) {
      input(d, config).pipeInput(utf8("big"), ToEditTopologyTest.json("big", text));
      var parts = d.createOutputTopic(config.scoredTopic(), new StringDeserializer(), new ByteArrayDeserializer())
          .readRecordsToList();
      assertTrue(parts.size() > 1, "a ScoredDocument of " + ids.length + " tokens (~60 B each) is split");
      List<Integer> all = new ArrayList<>();
      int next = 0;
      for (int p = 0; p < parts.size(); p++) {
        byte[] value = parts.get(p).value();
        assertTrue(utf8("big").length + value.length + OutputRecords.RECORD_OVERHEAD <= limit, "part " + p);
        ScoredDocument s = AvroSerde.scored().decode(value);
        assertEquals("big", parts.get(p).key());
        assertEquals(p, s.getPart());
        assertEquals(parts.size(), s.getParts());
        assertEquals(next, s.getFirstPosition(), "parts are consecutive");
        assertFalse(s.getTopKDropped());
        assertEquals(s.getTokenIds().size(), s.getTopIds().size());
        next += s.getTokenIds().size();
        all.addAll(s.getTokenIds());
      }
      assertEquals(Arrays.stream(ids).boxed().toList(), all, "the parts together are the whole document");
      assertEquals(1, edited(d, config).size());
      assertTrue(deadLetters(d, config).isEmpty());
    }
  }

  @Test
  void shouldDeadLetterAnEditedDocumentThatCannotFitWithABoundedCopyOfItsBytes() throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.output.max.record.bytes", "4096")
        .with("toedit.microbatch.max.records", "2").with("toedit.dlq.max.value.bytes", "1000");
    byte[] big = ToEditTopologyTest.json("big", story(60));
    try (TopologyTestDriver d = driver(config, new HookScorer())) {
      input(d, config).pipeInput(utf8("big"), big);
      input(d, config).pipeInput(utf8("small"), ToEditTopologyTest.json("small", "Der Hund lief."));
      List<TestRecord<byte[], DeadLetter>> dead = deadLetters(d, config);
      assertEquals(1, dead.size());
      DeadLetter dl = dead.get(0).value();
      assertEquals("output", dl.getStage());
      assertTrue(dl.getReason().contains("over the output limit of 4096 bytes"), dl.getReason());
      assertTrue(dl.getValueTruncated());
      assertEquals((long) big.length, dl.getValueLength());
      assertArrayEquals(Arrays.copyOf(big, 1000), HostileInputTest.bytes(dl.getValue()));
      assertEquals(List.of("small"), edited(d, config).stream().map(TestRecord::key).toList());
    }
  }

  @Test
  void shouldRetryATransientScorerFailureAndEditTheDocument() {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "3")
        .with("toedit.score.retry.backoff.ms", "1");
    HookScorer scorer = new HookScorer();
    int[] flaky = tokenizer.encode("Der Frosch sprang ins Wasser.").ids();
    Map<String, Integer> failures = new ConcurrentHashMap<>();
    scorer.hook = seqs -> {
      if (seqs.stream().anyMatch(s -> Arrays.equals(s, flaky)) && failures.merge("n", 1, Integer::sum) <= 2) {
        throw new IllegalStateException("CUDA error: device busy (transient)");
      }
    };
    try (TopologyTestDriver d = driver(config, scorer)) {
      input(d, config).pipeInput(utf8("a"), ToEditTopologyTest.json("a", "Lily lachte."));
      input(d, config).pipeInput(utf8("flaky"), ToEditTopologyTest.json("flaky", "Der Frosch sprang ins Wasser."));
      input(d, config).pipeInput(utf8("c"), ToEditTopologyTest.json("c", "Tom rannte nach Hause."));
      assertTrue(deadLetters(d, config).isEmpty(), "two failures, two retries: the third attempt succeeds");
      assertEquals(3, edited(d, config).size());
    }
  }

  @Test
  void shouldDeadLetterAPersistentFailureAfterTheRetriesWithItsStage() {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "3")
        .with("toedit.score.retry.backoff.ms", "1");
    HookScorer scorer = new HookScorer();
    int[] bad = tokenizer.encode("Der Frosch sprang ins Wasser.").ids();
    scorer.hook = seqs -> {
      if (seqs.stream().anyMatch(s -> Arrays.equals(s, bad))) {
        throw new IllegalStateException("model failure on this document");
      }
    };
    try (TopologyTestDriver d = driver(config, scorer)) {
      input(d, config).pipeInput(utf8("a"), ToEditTopologyTest.json("a", "Lily lachte."));
      input(d, config).pipeInput(utf8("bad"), ToEditTopologyTest.json("bad", "Der Frosch sprang ins Wasser."));
      input(d, config).pipeInput(utf8("c"), ToEditTopologyTest.json("c", "Tom rannte nach Hause."));
      List<TestRecord<byte[], DeadLetter>> dead = deadLetters(d, config);
      assertEquals(1, dead.size());
      assertEquals("score", dead.get(0).value().getStage());
      assertEquals(IllegalStateException.class.getName(), dead.get(0).value().getErrorClass());
      assertTrue(dead.get(0).value().getReason().contains("scoring failed 3 times"), dead.get(0).value().getReason());
      assertEquals(2, edited(d, config).size());
    }
  }

  @Test
  void shouldIsolateAnOutOfMemoryErrorOnOneDocumentLikeAPoisonDocument() {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "4")
        .with("toedit.score.retries", "0");
    HookScorer scorer = new HookScorer();
    int[] huge = tokenizer.encode(story(3)).ids();
    scorer.hook = seqs -> {
      if (seqs.stream().anyMatch(s -> Arrays.equals(s, huge))) {
        throw new OutOfMemoryError("Java heap space (simulated)");
      }
    };
    try (TopologyTestDriver d = driver(config, scorer)) {
      TestInputTopic<byte[], byte[]> in = input(d, config);
      in.pipeInput(utf8("a"), ToEditTopologyTest.json("a", "Lily lachte."));
      in.pipeInput(utf8("huge"), ToEditTopologyTest.json("huge", story(3)));
      in.pipeInput(utf8("c"), ToEditTopologyTest.json("c", "Tom rannte nach Hause."));
      in.pipeInput(utf8("d"), ToEditTopologyTest.json("d", "Die Katze schlief."));
      List<TestRecord<byte[], DeadLetter>> dead = deadLetters(d, config);
      assertEquals(1, dead.size());
      assertEquals(OutOfMemoryError.class.getName(), dead.get(0).value().getErrorClass());
      assertEquals("huge", dead.get(0).value().getDocumentId());
      assertEquals(3, edited(d, config).size());
      // after the one-document probe pass, the other three go in one call that fails, then in halves
      assertTrue(scorer.calls.stream().anyMatch(c -> c == 3), "scored as a batch first, then bisected: "
          + scorer.calls);
    }
  }

  @Test
  void shouldStopWithAClearMessageOnlyWhenEveryDocumentFails() {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "4")
        .with("toedit.score.retries", "0").with("toedit.score.broken.after", "4");
    HookScorer scorer = new HookScorer();
    scorer.hook = seqs -> {
      throw new IllegalStateException("weights are NaN");
    };
    try (TopologyTestDriver d = driver(config, scorer)) {
      TestInputTopic<byte[], byte[]> in = input(d, config);
      in.pipeInput(utf8("a"), ToEditTopologyTest.json("a", "Lily lachte."));
      in.pipeInput(utf8("b"), ToEditTopologyTest.json("b", "Tom rannte."));
      in.pipeInput(utf8("c"), ToEditTopologyTest.json("c", "Die Katze schlief."));
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> in.pipeInput(utf8("d"), ToEditTopologyTest.json("d", "Der Hund bellte.")));
      Throwable broken = PipelineRunner.brokenModel(e);
      assertNotNull(broken, "a BrokenModelException in " + e);
      assertTrue(broken.getMessage().contains("the model failed on 4 documents in a row"), broken.getMessage());
      assertTrue(broken.getMessage().contains("weights are NaN"), broken.getMessage());
      assertTrue(deadLetters(d, config).isEmpty(), "nothing dead-lettered for a broken model");
    }
  }

  @Test
  void shouldScoreInPassesThatFitTheFlushBudgetAndLeaveTheRestForTheNextPunctuation() {
    // 40 ms per call; a flush may take 100 ms: after the one-document probe pass, passes are sized
    // from the measured tokens/s, and the flush stops before its budget.
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.flush.max.ms", "100")
        .with("toedit.microbatch.max.records", "12").with("toedit.microbatch.max.latency.ms", "60000");
    HookScorer scorer = new HookScorer();
    scorer.hook = seqs -> {
      try {
        Thread.sleep(40L * seqs.size());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    try (TopologyTestDriver d = driver(config, scorer)) {
      TestInputTopic<byte[], byte[]> in = input(d, config);
      for (int i = 0; i < 12; i++) {
        in.pipeInput(utf8("k" + i), ToEditTopologyTest.json("k" + i, "Lily sah " + i + " Frösche am Teich."));
      }
      int first = edited(d, config).size();
      assertTrue(first >= 1 && first < 12, "the first flush stopped at its budget, scored " + first);
      for (int t = 0; t < 40 && first < 12; t++) {
        d.advanceWallClockTime(Duration.ofMillis(60));
        first += edited(d, config).size();
      }
      assertEquals(12, first, "the rest is scored at the next punctuations");
      for (int calls : scorer.calls) {
        assertTrue(calls <= 3, "a pass of " + calls + " documents at 40 ms each exceeds the 100 ms budget");
      }
    }
  }

  @Test
  void shouldWriteJsonOutputWithTheInputTimestampAsRecordTimestamp() throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.output.format", "json")
        .with("toedit.microbatch.max.records", "1");
    long ts = Instant.parse("2026-01-02T03:04:05Z").toEpochMilli();
    byte[] value = utf8("{\"id\":\"j1\",\"text\":\"Lily fand einen Stein — «schön»!\",\"source\":\"s\",\"timestamp\":"
        + ts + "}");
    try (TopologyTestDriver d = driver(config, new HookScorer())) {
      input(d, config).pipeInput(utf8("j1"), value);
      var out = d.createOutputTopic(config.editedTopic(), new StringDeserializer(), new ByteArrayDeserializer())
          .readRecordsToList();
      assertEquals(1, out.size());
      assertEquals(ts, out.get(0).timestamp(), "the JSON input's timestamp becomes the record timestamp");
      JsonNode n = JSON.readTree(new String(out.get(0).value(), StandardCharsets.UTF_8));
      assertEquals("j1", n.get("id").asText());
      assertEquals("s", n.get("source").asText());
      assertTrue(n.get("text").isTextual());
      assertTrue(n.get("edits").isArray());
      assertEquals(EditConfig.DEFAULT_SEED, n.get("seed").asLong());
      assertTrue(n.get("originalText").isNull());
    }
  }

  @Test
  void shouldWriteDeadLettersAsJsonWithBase64BytesInJsonFormat() throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.output.format", "json");
    byte[] bad = utf8("{\"id\":\"x\",\"text\":\"\"}");
    try (TopologyTestDriver d = driver(config, new HookScorer())) {
      input(d, config).pipeInput(utf8("x"), bad);
      var out = d.createOutputTopic(config.deadLetterTopic(), new ByteArrayDeserializer(), new ByteArrayDeserializer())
          .readRecordsToList();
      JsonNode n = JSON.readTree(out.get(0).value());
      assertArrayEquals(bad, java.util.Base64.getDecoder().decode(n.get("value").asText()));
      assertEquals("validate", n.get("stage").asText());
      assertEquals(bad.length, n.get("valueLength").asLong());
      assertEquals(T0.toEpochMilli(), n.get("time").asLong());
    }
  }

  @Test
  void shouldKeepTheNewScoredAndDeadLetterSchemasReadableFromTheirPreviousVersions() throws Exception {
    for (String name : List.of("ScoredDocument", "DeadLetter")) {
      org.apache.avro.Schema old;
      try (var in = getClass().getClassLoader().getResourceAsStream("schema-history/" + name + "-v1.avsc")) {
        old = new org.apache.avro.Schema.Parser().parse(in);
      }
      org.apache.avro.Schema current = name.equals("ScoredDocument") ? ScoredDocument.getClassSchema()
          : DeadLetter.getClassSchema();
      assertEquals(org.apache.avro.SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
          org.apache.avro.SchemaCompatibility.checkReaderWriterCompatibility(current, old).getType(), name);
    }
    assertTrue(AvroSerde.bundledHistory().size() >= 2);
  }

  @Test
  void shouldRouteARefusedSendToTheDeadLetterTopicAndFailOnClientErrors() throws Exception {
    DeadLetterProductionHandler handler = new DeadLetterProductionHandler();
    handler.configure(Map.of(DeadLetterProductionHandler.DLQ_TOPIC_CONFIG, "my.dlq"));
    var refused = new org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>("my.edited", null, 42L,
        utf8("doc-ü"), new byte[10]);
    var r = handler.handleError(null, refused,
        new org.apache.kafka.common.errors.RecordTooLargeException("The message is 1160174 bytes"));
    assertEquals(org.apache.kafka.streams.errors.ProductionExceptionHandler.Result.RESUME, r.result());
    assertEquals(1, r.deadLetterQueueRecords().size());
    var dlq = r.deadLetterQueueRecords().get(0);
    assertEquals("my.dlq", dlq.topic());
    assertArrayEquals(utf8("doc-ü"), dlq.key());
    DeadLetter d = AvroSerde.deadLetter().decode(dlq.value());
    assertEquals("produce", d.getStage());
    assertEquals("my.edited", d.getTopic());
    assertEquals("doc-ü", d.getDocumentId());
    assertTrue(d.getReason().contains("1160174 bytes"), d.getReason());
    var fail = handler.handleError(null, refused,
        new org.apache.kafka.common.errors.TopicAuthorizationException("not allowed"));
    assertEquals(org.apache.kafka.streams.errors.ProductionExceptionHandler.Result.FAIL, fail.result());
  }

  @Test
  void shouldResolveTheDefaultsThatFollowFromTheTransactionTimeout() {
    Properties p = new Properties();
    p.setProperty("bootstrap.servers", "127.0.0.1:9");
    Properties s = PipelineRunner.streamsProperties(p);
    assertEquals("300000", s.getProperty(StreamsConfig.consumerPrefix("max.poll.interval.ms")));
    assertEquals(DeadLetterProductionHandler.class.getName(),
        s.getProperty(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG));
    p.setProperty(StreamsConfig.producerPrefix("transaction.timeout.ms"), "600000");
    p.setProperty("toedit.output.max.record.bytes", "4096");
    p.setProperty("toedit.drift.origins", "1"); // given: no broker to read the input's partition count from
    p.setProperty("toedit.microbatch.flush.max.ms", "1");
    s = PipelineRunner.streamsProperties(p);
    assertEquals("660000", s.getProperty(StreamsConfig.consumerPrefix("max.poll.interval.ms")));
    assertEquals("4096", s.getProperty(StreamsConfig.producerPrefix("batch.size")), "batches must fit the topic");
    p.remove("toedit.microbatch.flush.max.ms");
    assertEquals(150_000, PipelineConfig.fromProperties(PipelineRunner.resolveLimits(p)).flushMaxMs(),
        "0.25 x transaction.timeout.ms");
  }

  static Predicate<int[]> is(int[] ids) {
    return s -> Arrays.equals(s, ids);
  }
}
