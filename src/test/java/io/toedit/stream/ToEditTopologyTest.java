package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.DeadLetter;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.avro.ScoredDocument;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.DocumentOutcome;
import io.toedit.pipeline.SourceDocument;
import io.toedit.text.TextTokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ToEditTopologyTest {

  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  static final String POISON_TEXT = "Der Drache fraß das Modell 🐉 und alles brach zusammen.";

  static final TextTokenizer tokenizer = BundledTokenizer.get();

  @TempDir
  Path stateDir;

  FakeScorer scorer;
  TopologyTestDriver driver;
  TestInputTopic<byte[], byte[]> input;
  TestOutputTopic<String, EditedDocument> edited;
  TestOutputTopic<byte[], DeadLetter> dlq;
  PipelineConfig config;

  @AfterEach
  void closeDriver() {
    if (driver != null) {
      driver.close();
    }
  }

  void start(PipelineConfig cfg) {
    config = cfg;
    scorer = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3,
        Set.of(FakeScorer.boxed(tokenizer.encode(POISON_TEXT).ids())));
    driver = newDriver(cfg, scorer);
  }

  /**
   * {@code cfg} with scoring on the stream thread ({@code toedit.microbatch.overlap=false}): the outputs
   * of a flush are there right after the record or punctuation that triggered it, which the
   * TopologyTestDriver tests assert. The overlap has its own tests ({@link OverlapTest}, and the
   * stream tests of the ITs on a real broker run the default).
   */
  static PipelineConfig onStreamThread(PipelineConfig cfg) {
    return cfg.with("toedit.microbatch.overlap", "false");
  }

  /**
   * Advances the wall clock one punctuation interval at a time (so a micro-batch scored in the
   * background is forwarded once it is done) until {@code done} holds; fails after 30 s.
   */
  static void drain(TopologyTestDriver d, PipelineConfig cfg, java.util.function.BooleanSupplier done) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the stream did not finish within 30 s");
      }
      d.advanceWallClockTime(Duration.ofMillis(cfg.punctuateIntervalMs()));
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  TopologyTestDriver newDriver(PipelineConfig cfg, FakeScorer s) {
    TopologyTestDriver d = new TopologyTestDriver(
        ToEditTopology.build(onStreamThread(cfg), tokenizer, s, EditConfig.defaults()), streamsProps(), T0);
    input = d.createInputTopic(cfg.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer(), T0,
        Duration.ofMillis(1));
    edited = d.createOutputTopic(cfg.editedTopic(), new StringDeserializer(), AvroSerde.edited().deserializer());
    dlq = d.createOutputTopic(cfg.deadLetterTopic(), new ByteArrayDeserializer(),
        AvroSerde.deadLetter().deserializer());
    return d;
  }

  Properties streamsProps() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-topology-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    return p;
  }

  static PipelineConfig smallBatches() {
    return PipelineConfig.defaults().with("toedit.batch.max.tokens", "100000")
        .with("toedit.batch.max.latency.ms", "1000").with("toedit.batch.punctuate.interval.ms", "100");
  }

  static byte[] json(String id, String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(
          Map.of("id", id, "text", text, "source", "test"));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  void pipe(String id, String text, long offsetMs) {
    input.pipeInput(new TestRecord<>(utf8(id), json(id, text), T0.plusMillis(offsetMs)));
  }

  void advance(long ms) {
    driver.advanceWallClockTime(Duration.ofMillis(ms));
  }

  static final List<String> TEXTS = List.of(
      "Once upon a time, a little cat named Mimi found a shiny stone.",
      "Lily liked to play in the park with her friend Tom. They ran and laughed all day.",
      "Ein kleiner Bär aß Honig — très bien! 日本語のテキストも少し。",
      "The dog said «bonjour» to the bird, and the bird sang back. ✨",
      "Max had a red ball. He threw it high and it flew over the tree.");

  @Test
  void shouldScoreAsSoonAsTheTokenBudgetIsReached() {
    int t0 = tokenizer.encode(TEXTS.get(0)).length();
    int t1 = tokenizer.encode(TEXTS.get(1)).length();
    start(smallBatches().with("toedit.batch.max.tokens", Integer.toString(t0 + t1)));
    pipe("a", TEXTS.get(0), 0);
    assertTrue(edited.isEmpty(), "one document is below the budget and must wait");
    pipe("b", TEXTS.get(1), 1);
    List<TestRecord<String, EditedDocument>> out = edited.readRecordsToList();
    assertEquals(List.of("a", "b"), out.stream().map(TestRecord::key).toList());
    assertEquals(T0.plusMillis(1), out.get(1).getRecordTime(), "outputs keep the input record's timestamp");
    assertEquals(2, scorer.batchSizes.stream().mapToInt(Integer::intValue).sum());
    assertEquals(0, driver.getKeyValueStore(ToEditTopology.BUFFER_STORE).approximateNumEntries());
  }

  @Test
  void shouldScoreWhenTheBufferHoldsMaxRecords() {
    start(smallBatches().with("toedit.batch.max.records", "3"));
    pipe("a", TEXTS.get(0), 0);
    pipe("b", TEXTS.get(1), 1);
    assertTrue(edited.isEmpty());
    pipe("c", TEXTS.get(2), 2);
    assertEquals(3, edited.readRecordsToList().size(), "a full buffer is drained before more input is taken");
  }

  @Test
  void shouldPunctuateWhenWallClockPassesMaxLatency() {
    start(smallBatches());
    pipe("a", TEXTS.get(2), 0);
    advance(500);
    assertTrue(edited.isEmpty(), "500 ms < max latency 1000 ms");
    advance(400);
    assertTrue(edited.isEmpty(), "900 ms < max latency 1000 ms");
    advance(200);
    List<TestRecord<String, EditedDocument>> out = edited.readRecordsToList();
    assertEquals(1, out.size());
    assertEquals("a", out.get(0).key());
    assertEquals("test", out.get(0).value().getSource());
    assertEquals("fake-scorer", out.get(0).value().getModel());
  }

  @Test
  void shouldGiveTheSameEditsAsTheBatchDocumentEditor() {
    start(smallBatches());
    for (int i = 0; i < TEXTS.size(); i++) {
      pipe("doc-" + i, TEXTS.get(i), i);
    }
    advance(2000);
    List<EditedDocument> out = edited.readValuesToList();
    assertEquals(TEXTS.size(), out.size());

    DocumentEditor batch = new DocumentEditor(tokenizer, scorer, new Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    List<SourceDocument> sources = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) {
      sources.add(new SourceDocument("doc-" + i, TEXTS.get(i)));
    }
    List<DocumentOutcome> expected = batch.process(sources);
    int changed = 0;
    for (int i = 0; i < TEXTS.size(); i++) {
      assertEquals("doc-" + i, out.get(i).getId());
      assertArrayEquals(utf8(expected.get(i).result().text()), utf8(out.get(i).getText()));
      assertEquals(expected.get(i).result().changed(), out.get(i).getChanged());
      assertEquals(expected.get(i).result().edits().size(), out.get(i).getEdits().size());
      assertEquals(EditConfig.DEFAULT_SEED, out.get(i).getSeed());
      changed += out.get(i).getChanged();
    }
    assertTrue(changed > 0, "the fake model makes every third token easy, so something must change");
  }

  @Test
  void shouldKeepTextExactlyWhenNothingIsOverThreshold() {
    PipelineConfig cfg = smallBatches();
    config = cfg;
    // No token is easy (modulus larger than the vocabulary, id 0 is never a text token).
    scorer = FakeScorer.everyNth(tokenizer.vocabulary().size(), 1_000_000, Set.of());
    driver = newDriver(cfg, scorer);
    String text = "  Ünïcödé ▁ spaces, 猫 and 🐈‍⬛ stay\tbyte-identical.\n";
    pipe("u", text, 0);
    advance(2000);
    EditedDocument out = edited.readValue();
    assertArrayEquals(utf8(text), utf8(out.getText()));
    assertEquals(0, out.getChanged());
    assertEquals(0, out.getOverThreshold());
    assertTrue(out.getEdits().isEmpty());
  }

  @Test
  void shouldAcceptAvroRawDocumentsWithMetadata() {
    start(smallBatches());
    RawDocument raw = RawDocument.newBuilder().setId("avro-1").setText(TEXTS.get(3)).setSource("feed-α")
        .setMetadata(Map.of("lang", "en")).setTimestamp(T0).build();
    input.pipeInput(new TestRecord<>(utf8("avro-1"), AvroSerde.raw().encode(raw), T0));
    advance(2000);
    EditedDocument out = edited.readValue();
    assertEquals("avro-1", out.getId());
    assertEquals("feed-α", out.getSource());
    assertEquals(Map.of("lang", "en"), out.getMetadata());
    assertTrue(dlq.isEmpty());
  }

  @Test
  void shouldDecodeRecordsWrittenWithAnOlderBundledSchemaVersion() throws Exception {
    // A v0 RawDocument without source/metadata/timestamp, as an older producer would write it.
    Schema v0 = SchemaBuilder.record("RawDocument").namespace("io.toedit.avro").fields()
        .requiredString("id").requiredString("text").endRecord();
    GenericRecord old = new GenericData.Record(v0);
    old.put("id", "old-1");
    old.put("text", "Ein altes Dokument über Käse.");
    ByteBuffer bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v0).encode(old);
    byte[] encoded = new byte[bytes.remaining()];
    bytes.get(encoded);

    RawDocument decoded = AvroSerde.of(RawDocument.class, List.of(v0)).decode(encoded);
    assertEquals("old-1", decoded.getId());
    assertNull(decoded.getSource());
    // Without the old schema in the store the fingerprint is unknown.
    assertThrowsMissing(encoded);
  }

  private static void assertThrowsMissing(byte[] encoded) {
    try {
      AvroSerde.raw().decode(encoded);
    } catch (org.apache.avro.message.MissingSchemaException expected) {
      return;
    } catch (Exception other) {
      throw new AssertionError("expected MissingSchemaException, got " + other, other);
    }
    throw new AssertionError("an unknown fingerprint must not decode");
  }

  static Stream<Arguments> badRecords() {
    RawDocument valid = RawDocument.newBuilder().setId("x").setText("Ein gültiger Text.").build();
    byte[] avro = AvroSerde.raw().encode(valid);
    byte[] truncated = Arrays.copyOf(avro, avro.length - 5);
    byte[] unknownFingerprint = avro.clone();
    unknownFingerprint[2] ^= 0x5A;
    byte[] invalidUtf8Json = new byte[] {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    String big = "ä".repeat(2001);
    return Stream.of(
        Arguments.of("malformed JSON", utf8("k"), utf8("{\"id\":\"x\",\"text\":\"unterminated…"), "malformed JSON"),
        Arguments.of("JSON array", utf8("k"), utf8("[\"text\"]"), "expected an object"),
        Arguments.of("invalid UTF-8 in JSON", utf8("k"), invalidUtf8Json, "malformed JSON"),
        Arguments.of("truncated Avro", utf8("k"), truncated, "malformed Avro"),
        Arguments.of("unknown fingerprint", utf8("k"), unknownFingerprint, "unknown Avro schema fingerprint"),
        Arguments.of("missing text", utf8("k"), utf8("{\"id\":\"x\",\"source\":\"s\"}"), "missing text"),
        Arguments.of("null text", utf8("k"), utf8("{\"id\":\"x\",\"text\":null}"), "missing text"),
        Arguments.of("empty text", utf8("k"), utf8("{\"id\":\"x\",\"text\":\"\"}"), "empty text"),
        Arguments.of("whitespace-only text", utf8("k"), utf8("{\"id\":\"x\",\"text\":\" \\t\\n \\u3000\"}"),
            "whitespace-only text"),
        Arguments.of("number text", utf8("k"), utf8("{\"id\":\"x\",\"text\":42}"), "text is not a string"),
        Arguments.of("object text", utf8("k"), utf8("{\"id\":\"x\",\"text\":{\"a\":1}}"), "text is not a string"),
        Arguments.of("oversized", utf8("k"), utf8("{\"id\":\"x\",\"text\":\"" + big + "\"}"), "oversized text: 2001 chars"),
        Arguments.of("lone surrogate", utf8("k"), utf8("{\"id\":\"x\",\"text\":\"a\\ud800b\"}"), "lone high surrogate"),
        Arguments.of("null key", null, utf8("{\"id\":\"x\",\"text\":\"Grüße\"}"), "null key"),
        Arguments.of("null value", utf8("k"), null, "null value"),
        Arguments.of("trailing garbage", utf8("k"), utf8("{\"id\":\"x\",\"text\":\"Grüße\"} }"), "malformed JSON"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRecords")
  void shouldDeadLetterBadInputWithItsOriginalBytesAndReason(String kind, byte[] key, byte[] value, String reason) {
    start(smallBatches().with("toedit.input.max.chars", "2000"));
    input.pipeInput(new TestRecord<>(key, value, T0.plusMillis(5)));
    pipe("good", TEXTS.get(0), 6);
    advance(2000);
    List<TestRecord<byte[], DeadLetter>> dead = dlq.readRecordsToList();
    assertEquals(1, dead.size(), kind);
    DeadLetter d = dead.get(0).value();
    assertTrue(d.getReason().contains(reason), kind + ": reason was '" + d.getReason() + "'");
    assertEquals("validate", d.getStage());
    assertEquals(config.inputTopic(), d.getTopic());
    assertEquals(0, d.getPartition());
    assertEquals(0L, d.getOffset());
    assertArrayEquals(value, d.getValue() == null ? null : bytes(d.getValue()), "original value bytes");
    assertArrayEquals(key, d.getKey() == null ? null : bytes(d.getKey()), "original key bytes");
    assertEquals(T0.plusMillis(5), dead.get(0).getRecordTime());
    assertEquals(List.of("good"), keys(edited), "the stream keeps running after a bad record");
  }

  static List<String> keys(TestOutputTopic<String, EditedDocument> topic) {
    return topic.readRecordsToList().stream().map(TestRecord::key).toList();
  }

  static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  @Test
  void shouldDeadLetterOnlyThePoisonDocumentWhenTheModelFailsOnIt() {
    start(smallBatches());
    pipe("a", TEXTS.get(0), 0);
    pipe("poison", POISON_TEXT, 1);
    pipe("b", TEXTS.get(1), 2);
    pipe("c", TEXTS.get(2), 3);
    advance(2000);
    assertEquals(List.of("a", "b", "c"), keys(edited));
    List<DeadLetter> dead = dlq.readValuesToList();
    assertEquals(1, dead.size());
    assertEquals("poison", dead.get(0).getDocumentId());
    assertEquals(1L, dead.get(0).getOffset());
    assertEquals(IllegalStateException.class.getName(), dead.get(0).getErrorClass());
    assertTrue(dead.get(0).getReason().contains("fake model failure"), dead.get(0).getReason());
    assertArrayEquals(json("poison", POISON_TEXT), bytes(dead.get(0).getValue()));
  }

  @Test
  void shouldAccountForEveryInputAsEditedOrDeadLetter() {
    start(smallBatches().with("toedit.batch.max.tokens", "300"));
    int in = 0;
    Set<String> expectedDead = new HashSet<>();
    for (int i = 0; i < 60; i++) {
      String id = "m-" + i;
      switch (i % 6) {
        case 0 -> {
          input.pipeInput(new TestRecord<>(utf8(id), utf8("{\"id\":\"" + id + "\",\"text\":\"   \"}"), T0.plusMillis(i)));
          expectedDead.add(id);
        }
        case 1 -> {
          input.pipeInput(new TestRecord<>(utf8(id), utf8("{not json"), T0.plusMillis(i)));
          expectedDead.add(id);
        }
        case 2 -> {
          pipe(id, POISON_TEXT, i);
          expectedDead.add(id);
        }
        default -> pipe(id, TEXTS.get(i % TEXTS.size()) + " №" + i, i);
      }
      in++;
    }
    advance(2000);
    List<String> out = keys(edited);
    List<DeadLetter> dead = dlq.readValuesToList();
    assertEquals(in, out.size() + dead.size(), "in = edited + dead-letter");
    assertEquals(30, out.size());
    assertEquals(new HashSet<>(out).size(), out.size(), "no duplicates");
    for (DeadLetter d : dead) {
      String id = new String(bytes(d.getKey()), StandardCharsets.UTF_8);
      assertTrue(expectedDead.contains(id), id + " should not have been dead-lettered: " + d.getReason());
    }
    assertEquals(0, driver.getKeyValueStore(ToEditTopology.BUFFER_STORE).approximateNumEntries());
  }

  @Test
  void shouldProcessBufferedRecordsAfterARestart() {
    // The store outlives the processor, as the changelogged RocksDB store outlives a crashed
    // instance (Kafka Streams restores it before the task's processor is initialised again).
    PipelineConfig cfg = smallBatches();
    KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(ToEditTopology.BUFFER_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    MockProcessorContext<Object, Object> first = new MockProcessorContext<>();
    first.setCurrentSystemTimeMs(1_000L);
    store.init(first.getStateStoreContext(), store);
    first.addStateStore(store);
    FakeScorer crashed = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    MicroBatchProcessor before = processor(cfg, crashed);
    before.init(first);
    first.setRecordMetadata(cfg.inputTopic(), 0, 40L);
    before.process(new Record<>(utf8("vor-dem-absturz-1"), json("vor-dem-absturz-1", TEXTS.get(0)), 1L));
    first.setRecordMetadata(cfg.inputTopic(), 0, 41L);
    before.process(new Record<>(utf8("vor-dem-absturz-2"), json("vor-dem-absturz-2", TEXTS.get(2)), 2L));
    assertTrue(first.forwarded().isEmpty());
    assertEquals(2, store.approximateNumEntries());
    // Crash: the processor is dropped without close() or flush.

    MockProcessorContext<Object, Object> second = new MockProcessorContext<>();
    second.addStateStore(store);
    second.setCurrentSystemTimeMs(10_000L);
    FakeScorer restarted = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    MicroBatchProcessor after = processor(cfg, restarted);
    after.init(second);
    assertTrue(second.forwarded().isEmpty(), "restored records wait for their batch like any other");
    second.setCurrentSystemTimeMs(10_000L + cfg.batchMaxLatencyMs());
    second.scheduledPunctuators().get(0).getPunctuator().punctuate(10_000L + cfg.batchMaxLatencyMs());
    // Drift observation batches go to their own sink (checked in DriftTopologyTest).
    var documents = second.forwarded().stream()
        .filter(f -> !MicroBatchProcessor.DRIFT_OBSERVATIONS_SINK.equals(f.childName().orElseThrow())).toList();
    List<Object> keys = documents.stream().map(f -> (Object) f.record().key()).toList();
    assertEquals(List.of("vor-dem-absturz-1", "vor-dem-absturz-2"), keys);
    assertEquals(List.of(MicroBatchProcessor.EDITED_SINK, MicroBatchProcessor.EDITED_SINK),
        documents.stream().map(f -> f.childName().orElseThrow()).toList());
    assertEquals(2, restarted.batchSizes.stream().mapToInt(Integer::intValue).sum());
    assertTrue(crashed.batchSizes.isEmpty());
    assertEquals(0, store.approximateNumEntries());
  }

  /** The bundled tokenizer, counting how often each text is encoded. */
  static final class CountingTokenizer implements TextTokenizer {
    final Map<String, Integer> encoded = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public io.toedit.text.Tokenized encode(String text) {
      encoded.merge(text, 1, Integer::sum);
      return tokenizer.encode(text);
    }

    @Override
    public io.toedit.text.Vocabulary vocabulary() {
      return tokenizer.vocabulary();
    }

    @Override
    public void close() {
    }
  }

  @Test
  void shouldTokenizeEachRecordOnceAndGiveTheSameEdits() {
    CountingTokenizer counting = new CountingTokenizer();
    config = smallBatches();
    scorer = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    driver = new TopologyTestDriver(ToEditTopology.build(onStreamThread(config), counting, scorer,
        EditConfig.defaults()), streamsProps(), T0);
    input = driver.createInputTopic(config.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer(), T0,
        Duration.ofMillis(1));
    edited = driver.createOutputTopic(config.editedTopic(), new StringDeserializer(),
        AvroSerde.edited().deserializer());
    for (int i = 0; i < TEXTS.size(); i++) {
      pipe("doc-" + i, TEXTS.get(i), i);
    }
    advance(2000);
    List<EditedDocument> out = edited.readValuesToList();
    assertEquals(TEXTS.size(), out.size());
    for (String text : TEXTS) {
      assertEquals(1, counting.encoded.get(text), "tokenized once in the stream: " + text);
    }
    DocumentEditor batch = new DocumentEditor(tokenizer, scorer, new Editor(EditConfig.defaults(),
        tokenizer.vocabulary()));
    for (int i = 0; i < TEXTS.size(); i++) {
      DocumentOutcome expected = batch.process(List.of(new SourceDocument("doc-" + i, TEXTS.get(i)))).get(0);
      assertArrayEquals(utf8(expected.result().text()), utf8(out.get(i).getText()));
      assertEquals(expected.result().edits().size(), out.get(i).getEdits().size());
    }
  }

  /** Streams initialises the same processor again when it revives a task: the buffer is counted once. */
  @Test
  void shouldCountTheBufferOnceWhenInitialisedAgain() {
    PipelineConfig cfg = smallBatches();
    KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(ToEditTopology.BUFFER_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    context.setCurrentSystemTimeMs(1_000L);
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    FakeScorer s = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    PipelineStats stats = new PipelineStats();
    DocumentEditor de = new DocumentEditor(tokenizer, s, new Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    MicroBatchProcessor p = new MicroBatchProcessor(cfg, tokenizer, de, s.modelId(), stats);
    p.init(context);
    context.setRecordMetadata(cfg.inputTopic(), 0, 7L);
    p.process(new Record<>(utf8("a"), json("a", TEXTS.get(0)), 1L));
    context.setRecordMetadata(cfg.inputTopic(), 0, 8L);
    p.process(new Record<>(utf8("b"), json("b", TEXTS.get(1)), 2L));
    p.close();
    p.init(context);
    assertEquals(2, stats.snapshot().buffered());
    context.scheduledPunctuators().get(context.scheduledPunctuators().size() - 1).getPunctuator()
        .punctuate(1_000L + cfg.batchMaxLatencyMs());
    assertEquals(2, s.batchSizes.stream().mapToInt(Integer::intValue).sum(), "each record scored once");
    assertEquals(0, stats.snapshot().buffered());
    assertEquals(0, store.approximateNumEntries());
  }

  MicroBatchProcessor processor(PipelineConfig cfg, FakeScorer s) {
    DocumentEditor de = new DocumentEditor(tokenizer, s, new Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    return new MicroBatchProcessor(cfg, tokenizer, de, s.modelId(), new PipelineStats());
  }

  @Test
  void shouldDeclareTheBufferAsAPersistentChangeloggedStore() {
    var builder = ToEditTopology.bufferStore();
    assertEquals(ToEditTopology.BUFFER_STORE, builder.name());
    assertTrue(builder.loggingEnabled(), "the buffer must be restored from its changelog after a crash");
    assertTrue(builder.build().persistent());
  }

  @Test
  void shouldPublishScoresOnlyWhenEnabled() {
    start(smallBatches());
    pipe("a", TEXTS.get(0), 0);
    advance(2000);
    assertFalse(driver.producedTopicNames().contains(config.scoredTopic()));

    driver.close();
    PipelineConfig withScores = smallBatches().with("toedit.scored.enabled", "true");
    start(withScores);
    pipe("a", TEXTS.get(0), 0);
    advance(2000);
    TestOutputTopic<String, ScoredDocument> scored = driver.createOutputTopic(withScores.scoredTopic(),
        new StringDeserializer(), AvroSerde.scored().deserializer());
    ScoredDocument s = scored.readValue();
    int[] ids = tokenizer.encode(TEXTS.get(0)).ids();
    assertEquals(ids.length, s.getTokenIds().size());
    assertEquals(ids[1], s.getTokenIds().get(1));
    assertTrue(Float.isNaN(s.getLogProbs().get(0)));
    assertEquals(8, s.getTopIds().get(1).size());
    assertEquals(1, edited.readValuesToList().size());
  }

  @Test
  void shouldRejectUnknownPipelineSettings() {
    Properties p = new Properties();
    p.setProperty("toedit.batch.max.tokenz", "5");
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> PipelineConfig.fromProperties(p));
    assertTrue(e.getMessage().contains("toedit.batch.max.tokens"), e.getMessage());
    assertEquals(PipelineConfig.defaults(), PipelineConfig.fromProperties(PipelineConfig.defaults().toProperties()));
  }
}
