package io.toedit.stream.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DriftAlert;
import io.toedit.avro.DriftWindow;
import io.toedit.avro.EditedDocument;
import io.toedit.drift.DocumentObservation;
import io.toedit.drift.StreamKind;
import io.toedit.edit.EditConfig;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineStats;
import io.toedit.stream.ToEditTopology;
import io.toedit.text.TextTokenizer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift half of the topology under {@link TopologyTestDriver}: observation batches piped into
 * the observations topic with explicit event times (and, end to end, raw documents through the
 * fake scorer), closed windows read from the drift and alerts topics.
 */
class DriftTopologyTest {

  /** 2026-11-25T10:00:00Z, a multiple of one minute, so window starts are T0 + k minutes. */
  static final long T0 = Instant.parse("2026-11-25T10:00:00Z").toEpochMilli();
  static final long MIN = 60_000L;
  static final String SOURCE = "wiki-ü|日本";

  static final TextTokenizer tokenizer = BundledTokenizer.get();

  @TempDir
  Path stateDir;

  TopologyTestDriver driver;
  TestInputTopic<String, ObservationBatch> observations;
  TestInputTopic<byte[], byte[]> raw;
  TestOutputTopic<String, DriftWindow> drift;
  TestOutputTopic<String, DriftAlert> alerts;
  TestOutputTopic<String, EditedDocument> edited;

  @AfterEach
  void closeDriver() {
    if (driver != null) {
      driver.close();
    }
  }

  static PipelineConfig config(String... keyValues) {
    // Test documents are minutes ahead of the driver's wall clock: no clamping to it here.
    PipelineConfig c = PipelineConfig.defaults().with("toedit.drift.punctuate.interval.ms", "1000")
        .with("toedit.drift.future.tolerance.ms", "-1");
    for (int i = 0; i < keyValues.length; i += 2) {
      c = c.with(keyValues[i], keyValues[i + 1]);
    }
    return c;
  }

  void start(PipelineConfig cfg) {
    FakeScorer scorer = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-drift-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Scoring on the stream thread: the observations of a flush are there right after it.
    driver = new TopologyTestDriver(ToEditTopology.build(cfg.with("toedit.microbatch.overlap", "false"), tokenizer,
        scorer, EditConfig.defaults()), p, Instant.ofEpochMilli(T0));
    DriftStreamConfig d = cfg.drift();
    observations = driver.createInputTopic(d.observationsTopic(), new StringSerializer(),
        ObservationBatch.serde().serializer());
    raw = driver.createInputTopic(cfg.inputTopic(), new ByteArraySerializer(), new ByteArraySerializer());
    drift = driver.createOutputTopic(d.driftTopic(), new StringDeserializer(),
        AvroSerde.of(DriftWindow.class).deserializer());
    alerts = driver.createOutputTopic(d.alertsTopic(), new StringDeserializer(),
        AvroSerde.of(DriftAlert.class).deserializer());
    edited = driver.createOutputTopic(cfg.editedTopic(), new StringDeserializer(), AvroSerde.edited().deserializer());
  }

  static DocumentObservation doc(String source, StreamKind stream, long ts, int[] ids, double nllPerToken) {
    float[] probs = new float[ids.length];
    java.util.Arrays.fill(probs, (float) Math.exp(-nllPerToken));
    return new DocumentObservation(source, stream, ts, ids, probs, 0, 1, 0, nllPerToken * ids.length, ids.length);
  }

  void pipe(long ts, DocumentObservation... docs) {
    ObservationBatch b = new ObservationBatch(docs[0].source(), docs[0].stream(), List.of(docs));
    observations.pipeInput(new TestRecord<>(b.key(), b, null, ts));
  }

  @Test
  void shouldEmitEachClosedTumblingWindowOnceWithItsCounts() {
    start(config());
    pipe(T0 + 1_000, doc(SOURCE, StreamKind.RAW, T0 + 1_000, new int[] {10, 11, 12}, 1.0),
        doc(SOURCE, StreamKind.RAW, T0 + 1_500, new int[] {10, 11}, 1.0));
    pipe(T0 + 30_000, doc(SOURCE, StreamKind.RAW, T0 + 30_000, new int[] {13, 14, 15, 16}, 1.0));
    pipe(T0 + 61_000, doc(SOURCE, StreamKind.RAW, T0 + 61_000, new int[] {20}, 1.0));
    assertTrue(drift.isEmpty(), "the first window is open until its end + grace (10 s)");
    pipe(T0 + 69_999, doc(SOURCE, StreamKind.RAW, T0 + 69_999, new int[] {21}, 1.0));
    assertTrue(drift.isEmpty(), "grace has not passed at 69.999 s");
    pipe(T0 + 70_000, doc(SOURCE, StreamKind.RAW, T0 + 70_000, new int[] {22}, 1.0));
    List<TestRecord<String, DriftWindow>> first = drift.readRecordsToList();
    assertEquals(1, first.size());
    DriftWindow w = first.get(0).value();
    assertEquals(SOURCE + "|raw", first.get(0).key());
    assertEquals(SOURCE, w.getSource());
    assertEquals("raw", w.getStream());
    assertEquals(T0, w.getWindowStart());
    assertEquals(T0 + MIN, w.getWindowEnd());
    assertEquals(3, w.getDocuments());
    assertEquals(9, w.getTokens());
    assertEquals(1.0, w.getMeanNll(), 1e-6);
    assertEquals(Math.E, w.getPerplexity(), 1e-5);
    assertEquals(10, w.getProbHistogram().size());
    assertEquals(9L, w.getProbHistogram().get(3), "P = e^-1 = 0.37 is in bin [0.3, 0.4)");
    assertNull(w.getJsd(), "first-windows reference: no reference yet");
    // Bigram 10 11 appears twice: the most frequent n-gram, decoded to text.
    assertEquals(2, w.getTopNgrams().get(0).getCount());
    assertEquals(List.of(10, 11), w.getTopNgrams().get(0).getTokenIds());
    assertEquals(DriftWindows.text(new int[] {10, 11}, tokenizer.vocabulary()), w.getTopNgrams().get(0).getText());

    pipe(T0 + 200_000, doc(SOURCE, StreamKind.RAW, T0 + 200_000, new int[] {30}, 1.0));
    List<DriftWindow> later = drift.readValuesToList();
    assertEquals(List.of(T0 + MIN), later.stream().map(DriftWindow::getWindowStart).toList(),
        "the second window once, the first never again");
    assertEquals(3, later.get(0).getDocuments());
  }

  @Test
  void shouldCountADocumentInEveryHoppingWindowThatContainsIt() {
    start(config("toedit.drift.window.advance.ms", "20000", "toedit.drift.grace.ms", "0"));
    pipe(T0 + 45_000, doc(SOURCE, StreamKind.EDITED, T0 + 45_000, new int[] {5, 6, 7}, 0.5));
    pipe(T0 + 300_000, doc(SOURCE, StreamKind.EDITED, T0 + 300_000, new int[] {8}, 0.5));
    Map<Long, Long> docsByStart = drift.readValuesToList().stream()
        .collect(Collectors.toMap(DriftWindow::getWindowStart, DriftWindow::getDocuments));
    assertEquals(Map.of(T0, 1L, T0 + 20_000, 1L, T0 + 40_000, 1L), docsByStart,
        "[T0, T0+60s), [T0+20s, T0+80s) and [T0+40s, T0+100s) contain T0+45s; nothing else was seen");
  }

  @Test
  void shouldAcceptLateDocumentsWithinGraceAndDropThemAfter() {
    start(config());
    pipe(T0 + 10_000, doc(SOURCE, StreamKind.RAW, T0 + 10_000, new int[] {1, 2}, 1.0));
    pipe(T0 + 65_000, doc(SOURCE, StreamKind.RAW, T0 + 65_000, new int[] {3}, 1.0));
    pipe(T0 + 50_000, doc(SOURCE, StreamKind.RAW, T0 + 50_000, new int[] {4}, 1.0)); // late, within grace
    pipe(T0 + 80_000, doc(SOURCE, StreamKind.RAW, T0 + 80_000, new int[] {5}, 1.0)); // closes window 0
    pipe(T0 + 55_000, doc(SOURCE, StreamKind.RAW, T0 + 55_000, new int[] {6}, 1.0)); // after grace: dropped
    pipe(T0 + 200_000, doc(SOURCE, StreamKind.RAW, T0 + 200_000, new int[] {7}, 1.0));
    List<DriftWindow> windows = drift.readValuesToList();
    assertEquals(List.of(T0, T0 + MIN), windows.stream().map(DriftWindow::getWindowStart).toList());
    assertEquals(2, windows.get(0).getDocuments(), "the on-time and the within-grace document");
    assertEquals(3, windows.get(0).getTokens());
    assertEquals(2, windows.get(1).getDocuments());
  }

  @Test
  void shouldAlertOnAContaminatedWindowAfterTheFirstWindowsReference() {
    start(config("toedit.drift.reference.windows", "4", "toedit.drift.alert.jsd", "0.99"));
    Random rnd = new Random(42);
    for (int w = 0; w < 4; w++) {
      List<DocumentObservation> docs = new ArrayList<>();
      for (int d = 0; d < 12; d++) {
        docs.add(human(rnd, T0 + w * MIN + d * 1000));
      }
      pipe(T0 + w * MIN + 20_000, docs.toArray(DocumentObservation[]::new));
    }
    // A burst of low-perplexity, repetitive "generated" text.
    List<DocumentObservation> burst = new ArrayList<>();
    for (int d = 0; d < 12; d++) {
      int[] ids = new int[40];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = 100 + i % 4;
      }
      burst.add(doc(SOURCE, StreamKind.RAW, T0 + 4 * MIN + d * 1000, ids, 0.3));
    }
    pipe(T0 + 4 * MIN + 20_000, burst.toArray(DocumentObservation[]::new));
    pipe(T0 + 10 * MIN, human(rnd, T0 + 10 * MIN));

    List<DriftWindow> windows = drift.readValuesToList();
    assertEquals(5, windows.size());
    for (int w = 0; w < 4; w++) {
      assertNull(windows.get(w).getJsd(), "window " + w + " is part of the reference");
      assertFalse(windows.get(w).getContaminated());
    }
    DriftWindow hit = windows.get(4);
    assertTrue(hit.getContaminated(), "synthetic fraction " + hit.getSyntheticFraction() + " ["
        + hit.getSyntheticFractionLow() + ", " + hit.getSyntheticFractionHigh() + "]");
    // 12 of 12 documents below the smallest of 48 reference documents: q = 1/49
    assertEquals(1.0, hit.getSyntheticFraction(), 1e-12);
    assertTrue(hit.getSyntheticFractionLow() > 0.6, "lower bound " + hit.getSyntheticFractionLow());
    assertEquals(1.0, hit.getSyntheticFractionHigh(), 1e-12);
    assertTrue(hit.getExcessPValue() < 1e-6, "excess p " + hit.getExcessPValue());
    assertTrue(hit.getNllKsPValue() < 1e-6, "KS p " + hit.getNllKsPValue());
    assertNull(hit.getNgramPValue(), "4 reference windows are fewer than the n-gram null needs (5)");
    assertNotNull(hit.getJsd());
    assertTrue(hit.getJsd() > 0.3, "jsd " + hit.getJsd());
    List<DriftAlert> fired = alerts.readValuesToList();
    assertEquals(1, fired.size(), fired.toString());
    DriftAlert a = fired.get(0);
    assertEquals("synthetic_fraction_low", a.getMetric());
    assertEquals(SOURCE, a.getSource());
    assertEquals(T0 + 4 * MIN, a.getWindowStart());
    assertEquals(hit.getSyntheticFractionLow(), a.getValue(), 1e-12);
    assertTrue(a.getValue() > a.getThreshold());
    assertTrue(a.getMessage().startsWith("possible synthetic text: estimated fraction 1.00"), a.getMessage());
  }

  @Test
  void shouldDecodeDriftWindowsWrittenWithTheVersion1Schema() throws Exception {
    // the bundled history (schema-history/index.txt) holds DriftWindow v1, before the estimate's fields
    Schema v1;
    try (java.io.InputStream in = DriftTopologyTest.class.getResourceAsStream("/schema-history/DriftWindow-v1.avsc")) {
      v1 = new Schema.Parser().parse(in);
    }
    assertNull(v1.getField("syntheticFraction"));
    GenericRecord old = new GenericData.Record(v1);
    old.put("source", "old-feed");
    old.put("stream", "raw");
    old.put("windowStart", T0);
    old.put("windowEnd", T0 + MIN);
    old.put("documents", 12L);
    old.put("tokens", 345L);
    old.put("contaminationScore", 2.5);
    old.put("contaminated", true);
    old.put("probHistogram", List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L));
    old.put("topNgrams", List.of());
    ByteBuffer bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old);
    byte[] encoded = new byte[bytes.remaining()];
    bytes.get(encoded);
    DriftWindow decoded = AvroSerde.of(DriftWindow.class).decode(encoded);
    assertEquals("old-feed", decoded.getSource());
    assertEquals(345L, decoded.getTokens());
    assertEquals(2.5, decoded.getContaminationScore());
    assertTrue(decoded.getContaminated());
    assertNull(decoded.getSyntheticFraction());
    assertNull(decoded.getSyntheticFractionLow());
    assertNull(decoded.getNllKsPValue());
    assertNull(decoded.getNgramPValue());
    assertEquals(Boolean.TRUE, DriftWindowJson.json(decoded).get("alert"));
    assertTrue(DriftWindowJson.json(decoded).containsKey("syntheticFraction"));
  }

  /** A "human" document: 30-50 tokens over 400 ids, per-document mean NLL between 1.0 and 1.6. */
  static DocumentObservation human(Random rnd, long ts) {
    int n = 30 + rnd.nextInt(21);
    int[] ids = new int[n];
    float[] probs = new float[n];
    double mean = 1.0 + 0.6 * rnd.nextDouble();
    double nll = 0;
    for (int i = 0; i < n; i++) {
      ids[i] = 5 + rnd.nextInt(400);
      double t = Math.max(0.001, mean * (0.5 + rnd.nextDouble()));
      probs[i] = (float) Math.exp(-t);
      nll += -Math.log(probs[i]);
    }
    return new DocumentObservation(SOURCE, StreamKind.RAW, ts, ids, probs, 0, 0, 0, nll, n);
  }

  @Test
  void shouldAlertWhenJsdToAProfileCrossesItsThreshold() throws Exception {
    // A profile of one vocabulary region; the stream uses another.
    var acc = io.toedit.drift.Reference.accumulator("profile-ß", DriftStreamConfig.defaults().summaryConfig());
    Random rnd = new Random(7);
    for (int i = 0; i < 40; i++) {
      acc.addDocument(human(rnd, T0), 10);
    }
    Path ref = stateDir.resolve("ref.bin");
    java.nio.file.Files.write(ref, acc.build().toByteArray());
    start(config("toedit.drift.reference.file", ref.toString(), "toedit.drift.reference", "file"));
    pipe(T0 + 1_000, doc(SOURCE, StreamKind.RAW, T0 + 1_000, new int[] {450, 451, 452, 453}, 1.0));
    pipe(T0 + 5 * MIN, doc(SOURCE, StreamKind.RAW, T0 + 5 * MIN, new int[] {450}, 1.0));
    DriftWindow w = drift.readValuesToList().get(0);
    assertEquals("profile-ß", w.getReference());
    assertTrue(w.getJsd() > 0.9, "disjoint supports: JSD near 1, got " + w.getJsd());
    List<DriftAlert> fired = alerts.readValuesToList();
    assertEquals(List.of("jsd"), fired.stream().map(DriftAlert::getMetric).toList());
    assertEquals(0.2, fired.get(0).getThreshold(), 1e-12);
  }

  @Test
  void shouldAggregateRawAndEditedObservationsOfScoredDocumentsEndToEnd() throws Exception {
    start(config("toedit.batch.max.records", "3", "toedit.drift.reference", "paired-raw"));
    String[] texts = {"Es war einmal ein kleiner Drache, der gern Äpfel aß.", "The cat sat on the mat. 🐱",
        "Once upon a time there was a little girl named Lily."};
    Map<String, Integer> tokensById = new HashMap<>();
    for (int i = 0; i < texts.length; i++) {
      String id = "doc-" + i;
      raw.pipeInput(new TestRecord<>(id.getBytes(), json(id, texts[i], SOURCE), null, T0 + 5_000 + i));
      tokensById.put(id, tokenizer.encode(texts[i]).length() - 1);
    }
    List<EditedDocument> out = edited.readValuesToList();
    assertEquals(3, out.size());
    // Close the window with a later document (its batch of one is flushed by wall-clock time).
    raw.pipeInput(new TestRecord<>("late".getBytes(), json("late", "Später.", SOURCE), null, T0 + 5 * MIN));
    driver.advanceWallClockTime(Duration.ofSeconds(2));
    Map<String, DriftWindow> byStream = drift.readValuesToList().stream()
        .collect(Collectors.toMap(DriftWindow::getStream, w -> w));
    assertEquals(Set.of("raw", "edited"), byStream.keySet());
    DriftWindow r = byStream.get("raw");
    DriftWindow e = byStream.get("edited");
    int tokens = tokensById.values().stream().mapToInt(Integer::intValue).sum();
    long changed = out.stream().mapToLong(EditedDocument::getChanged).sum();
    long deleted = out.stream().mapToLong(EditedDocument::getDeleted).sum();
    assertEquals(3, r.getDocuments());
    assertEquals(3, e.getDocuments());
    assertEquals(tokens, r.getTokens());
    assertEquals(tokens - deleted, e.getTokens(), "edited ids = original ids with the edits applied");
    assertEquals((double) changed / tokens, r.getEditRate(), 1e-12);
    assertTrue(changed > 0, "the fake scorer makes every third id easy, so something is edited");
    assertNotNull(r.getMeanNll());
    assertNull(e.getMeanNll(), "the edited stream is not scored");
    assertNotNull(e.getEditedVsRawJsd());
    assertEquals(e.getEditedVsRawJsd(), e.getJsd(), 1e-12, "paired-raw: the edited window's reference is the raw one");
    assertTrue(e.getJsd() > 0, "edits changed some n-grams");
    assertEquals(e.getEditedVsRawJsd(), r.getEditedVsRawJsd(), 1e-12);
  }

  /**
   * Grace 0, one micro-batch straddling a window end (documents at 58, 59 and 61 s, in input order).
   * Its raw observation batch is read before its edited twin and moves the drift task's stream time
   * past the window end first: the edited twins of 58 and 59 s must still count in the window, as
   * the raw ones do. A document of a later micro-batch for the closed window is truly late, in both
   * streams. (TopologyTestDriver runs both processors in one task, whose stream time the input records
   * would set; on a broker the drift task has its own. The input records are stamped T0, before their
   * documents' {@code timestamp}, so the drift task's time is the observations' as on a broker.)
   */
  @Test
  void shouldCountEveryEditedDocumentInTheWindowOfItsRawTwinWithGraceZero() throws Exception {
    start(config("toedit.batch.max.records", "3", "toedit.drift.grace.ms", "0"));
    long[] times = {T0 + 58_000, T0 + 59_000, T0 + 61_000};
    String[] texts = {"Der Bär träumt von Honig.", "Le café est très chaud ☕.", "雨の日は本を読む。"};
    for (int i = 0; i < times.length; i++) {
      String id = "g0-" + i;
      raw.pipeInput(new TestRecord<>(id.getBytes(), json(id, texts[i], SOURCE, times[i]), null, T0));
    }
    assertEquals(3, edited.readValuesToList().size());
    // Later micro-batches (flushed by wall-clock time): the document at 30 s comes after the first
    // window was emitted (late in both streams); the one at 5 min closes the second window.
    raw.pipeInput(new TestRecord<>("late".getBytes(), json("late", "Zu spät, leider.", SOURCE, T0 + 30_000), null, T0));
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    raw.pipeInput(new TestRecord<>("next".getBytes(), json("next", "Später.", SOURCE, T0 + 5 * MIN), null, T0));
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertEquals(2, edited.readValuesToList().size());
    Map<String, Long> documents = new HashMap<>();
    for (DriftWindow w : drift.readValuesToList()) {
      assertNull(documents.put(w.getStream() + "@" + (w.getWindowStart() - T0), w.getDocuments()),
          "each window is emitted once");
    }
    assertEquals(Map.of("raw@0", 2L, "edited@0", 2L, "raw@60000", 1L, "edited@60000", 1L), documents);
    KeyValueStore<String, Long> index = driver.getKeyValueStore(ToEditTopology.DRIFT_INDEX_STORE);
    assertEquals(1L, index.get(DriftProcessor.LATE_PREFIX + SOURCE), "the document at 30 s, counted once");
  }

  static byte[] json(String id, String text, String source, long timestampMs) throws Exception {
    return new ObjectMapper().writeValueAsBytes(Map.of("id", id, "text", text, "source", source,
        "timestamp", timestampMs));
  }

  static byte[] json(String id, String text, String source) throws Exception {
    return new ObjectMapper().writeValueAsBytes(Map.of("id", id, "text", text, "source", source));
  }

  @Test
  void shouldReportGaugesOfEveryClosedWindowToTheListener() {
    List<String> seen = new ArrayList<>();
    FakeScorer scorer = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of());
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-drift-gauges");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    PipelineConfig cfg = config();
    driver = new TopologyTestDriver(ToEditTopology.build(cfg, tokenizer, scorer, EditConfig.defaults(),
        new PipelineStats(), (source, stream, name, value) -> seen.add(source + "/" + stream + "/" + name)), p);
    observations = driver.createInputTopic(cfg.drift().observationsTopic(), new StringSerializer(),
        ObservationBatch.serde().serializer());
    pipe(T0, doc(SOURCE, StreamKind.RAW, T0, new int[] {1, 2, 3}, 1.0));
    pipe(T0 + 5 * MIN, doc(SOURCE, StreamKind.RAW, T0 + 5 * MIN, new int[] {1}, 1.0));
    assertEquals(List.of(SOURCE + "/raw/top1pct_bucket_share", SOURCE + "/raw/top40_bigram_share",
        SOURCE + "/raw/distinct2", SOURCE + "/raw/entropy2", SOURCE + "/raw/mean_nll", SOURCE + "/raw/edit_rate",
        SOURCE + "/raw/contaminated"), seen, "jsd, kl and contamination score are undefined without a reference");
  }

  @Test
  void shouldEmitAWindowStoredBeforeARestartExactlyOnce() throws Exception {
    // A persistent RocksDB store on disk, closed and reopened by a new processor: what Streams does
    // when an instance restarts with its state directory (the changelog covers a lost disk).
    DriftStreamConfig settings = config().drift();
    Path dir = java.nio.file.Files.createDirectories(stateDir.resolve("restart"));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-drift-restart");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");

    MockProcessorContext<String, Object> first = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
    var stores = openStores(first, settings);
    DriftProcessor before = new DriftProcessor(settings, null, tokenizer.vocabulary(), DriftListener.none());
    before.init(first);
    first.setCurrentStreamTimeMs(T0 + 2_000);
    ObservationBatch b = new ObservationBatch(SOURCE, StreamKind.RAW,
        List.of(doc(SOURCE, StreamKind.RAW, T0 + 1_000, new int[] {7, 8, 9}, 2.0),
            doc(SOURCE, StreamKind.RAW, T0 + 2_000, new int[] {7, 8}, 2.0)));
    before.process(new Record<>(b.key(), b, T0 + 2_000));
    assertTrue(first.forwarded().isEmpty());
    stores.forEach(s -> {
      s.flush();
      s.close();
    });

    MockProcessorContext<String, Object> second = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
    var reopened = openStores(second, settings);
    DriftProcessor after = new DriftProcessor(settings, null, tokenizer.vocabulary(), DriftListener.none());
    after.init(second);
    Record<String, ObservationBatch> next = new Record<>(b.key(), new ObservationBatch(SOURCE, StreamKind.RAW,
        List.of(doc(SOURCE, StreamKind.RAW, T0 + 3 * MIN, new int[] {1}, 2.0))), T0 + 3 * MIN);
    second.setCurrentStreamTimeMs(T0 + 3 * MIN);
    after.process(next);
    after.closeWindows(T0 + 3 * MIN);
    after.closeWindows(T0 + 4 * MIN);
    List<DriftWindow> emitted = second.forwarded().stream()
        .filter(f -> f.childName().orElseThrow().equals(DriftProcessor.DRIFT_SINK))
        .map(f -> (DriftWindow) f.record().value()).toList();
    assertEquals(1, emitted.size(), "window 0 once, window 3 still open");
    assertEquals(2, emitted.get(0).getDocuments());
    assertEquals(5, emitted.get(0).getTokens());
    assertEquals(2.0, emitted.get(0).getMeanNll(), 1e-6);
    reopened.forEach(s -> s.close());
  }

  static List<org.apache.kafka.streams.processor.StateStore> openStores(MockProcessorContext<String, Object> ctx,
      DriftStreamConfig settings) {
    WindowStore<String, byte[]> w = DriftProcessor.windowStore(settings).withLoggingDisabled().build();
    KeyValueStore<String, Long> idx = DriftProcessor.emittedStore().withLoggingDisabled().build();
    KeyValueStore<String, byte[]> ref = DriftProcessor.referenceStore().withLoggingDisabled().build();
    List<org.apache.kafka.streams.processor.StateStore> all = List.of(w, idx, ref);
    for (var s : all) {
      s.init(ctx.getStateStoreContext(), s);
      ctx.addStateStore(s);
    }
    return all;
  }

  @Test
  void shouldDeclarePersistentChangeloggedStoresWithConstantNames() {
    var supplier = new DriftProcessor.Supplier(DriftStreamConfig.defaults(), null, tokenizer.vocabulary(),
        DriftListener.none());
    Map<String, Boolean> logged = supplier.stores().stream()
        .collect(Collectors.toMap(s -> s.name(), s -> s.loggingEnabled()));
    assertEquals(Map.of(ToEditTopology.DRIFT_WINDOW_STORE, true, ToEditTopology.DRIFT_INDEX_STORE, true,
        ToEditTopology.DRIFT_REFERENCE_STORE, true), logged);
    WindowStore<String, byte[]> w = DriftProcessor.windowStore(DriftStreamConfig.defaults()).withLoggingDisabled().build();
    assertTrue(w.persistent(), "RocksDB");
  }

  @Test
  void shouldPartitionBothStreamsOfASourceTogether() {
    for (String source : List.of("a", "wiki-ü", "新闻", "x|y")) {
      assertEquals(ToEditTopology.driftPartition(ObservationBatch.key(source, StreamKind.RAW), 7),
          ToEditTopology.driftPartition(ObservationBatch.key(source, StreamKind.EDITED), 7));
    }
    assertEquals("x|y", ObservationBatch.sourceOf(ObservationBatch.key("x|y", StreamKind.EDITED)));
    assertArrayEquals(new StreamKind[] {StreamKind.EDITED},
        new StreamKind[] {ObservationBatch.streamOf("x|y|edited")});
  }
}
