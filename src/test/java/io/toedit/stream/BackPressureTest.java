package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.EditedDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.model.ForwardingScorer;
import io.toedit.model.Scorer;
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
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Back-pressure: however slow the model, the micro-batch buffer never holds more than one token
 * budget plus one record (or {@code toedit.batch.max.records}) when scoring runs on the stream thread
 * (the overlap, up to two, is in {@link OverlapTest}), because scoring blocks further input; and a
 * buffer over the token budget is scored in passes that close once they reach the budget, as a
 * micro-batch does: never more than the budget plus one record in one call.
 */
class BackPressureTest {

  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  static final TextTokenizer tokenizer = BundledTokenizer.get();

  @TempDir
  Path stateDir;

  /** A model that takes {@code sleepMs} per call and records the token count of every call. */
  static final class SlowScorer extends ForwardingScorer {
    final long sleepMs;
    final List<Integer> callTokens = new CopyOnWriteArrayList<>();

    SlowScorer(Scorer inner, long sleepMs) {
      super(inner);
      this.sleepMs = sleepMs;
    }

    @Override
    public List<TokenScores> score(List<int[]> sequences) {
      callTokens.add(sequences.stream().mapToInt(s -> s.length).sum());
      try {
        Thread.sleep(sleepMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      return inner.score(sequences);
    }
  }

  static final List<String> TEXTS = List.of(
      "Once upon a time, a little cat named Mimi found a shiny stone.",
      "Lily liked to play in the park with her friend Tom. They ran and laughed all day long.",
      "Ein kleiner Bär aß Honig — très bien! 日本語のテキストも少し。",
      "Max had a red ball.",
      "The dog said «bonjour» to the bird, and the bird sang back a long, happy song. ✨ The end.");

  @Test
  void shouldNeverBufferMoreThanOneBudgetWhenTheModelIsSlow() {
    int budget = 120;
    int maxRecords = 6;
    int longest = TEXTS.stream().mapToInt(t -> tokenizer.encode(t + " #999").length()).max().orElseThrow();
    SlowScorer scorer = new SlowScorer(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of()), 20);
    PipelineConfig config = PipelineConfig.defaults().with("toedit.batch.max.tokens", Integer.toString(budget))
        .with("toedit.batch.max.records", Integer.toString(maxRecords))
        .with("toedit.batch.max.latency.ms", "60000")
        .with("toedit.batch.parallelism", "1"); // one scoring call per chunk, so calls can be counted
    int n = 150;
    try (TopologyTestDriver driver = driver(config, scorer)) {
      TestInputTopic<byte[], byte[]> input = input(driver, config);
      KeyValueStore<Bytes, byte[]> buffer = driver.getKeyValueStore(ToEditTopology.BUFFER_STORE);
      int maxEntries = 0;
      long maxTokens = 0;
      for (int i = 0; i < n; i++) {
        String id = "d" + i;
        input.pipeInput(id.getBytes(StandardCharsets.UTF_8),
            ToEditTopologyTest.json(id, TEXTS.get(i % TEXTS.size()) + " #" + i));
        int entries = 0;
        long tokens = 0;
        try (KeyValueIterator<Bytes, byte[]> it = buffer.all()) {
          while (it.hasNext()) {
            KeyValue<Bytes, byte[]> kv = it.next();
            entries++;
            tokens += BufferedRecord.decode(kv.value).tokens();
          }
        }
        maxEntries = Math.max(maxEntries, entries);
        maxTokens = Math.max(maxTokens, tokens);
      }
      driver.advanceWallClockTime(Duration.ofMinutes(2));
      TestOutputTopic<String, EditedDocument> edited = driver.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      assertEquals(n, edited.readRecordsToList().size(), "every record is edited in the end");
      assertTrue(maxEntries < maxRecords, "buffer held " + maxEntries + " records, limit " + maxRecords);
      assertTrue(maxTokens < budget, "buffer held " + maxTokens + " tokens between records, budget " + budget);
      assertTrue(scorer.callTokens.size() >= n / maxRecords, "scored in many small calls: " + scorer.callTokens);
      for (int t : scorer.callTokens) {
        assertTrue(t < budget + longest, "a scoring call of " + t + " tokens exceeds a micro-batch: the budget "
            + budget + " plus one record (longest record " + longest + ")");
      }
    }
  }

  @Test
  void shouldNeverScoreMoreThanTheBudgetInOneCallWhenABufferCrossesIt() {
    int a = tokenizer.encode(TEXTS.get(1)).length();
    int b = tokenizer.encode(TEXTS.get(4)).length();
    int c = tokenizer.encode(TEXTS.get(0)).length();
    // Two records stay under the budget, the third crosses it and triggers the flush.
    int budget = a + b + c - 1;
    assertTrue(a + b < budget && b + c <= budget, "test texts");
    SlowScorer scorer = new SlowScorer(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of()), 0);
    PipelineConfig config = PipelineConfig.defaults().with("toedit.batch.max.tokens", Integer.toString(budget))
        .with("toedit.batch.max.latency.ms", "60000")
        .with("toedit.batch.parallelism", "1") // one scoring call per chunk, so calls can be counted
        .with("toedit.scoring.mode", "per-document");
    try (TopologyTestDriver driver = driver(config, scorer)) {
      TestInputTopic<byte[], byte[]> input = input(driver, config);
      input.pipeInput(utf8("a"), ToEditTopologyTest.json("a", TEXTS.get(1)));
      input.pipeInput(utf8("b"), ToEditTopologyTest.json("b", TEXTS.get(4)));
      assertEquals(List.of(), scorer.callTokens, "under the budget: still buffered");
      input.pipeInput(utf8("c"), ToEditTopologyTest.json("c", TEXTS.get(0)));
      // Per-document mode scores each document in its own call, so no call exceeds one document,
      // and a flush never builds one over-budget batch.
      assertEquals(List.of(c, a, b), scorer.callTokens, "one call per document, shortest first");
      assertEquals(a + b + c, scorer.callTokens.stream().mapToInt(Integer::intValue).sum());
      for (int t : scorer.callTokens) {
        assertTrue(t <= budget, t + " > " + budget);
      }
      // One record alone over the budget is scored alone, at once (the model windows long sequences).
      String longText = String.join(" ", TEXTS).repeat(3);
      input.pipeInput(utf8("long"), ToEditTopologyTest.json("long", longText));
      assertEquals(tokenizer.encode(longText).length(), (int) scorer.callTokens.get(3));
      TestOutputTopic<String, EditedDocument> edited = driver.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      List<String> keys = new ArrayList<>();
      edited.readRecordsToList().forEach(r -> keys.add(r.key()));
      assertEquals(List.of("a", "b", "c", "long"), keys, "outputs stay in input order across chunks");
    }
  }

  @Test
  void shouldScoreLengthSortedGroupsUpToTheBudgetInOneCallWhenBatched() {
    int a = tokenizer.encode(TEXTS.get(1)).length();
    int b = tokenizer.encode(TEXTS.get(4)).length();
    int c = tokenizer.encode(TEXTS.get(0)).length();
    int budget = a + b + c - 1;
    SlowScorer scorer = new SlowScorer(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of()), 0);
    PipelineConfig config = PipelineConfig.defaults().with("toedit.batch.max.tokens", Integer.toString(budget))
        .with("toedit.batch.max.latency.ms", "60000");
    assertEquals(PipelineConfig.SCORING_BATCHED, config.scoringMode(), "batched by default");
    try (TopologyTestDriver driver = driver(config, scorer)) {
      TestInputTopic<byte[], byte[]> input = input(driver, config);
      input.pipeInput(utf8("a"), ToEditTopologyTest.json("a", TEXTS.get(1)));
      input.pipeInput(utf8("b"), ToEditTopologyTest.json("b", TEXTS.get(4)));
      input.pipeInput(utf8("c"), ToEditTopologyTest.json("c", TEXTS.get(0)));
      // The first pass holds one document (the scorer's speed is not measured yet), the shortest; the
      // rest of the length-sorted buffer fits the budget and goes in one call.
      assertEquals(List.of(c, a + b), scorer.callTokens);
      // Measured now: a full micro-batch (the budget plus the record that crossed it) is one call.
      input.pipeInput(utf8("a2"), ToEditTopologyTest.json("a2", TEXTS.get(1)));
      input.pipeInput(utf8("b2"), ToEditTopologyTest.json("b2", TEXTS.get(4)));
      input.pipeInput(utf8("c2"), ToEditTopologyTest.json("c2", TEXTS.get(0)));
      assertEquals(List.of(c, a + b, a + b + c), scorer.callTokens);
      TestOutputTopic<String, EditedDocument> edited = driver.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      assertEquals(6, edited.readRecordsToList().size());
    }
  }

  /** A buffer of several micro-batches (restored after a restart) is scored in passes that each close at the budget. */
  @Test
  void shouldScoreABufferOfSeveralMicroBatchesInPassesThatCloseAtTheBudget() {
    int budget = 100;
    PipelineConfig config = PipelineConfig.defaults().with("toedit.microbatch.max.tokens", Integer.toString(budget))
        .with("toedit.microbatch.max.latency.ms", "1000");
    org.apache.kafka.streams.state.KeyValueStore<Bytes, byte[]> store =
        org.apache.kafka.streams.state.Stores.keyValueStoreBuilder(
            org.apache.kafka.streams.state.Stores.inMemoryKeyValueStore(ToEditTopology.BUFFER_STORE),
            org.apache.kafka.common.serialization.Serdes.Bytes(),
            org.apache.kafka.common.serialization.Serdes.ByteArray()).withLoggingDisabled().build();
    org.apache.kafka.streams.processor.api.MockProcessorContext<Object, Object> context =
        new org.apache.kafka.streams.processor.api.MockProcessorContext<>();
    context.setCurrentSystemTimeMs(1_000L);
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    int total = 0;
    for (int i = 0; i < 20; i++) {
      String id = "r" + i;
      String text = TEXTS.get(i % TEXTS.size()) + " #" + i;
      int tokens = tokenizer.encode(text).length();
      total += tokens;
      BufferedRecord r = new BufferedRecord(config.inputTopic(), 0, i, 1L, utf8(id), ToEditTopologyTest.json(id, text),
          tokens);
      store.put(Bytes.wrap(r.storeKey()), r.encode());
    }
    assertTrue(total > 4 * budget, "several micro-batches: " + total);
    List<List<Integer>> calls = new CopyOnWriteArrayList<>();
    Scorer recording = new ForwardingScorer(FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of())) {
      @Override
      public List<TokenScores> score(List<int[]> sequences) {
        calls.add(sequences.stream().map(s -> s.length).toList());
        return inner.score(sequences);
      }
    };
    io.toedit.pipeline.DocumentEditor editor = new io.toedit.pipeline.DocumentEditor(tokenizer, recording,
        new io.toedit.edit.Editor(EditConfig.defaults(), tokenizer.vocabulary()));
    MicroBatchProcessor processor = new MicroBatchProcessor(config, tokenizer, editor, recording.modelId(),
        new PipelineStats());
    processor.init(context);
    context.scheduledPunctuators().get(0).getPunctuator().punctuate(1_000L + config.batchMaxLatencyMs());
    assertEquals(1, calls.get(0).size(), "the first pass holds one document");
    int scored = 0;
    for (int k = 0; k < calls.size(); k++) {
      List<Integer> call = calls.get(k);
      int tokens = call.stream().mapToInt(Integer::intValue).sum();
      scored += tokens;
      int last = call.get(call.size() - 1); // the longest: a pass is length-sorted
      assertTrue(tokens - last < budget, "pass " + k + " " + call + " went on after reaching the budget " + budget);
      if (k > 0 && k < calls.size() - 1) {
        assertTrue(tokens >= budget, "pass " + k + " " + call + " closed before reaching the budget " + budget);
      }
    }
    assertEquals(total, scored, "every record scored once");
    assertEquals(0, store.approximateNumEntries());
  }

  TopologyTestDriver driver(PipelineConfig config, Scorer scorer) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-backpressure-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    return new TopologyTestDriver(ToEditTopology.build(ToEditTopologyTest.onStreamThread(config), tokenizer, scorer,
        EditConfig.defaults()), p, T0);
  }

  static TestInputTopic<byte[], byte[]> input(TopologyTestDriver driver, PipelineConfig config) {
    return driver.createInputTopic(config.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer(), T0,
        Duration.ofMillis(1));
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
