package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.EditedDocument;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.model.ForwardingScorer;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code toedit.microbatch.overlap} (the default): a full micro-batch is scored in the background
 * while the task goes on reading and tokenizing the next, at most one in flight per task; its results
 * are forwarded on the stream thread, and a micro-batch in flight stays in the buffer until then.
 */
class OverlapTest {

  static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  static final TextTokenizer tokenizer = BundledTokenizer.get();
  static final List<String> TEXTS = BackPressureTest.TEXTS;

  @TempDir
  Path stateDir;

  final ExecutorService background = Executors.newCachedThreadPool();

  @AfterEach
  void stopBackground() {
    background.shutdownNow();
  }

  /** A model whose calls wait until {@link #open} (counting calls begun and finished). */
  static final class GatedScorer extends ForwardingScorer {
    final CountDownLatch gate = new CountDownLatch(1);
    final AtomicInteger begun = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();
    final List<Integer> callTokens = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile long sleepMs;

    GatedScorer() {
      super(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of()));
    }

    void open() {
      gate.countDown();
    }

    @Override
    public List<TokenScores> score(List<int[]> sequences) {
      begun.incrementAndGet();
      callTokens.add(sequences.stream().mapToInt(s -> s.length).sum());
      try {
        if (!gate.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("gate never opened");
        }
        Thread.sleep(sleepMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      List<TokenScores> out = inner.score(sequences);
      finished.incrementAndGet();
      return out;
    }
  }

  TopologyTestDriver driver(PipelineConfig config, Scorer scorer, PipelineStats stats) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-overlap-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    return new TopologyTestDriver(ToEditTopology.build(config, tokenizer, scorer, EditConfig.defaults(), stats), p,
        T0);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static int entries(KeyValueStore<Bytes, byte[]> store) {
    int n = 0;
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    return n;
  }

  static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(2);
    }
  }

  @Test
  void shouldBeTheDefault() {
    assertTrue(PipelineConfig.defaults().overlap());
  }

  @Test
  void shouldKeepReadingWhileAMicroBatchIsScoredAndForwardItOnceDone() throws Exception {
    int a = tokenizer.encode(TEXTS.get(0)).length();
    int b = tokenizer.encode(TEXTS.get(1)).length();
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.tokens", Integer.toString(a + b))
        .with("toedit.microbatch.max.latency.ms", "60000");
    GatedScorer scorer = new GatedScorer();
    PipelineStats stats = new PipelineStats();
    try (TopologyTestDriver d = driver(config, scorer, stats)) {
      TestInputTopic<byte[], byte[]> in = BackPressureTest.input(d, config);
      TestOutputTopic<String, EditedDocument> edited = d.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      KeyValueStore<Bytes, byte[]> buffer = d.getKeyValueStore(ToEditTopology.BUFFER_STORE);
      in.pipeInput(utf8("a"), ToEditTopologyTest.json("a", TEXTS.get(0)));
      in.pipeInput(utf8("b"), ToEditTopologyTest.json("b", TEXTS.get(1))); // the budget: a and b go in flight
      await(() -> scorer.begun.get() == 1);
      // The model is busy with a and b (blocked): the task takes more input meanwhile.
      in.pipeInput(utf8("c"), ToEditTopologyTest.json("c", TEXTS.get(3))); // under the budget alone
      d.advanceWallClockTime(Duration.ofMillis(config.punctuateIntervalMs()));
      assertTrue(edited.isEmpty(), "nothing forwarded while in flight");
      assertEquals(3, entries(buffer), "the micro-batch in flight stays in the buffer");
      assertEquals(3, stats.snapshot().buffered());
      scorer.open();
      List<String> first = new ArrayList<>();
      ToEditTopologyTest.drain(d, config, () -> {
        first.addAll(edited.readRecordsToList().stream().map(TestRecord::key).toList());
        return !first.isEmpty();
      });
      assertEquals(List.of("a", "b"), first, "forwarded together, at a punctuation after it was done");
      assertEquals(2, scorer.finished.get(), "the first pass holds one document, the second the other");
      assertEquals(1, entries(buffer), "c is still buffered");
      in.pipeInput(utf8("d"), ToEditTopologyTest.json("d", String.join(" ", TEXTS))); // over the budget
      List<String> keys = new ArrayList<>();
      ToEditTopologyTest.drain(d, config, () -> {
        keys.addAll(edited.readRecordsToList().stream().map(TestRecord::key).toList());
        return keys.size() == 2;
      });
      assertEquals(List.of("c", "d"), keys);
      assertEquals(0, entries(buffer));
      assertEquals(0, stats.snapshot().buffered());
    }
  }

  @Test
  void shouldBufferAtMostTwoBudgetsAndEditEveryRecordOnceInOrder() throws Exception {
    int budget = 120;
    int maxRecords = 6;
    int longest = TEXTS.stream().mapToInt(t -> tokenizer.encode(t + " #999").length()).max().orElseThrow();
    GatedScorer scorer = new GatedScorer();
    scorer.sleepMs = 15;
    scorer.open();
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.tokens", Integer.toString(budget))
        .with("toedit.microbatch.max.records", Integer.toString(maxRecords))
        .with("toedit.microbatch.max.latency.ms", "60000");
    PipelineStats stats = new PipelineStats();
    int n = 150;
    try (TopologyTestDriver d = driver(config, scorer, stats)) {
      TestInputTopic<byte[], byte[]> in = BackPressureTest.input(d, config);
      KeyValueStore<Bytes, byte[]> buffer = d.getKeyValueStore(ToEditTopology.BUFFER_STORE);
      int maxEntries = 0;
      long maxTokens = 0;
      for (int i = 0; i < n; i++) {
        String id = "d" + i;
        in.pipeInput(utf8(id), ToEditTopologyTest.json(id, TEXTS.get(i % TEXTS.size()) + " #" + i));
        int count = 0;
        long tokens = 0;
        try (KeyValueIterator<Bytes, byte[]> it = buffer.all()) {
          while (it.hasNext()) {
            KeyValue<Bytes, byte[]> kv = it.next();
            count++;
            tokens += BufferedRecord.decode(kv.value).tokens();
          }
        }
        maxEntries = Math.max(maxEntries, count);
        maxTokens = Math.max(maxTokens, tokens);
      }
      TestOutputTopic<String, EditedDocument> edited = d.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      List<String> keys = new ArrayList<>();
      ToEditTopologyTest.drain(d, config, () -> {
        keys.addAll(edited.readRecordsToList().stream().map(TestRecord::key).toList());
        return keys.size() >= n;
      });
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        expected.add("d" + i);
      }
      assertEquals(expected, keys, "every record edited once, in input order");
      assertTrue(maxEntries < 2 * maxRecords, "buffer held " + maxEntries + " records, bound " + 2 * maxRecords);
      // Filling: under the budget; in flight: under the budget plus the record that crossed it.
      assertTrue(maxTokens < 2L * budget + longest, "buffer held " + maxTokens + " tokens, bound "
          + (2 * budget + longest));
      for (int t : scorer.callTokens) {
        assertTrue(t < budget + longest, "a scoring call of " + t + " tokens exceeds a micro-batch");
      }
      assertEquals(0, entries(buffer));
      assertEquals(0, stats.snapshot().buffered());
    }
  }

  /** Records a flush left for later (its time budget) go into the next micro-batch, each edited once. */
  @Test
  void shouldScoreWhatAFlushLeftInTheNextMicroBatchOnce() throws Exception {
    GatedScorer scorer = new GatedScorer();
    scorer.sleepMs = 30;
    scorer.open();
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.flush.max.ms", "70")
        .with("toedit.microbatch.max.records", "8").with("toedit.microbatch.max.latency.ms", "60000");
    PipelineStats stats = new PipelineStats();
    int n = 64;
    try (TopologyTestDriver d = driver(config, scorer, stats)) {
      TestInputTopic<byte[], byte[]> in = BackPressureTest.input(d, config);
      TestOutputTopic<String, EditedDocument> edited = d.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        in.pipeInput(utf8("k" + i), ToEditTopologyTest.json("k" + i, "Lily sah " + i + " Frösche am Teich."));
        keys.addAll(edited.readRecordsToList().stream().map(TestRecord::key).toList());
      }
      ToEditTopologyTest.drain(d, config, () -> {
        keys.addAll(edited.readRecordsToList().stream().map(TestRecord::key).toList());
        return keys.size() >= n;
      });
      assertEquals(n, keys.size());
      assertEquals(n, new java.util.HashSet<>(keys).size(), "each record edited once: " + keys);
      assertTrue(scorer.callTokens.size() > n / 8 + 1, "flushes left records for later: " + scorer.callTokens.size()
          + " calls");
      assertEquals(0, entries(d.getKeyValueStore(ToEditTopology.BUFFER_STORE)));
      assertEquals(0, stats.snapshot().buffered());
    }
  }

  @Test
  void shouldLeaveAMicroBatchInFlightInTheBufferWhenTheTaskClosesOrCrashes() throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "2")
        .with("toedit.microbatch.max.latency.ms", "1000");
    KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(ToEditTopology.BUFFER_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    MockProcessorContext<Object, Object> first = new MockProcessorContext<>();
    first.setCurrentSystemTimeMs(1_000L);
    store.init(first.getStateStoreContext(), store);
    first.addStateStore(store);
    GatedScorer gated = new GatedScorer();
    MicroBatchProcessor closing = processor(config, gated, background);
    closing.init(first);
    first.setRecordMetadata(config.inputTopic(), 0, 10L);
    closing.process(new Record<>(utf8("a"), ToEditTopologyTest.json("a", TEXTS.get(0)), 1L));
    first.setRecordMetadata(config.inputTopic(), 0, 11L);
    closing.process(new Record<>(utf8("b"), ToEditTopologyTest.json("b", TEXTS.get(1)), 2L));
    await(() -> gated.begun.get() == 1);
    // The task closes (a rebalance) while a and b are in flight: close() waits for the model, drops
    // the results and leaves both records in the buffer.
    background.submit(() -> {
      Thread.sleep(100);
      gated.open();
      return null;
    });
    closing.close();
    assertEquals(2, gated.finished.get(), "close() waited for the micro-batch in flight");
    assertTrue(first.forwarded().isEmpty(), "nothing forwarded: " + first.forwarded());
    assertEquals(2, store.approximateNumEntries());

    // A crash while in flight: the processor is dropped, its background work finishes unseen.
    GatedScorer crashing = new GatedScorer();
    MockProcessorContext<Object, Object> second = new MockProcessorContext<>();
    second.addStateStore(store);
    second.setCurrentSystemTimeMs(5_000L);
    MicroBatchProcessor crashed = processor(config, crashing, background);
    crashed.init(second);
    second.scheduledPunctuators().get(0).getPunctuator().punctuate(5_000L + config.batchMaxLatencyMs());
    await(() -> crashing.begun.get() == 1);
    assertEquals(2, store.approximateNumEntries());

    // Whoever runs the task next scores both, once.
    MockProcessorContext<Object, Object> third = new MockProcessorContext<>();
    third.addStateStore(store);
    third.setCurrentSystemTimeMs(10_000L);
    FakeScorer restarted = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    MicroBatchProcessor after = processor(config, restarted, null);
    after.init(third);
    third.scheduledPunctuators().get(0).getPunctuator().punctuate(10_000L + config.batchMaxLatencyMs());
    List<Object> keys = third.forwarded().stream()
        .filter(f -> MicroBatchProcessor.EDITED_SINK.equals(f.childName().orElseThrow()))
        .map(f -> (Object) f.record().key()).toList();
    assertEquals(List.of("a", "b"), keys);
    assertEquals(0, store.approximateNumEntries());
    crashing.open();
    await(() -> crashing.finished.get() == 2);
    assertTrue(second.forwarded().isEmpty(), "the crashed processor forwarded nothing");
  }

  /**
   * Streams reads the wall clock once per batch of records: a record read right after the task waited
   * for the micro-batch in flight counts as arriving after the wait, not before it, so its (partial)
   * micro-batch is not scored early.
   */
  @Test
  void shouldCountTheLatencyOfARecordReadAfterAWaitFromTheEndOfTheWait() throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "2")
        .with("toedit.microbatch.max.latency.ms", "1000");
    KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(
        Stores.inMemoryKeyValueStore(ToEditTopology.BUFFER_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withLoggingDisabled().build();
    MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
    context.setCurrentSystemTimeMs(1_000L); // the cached clock does not move while the task waits
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    GatedScorer gated = new GatedScorer();
    MicroBatchProcessor p = processor(config, gated, background);
    p.init(context);
    long offset = 0;
    for (String id : List.of("a", "b", "c")) {
      context.setRecordMetadata(config.inputTopic(), 0, offset++);
      p.process(new Record<>(utf8(id), ToEditTopologyTest.json(id, "Lily sah " + id + "."), 1L));
    }
    await(() -> gated.begun.get() == 1); // a and b in flight, c buffered
    background.submit(() -> {
      Thread.sleep(300);
      gated.open();
      return null;
    });
    context.setRecordMetadata(config.inputTopic(), 0, offset++);
    p.process(new Record<>(utf8("d"), ToEditTopologyTest.json("d", "Lily sah d."), 1L)); // full: waits >= 300 ms
    context.setRecordMetadata(config.inputTopic(), 0, offset++);
    p.process(new Record<>(utf8("e"), ToEditTopologyTest.json("e", "Lily sah e."), 1L)); // read after the wait
    await(() -> gated.finished.get() == 3); // a alone (the first pass), b, then c and d
    Thread.sleep(50);
    var punctuator = context.scheduledPunctuators().get(0).getPunctuator();
    punctuator.punctuate(2_000L); // 1000 ms after the cached clock, under 1000 ms after the wait ended
    Thread.sleep(100);
    assertEquals(3, gated.begun.get(), "e waits for its latency, it is not scored yet");
    assertEquals(List.of("a", "b", "c", "d"), editedKeys(context));
    punctuator.punctuate(3_000L);
    await(() -> gated.finished.get() == 4);
    Thread.sleep(50);
    punctuator.punctuate(3_050L);
    assertEquals(List.of("a", "b", "c", "d", "e"), editedKeys(context));
    p.close();
  }

  static List<Object> editedKeys(MockProcessorContext<Object, Object> context) {
    return context.forwarded().stream().filter(f -> MicroBatchProcessor.EDITED_SINK.equals(f.childName().orElseThrow()))
        .map(f -> (Object) f.record().key()).toList();
  }

  @Test
  void shouldStopOnABrokenModelFoundInTheBackground() throws Exception {
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.records", "4")
        .with("toedit.score.retries", "0").with("toedit.score.broken.after", "4");
    Scorer broken = new ForwardingScorer(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of())) {
      @Override
      public List<TokenScores> score(List<int[]> sequences) {
        throw new IllegalStateException("weights are NaN");
      }
    };
    try (TopologyTestDriver d = driver(config, broken, new PipelineStats())) {
      TestInputTopic<byte[], byte[]> in = BackPressureTest.input(d, config);
      for (String id : List.of("a", "b", "c", "d")) {
        in.pipeInput(utf8(id), ToEditTopologyTest.json(id, "Lily lachte " + id + "."));
      }
      RuntimeException thrown = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (thrown == null && System.nanoTime() < deadline) {
        try {
          d.advanceWallClockTime(Duration.ofMillis(config.punctuateIntervalMs()));
          Thread.sleep(2);
        } catch (RuntimeException e) {
          thrown = e;
        }
      }
      assertNotNull(thrown, "the failure of the background scoring reaches the stream thread");
      Throwable cause = PipelineRunner.brokenModel(thrown);
      assertNotNull(cause, "a BrokenModelException in " + thrown);
      assertTrue(cause.getMessage().contains("weights are NaN"), cause.getMessage());
    }
  }

  MicroBatchProcessor processor(PipelineConfig config, Scorer scorer, ExecutorService flushExecutor) {
    DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(EditConfig.defaults(),
        tokenizer.vocabulary()), DocumentEditor.ScoringMode.BATCHED,
        new DocumentEditor.RetryPolicy(config.scoreRetries(), config.scoreRetryBackoffMs(), config.brokenModelAfter()));
    return new MicroBatchProcessor(config, tokenizer, editor, scorer.modelId(), new PipelineStats(), null,
        flushExecutor);
  }
}
