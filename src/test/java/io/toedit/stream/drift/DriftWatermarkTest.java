package io.toedit.stream.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.DriftWindow;
import io.toedit.drift.DocumentObservation;
import io.toedit.drift.StreamKind;
import io.toedit.edit.EditConfig;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.stream.AvroSerde;
import io.toedit.model.FakeScorer;
import io.toedit.serve.PipelineMetrics;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.ToEditTopology;
import io.toedit.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift processor's time: one watermark per input partition (windows close on the minimum),
 * document times clamped to the wall clock plus a tolerance, late documents counted per source, and
 * idle windows closed by wall-clock time. Windows of 60 s, grace 10 s, tolerance 5 s, idle 20 s.
 */
class DriftWatermarkTest {

  static final long T0 = Instant.parse("2026-11-25T10:00:00Z").toEpochMilli();
  static final String SOURCE = "news-ß";
  static TextTokenizer tokenizer;

  @TempDir
  Path stateDir;

  TopologyTestDriver driver;
  TestInputTopic<String, ObservationBatch> observations;
  TestOutputTopic<String, DriftWindow> drift;
  final Map<String, Long> late = new ConcurrentHashMap<>();
  final PipelineMetrics metrics = new PipelineMetrics();

  @BeforeAll
  static void openTokenizer() {
    tokenizer = Models.openTokenizer(ModelSettings.defaults());
  }

  @AfterAll
  static void closeTokenizer() {
    tokenizer.close();
  }

  @AfterEach
  void close() {
    if (driver != null) {
      driver.close();
    }
  }

  void start() {
    start(20_000);
  }

  void start(long idleMs) {
    start(idleMs, 0);
  }

  void start(long idleMs, int origins) {
    start(idleMs, origins, DriftClock.DEFAULT_PENDING_MAX_MS);
  }

  void start(long idleMs, int origins, long pendingMaxMs) {
    PipelineConfig cfg = PipelineConfig.defaults().with("toedit.drift.future.tolerance.ms", "5000")
        .with("toedit.drift.idle.ms", Long.toString(idleMs)).with("toedit.drift.punctuate.interval.ms", "1000")
        .with("toedit.drift.origins", Integer.toString(origins))
        .with("toedit.drift.pending.max.ms", Long.toString(pendingMaxMs));
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-drift-watermark-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    DriftListener listener = new DriftListener() {
      @Override
      public void drift(String source, String stream, String name, double value) {
      }

      @Override
      public void late(String source, long documents) {
        late.merge(source, documents, Long::sum);
        metrics.late(source, documents);
      }
    };
    driver = new TopologyTestDriver(ToEditTopology.build(cfg, tokenizer,
        FakeScorer.everyNth(tokenizer.vocabulary().size(), 3, Set.of()), EditConfig.defaults(),
        new io.toedit.stream.PipelineStats(), listener), p, Instant.ofEpochMilli(T0));
    observations = driver.createInputTopic(cfg.drift().observationsTopic(), new StringSerializer(),
        ObservationBatch.serde().serializer());
    drift = driver.createOutputTopic(cfg.drift().driftTopic(), new StringDeserializer(),
        AvroSerde.of(DriftWindow.class).deserializer());
  }

  /** A raw and an edited batch of one document at {@code ts}, from input partition {@code origin}. */
  void pipe(int origin, long ts) {
    for (StreamKind stream : List.of(StreamKind.RAW, StreamKind.EDITED)) {
      DocumentObservation d = DriftTopologyTest.doc(SOURCE, stream, ts, new int[] {5, 6, 7}, 1.0);
      ObservationBatch b = new ObservationBatch(SOURCE, stream, List.of(d));
      RecordHeaders h = new RecordHeaders();
      h.add(DriftProcessor.ORIGIN_HEADER, Integer.toString(origin).getBytes(StandardCharsets.UTF_8));
      observations.pipeInput(new TestRecord<>(b.key(), b, h, Math.min(ts, Long.MAX_VALUE)));
    }
  }

  /** One batch of documents at {@code times} from {@code origin}, with a pending header when given. */
  void pipeBatch(int origin, StreamKind stream, Long pending, long... times) {
    List<DocumentObservation> docs = java.util.Arrays.stream(times)
        .mapToObj(ts -> DriftTopologyTest.doc(SOURCE, stream, ts, new int[] {5, 6, 7}, 1.0)).toList();
    ObservationBatch b = new ObservationBatch(SOURCE, stream, docs);
    RecordHeaders h = new RecordHeaders();
    h.add(DriftProcessor.ORIGIN_HEADER, Integer.toString(origin).getBytes(StandardCharsets.UTF_8));
    if (pending != null) {
      h.add(DriftProcessor.PENDING_HEADER, Long.toString(pending).getBytes(StandardCharsets.UTF_8));
    }
    observations.pipeInput(new TestRecord<>(b.key(), b, h, b.maxTimestamp()));
  }

  List<DriftWindow> windows(String stream) {
    return drift.readValuesToList().stream().filter(w -> w.getStream().equals(stream)).toList();
  }

  List<DriftWindow> rawWindows() {
    return drift.readValuesToList().stream().filter(w -> w.getStream().equals("raw")).toList();
  }

  @Test
  void shouldClampAFarFutureTimestampSoLaterTrafficIsNotLate() {
    start();
    pipe(0, Instant.parse("2100-01-01T00:00:00Z").toEpochMilli()); // a producer with a wrong clock
    for (int i = 1; i <= 5; i++) {
      pipe(0, T0 + i * 1000L);
    }
    assertEquals(Map.of(), late, "no document after the far-future one is late");
    // Traffic stops; the wall clock moves on: the idle origin advances and the window closes.
    driver.advanceWallClockTime(Duration.ofSeconds(100));
    List<DriftWindow> windows = rawWindows();
    assertEquals(1, windows.size());
    assertEquals(T0, windows.get(0).getWindowStart());
    assertEquals(6, windows.get(0).getDocuments(), "the clamped document (at T0+5 s) and the five others");
  }

  @Test
  void shouldNotLetAClampedTimestampMoveTheWatermarkWhenProcessingLags() {
    start(600_000);
    driver.advanceWallClockTime(Duration.ofSeconds(100)); // processing lags 100 s behind the producers
    pipe(0, T0 + 1_000);
    pipe(0, Instant.parse("2100-01-01T00:00:00Z").toEpochMilli()); // clamped to T0+105 s
    pipe(0, T0 + 2_000); // still on time: the clamped document did not move the watermark
    assertEquals(Map.of(), late);
    assertEquals(List.of(), rawWindows());
  }

  @Test
  void shouldCloseAWindowOnlyWhenEveryPartitionHasPassedIt() {
    start(600_000); // no idle advance in this test
    pipe(0, T0 + 1_000);
    pipe(1, T0 + 2_000);
    driver.advanceWallClockTime(Duration.ofSeconds(80)); // document times up to T0+85 s are not clamped
    pipe(0, T0 + 75_000); // partition 0 is past window 0's end + grace, partition 1 is not
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertEquals(List.of(), rawWindows(), "partition 1 still at T0+2 s keeps window 0 open");
    pipe(1, T0 + 30_000); // on time for window 0, though partition 0 is far ahead
    pipe(1, T0 + 71_000);
    List<DriftWindow> windows = rawWindows();
    assertEquals(1, windows.size());
    assertEquals(3, windows.get(0).getDocuments());
    assertEquals(Map.of(), late);
  }

  /**
   * Observation batches of two partitions interleave: partition 0's raw batch of a micro-batch that
   * straddles window 0's end + grace (50 and 75 s; its edited twins still pending, says its header) is
   * read, then partition 1's raw and edited batches, also past it. The window must wait for partition
   * 0's edited twins, else the one at 50 s would count in the raw window only.
   */
  @Test
  void shouldNotCloseAWindowBetweenARawBatchAndItsPendingEditedTwin() {
    start(600_000);
    driver.advanceWallClockTime(Duration.ofSeconds(80)); // document times up to T0+85 s are not clamped
    pipeBatch(0, StreamKind.RAW, T0 + 50_000, T0 + 50_000, T0 + 75_000); // twins at 50 and 75 s to come
    pipeBatch(1, StreamKind.RAW, null, T0 + 2_000, T0 + 76_000);
    pipeBatch(1, StreamKind.EDITED, null, T0 + 2_000, T0 + 76_000);
    driver.advanceWallClockTime(Duration.ofSeconds(1));
    assertEquals(List.of(), drift.readValuesToList(), "partition 0 is at 50 s until its twins come");
    pipeBatch(0, StreamKind.EDITED, null, T0 + 50_000, T0 + 75_000); // now both partitions are past 70 s
    Map<String, Long> documents = new java.util.HashMap<>();
    for (DriftWindow w : drift.readValuesToList()) {
      documents.put(w.getStream() + "@" + (w.getWindowStart() - T0), w.getDocuments());
    }
    assertEquals(Map.of("raw@0", 2L, "edited@0", 2L), documents);
    assertEquals(Map.of(), late);
  }

  /**
   * Two input partitions expected: partition 0 alone passes window 0's end + grace while partition 1
   * has sent nothing yet. The window waits for partition 1 (whose documents of window 0 would
   * otherwise be late), and closes once both have passed it.
   */
  @Test
  void shouldWaitForAnExpectedPartitionNotSeenYet() {
    start(600_000, 2);
    driver.advanceWallClockTime(Duration.ofSeconds(80)); // document times up to T0+85 s are not clamped
    pipe(0, T0 + 1_000);
    pipe(0, T0 + 75_000); // partition 0 is past window 0's end + grace
    assertEquals(List.of(), rawWindows(), "partition 1 may still send documents of window 0");
    pipe(1, T0 + 4_000); // partition 1, first seen: on time
    assertEquals(Map.of(), late);
    pipe(1, T0 + 76_000);
    Map<String, Long> documents = new java.util.HashMap<>();
    for (DriftWindow w : drift.readValuesToList()) {
      documents.put(w.getStream() + "@" + (w.getWindowStart() - T0), w.getDocuments());
    }
    assertEquals(Map.of("raw@0", 2L, "edited@0", 2L), documents);
  }

  /** An expected partition that sends nothing holds the windows only for the idle time since the start. */
  @Test
  void shouldStopWaitingForAnExpectedPartitionSilentForTheIdleTime() {
    start(100_000, 2);
    driver.advanceWallClockTime(Duration.ofSeconds(80));
    pipe(0, T0 + 1_000);
    pipe(0, T0 + 75_000);
    assertEquals(List.of(), rawWindows());
    driver.advanceWallClockTime(Duration.ofSeconds(21)); // 101 s since the start: partition 1 counts as idle
    List<DriftWindow> windows = rawWindows();
    assertEquals(1, windows.size());
    assertEquals(1, windows.get(0).getDocuments());
  }

  @Test
  void shouldCountLateDocumentsPerSourceOnce() {
    start();
    pipe(0, T0 + 1_000);
    driver.advanceWallClockTime(Duration.ofSeconds(90));
    pipe(0, T0 + 90_000); // closes window 0 (if the idle advance has not yet)
    pipe(0, T0 + 2_000); // late: window 0 was emitted
    assertEquals(Map.of(SOURCE, 1L), late, "counted once, not once per stream");
    assertEquals(1, rawWindows().size());
  }

  @Test
  void shouldCloseTheLastWindowByWallClockWhenTrafficStops() {
    start();
    pipe(0, T0 + 1_000);
    pipe(0, T0 + 2_000);
    driver.advanceWallClockTime(Duration.ofSeconds(10));
    assertEquals(List.of(), rawWindows(), "not idle yet (20 s)");
    driver.advanceWallClockTime(Duration.ofSeconds(80));
    List<DriftWindow> windows = rawWindows();
    assertEquals(1, windows.size(), "closed without new traffic");
    assertEquals(2, windows.get(0).getDocuments());
    assertTrue(windows.get(0).getWindowEnd() <= T0 + 90_000);
  }

  /**
   * A slow flush: partition 0's last batch said a document of T0+2 s is still to come (buffered, being
   * scored), then the partition is silent for 100 s, five times the idle time. It is busy, not idle:
   * window 0 waits for that document, which is counted in both streams, not late.
   */
  @Test
  void shouldHoldTheWindowForAPartitionSilentDuringASlowFlushOfItsPendingDocuments() {
    start();
    pipeBatch(0, StreamKind.RAW, T0 + 1_000, T0 + 1_000);
    pipeBatch(0, StreamKind.EDITED, T0 + 2_000, T0 + 1_000); // T0+2 s is buffered, its flush is slow
    driver.advanceWallClockTime(Duration.ofSeconds(100));
    assertEquals(List.of(), drift.readValuesToList(), "the pending document of T0+2 s holds window 0");
    pipeBatch(0, StreamKind.RAW, T0 + 2_000, T0 + 2_000); // the slow flush is done
    pipeBatch(0, StreamKind.EDITED, null, T0 + 2_000);
    driver.advanceWallClockTime(Duration.ofSeconds(80)); // nothing pending now: idle, past 70 s
    Map<String, Long> documents = new java.util.HashMap<>();
    for (DriftWindow w : drift.readValuesToList()) {
      documents.put(w.getStream() + "@" + (w.getWindowStart() - T0), w.getDocuments());
    }
    assertEquals(Map.of("raw@0", 2L, "edited@0", 2L), documents);
    assertEquals(Map.of(), late);
  }

  /**
   * The hold is bounded: pending documents that do not come within {@code toedit.drift.pending.max.ms}
   * of silence (dead-lettered, a flush slower still) no longer hold the window. If they come after it
   * closed they are late, left out of both streams alike, and counted once: in the
   * {@code toedit_drift_late_documents_total} counter and in the index store {@code /api/drift} reads
   * its {@code lateDocuments} from.
   */
  @Test
  void shouldCountAndExportDocumentsOfAFlushSlowerThanThePendingHold() {
    start(20_000, 0, 60_000);
    pipeBatch(0, StreamKind.RAW, T0 + 1_000, T0 + 1_000);
    pipeBatch(0, StreamKind.EDITED, T0 + 2_000, T0 + 1_000);
    driver.advanceWallClockTime(Duration.ofSeconds(50));
    assertEquals(List.of(), drift.readValuesToList(), "held: silent 50 s, under the 60 s hold");
    driver.advanceWallClockTime(Duration.ofSeconds(50));
    Map<String, Long> documents = new java.util.HashMap<>();
    for (DriftWindow w : drift.readValuesToList()) {
      documents.put(w.getStream() + "@" + (w.getWindowStart() - T0), w.getDocuments());
    }
    assertEquals(Map.of("raw@0", 1L, "edited@0", 1L), documents, "closed after the hold, without T0+2 s");
    pipeBatch(0, StreamKind.RAW, T0 + 2_000, T0 + 2_000, T0 + 101_000);
    pipeBatch(0, StreamKind.EDITED, null, T0 + 2_000, T0 + 101_000);
    assertEquals(Map.of(SOURCE, 1L), late, "late in both streams, counted once");
    org.apache.kafka.streams.state.KeyValueStore<String, Long> index =
        driver.getKeyValueStore(DriftProcessor.INDEX_STORE);
    assertEquals(1L, index.get(DriftProcessor.LATE_PREFIX + SOURCE), "what /api/drift shows as lateDocuments");
    assertTrue(metrics.registry().scrape().contains("toedit_drift_late_documents_total{source=\"news-ß\"} 1.0"),
        metrics.registry().scrape());
    driver.advanceWallClockTime(Duration.ofSeconds(100));
    documents.clear();
    for (DriftWindow w : drift.readValuesToList()) {
      documents.put(w.getStream() + "@" + (w.getWindowStart() - T0), w.getDocuments());
    }
    assertEquals(Map.of("raw@60000", 1L, "edited@60000", 1L), documents, "the next window, on time");
  }

  /**
   * The hold survives a restart: what an origin has pending is in the changelogged index store, so a
   * processor restarted during a slow flush (the restored buffer is scored again) still holds the
   * window for those documents instead of treating the origin as idle.
   */
  @Test
  void shouldKeepThePendingHoldAcrossARestart() throws Exception {
    DriftStreamConfig settings = PipelineConfig.defaults().drift();
    DriftClock clock = new DriftClock(5_000, 20_000, 0, DriftClock.DEFAULT_PENDING_MAX_MS);
    Path dir = java.nio.file.Files.createDirectories(stateDir.resolve("restart"));
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-drift-pending-restart");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    var first = new org.apache.kafka.streams.processor.api.MockProcessorContext<String, Object>(props,
        new org.apache.kafka.streams.processor.TaskId(0, 0), dir.toFile());
    first.setCurrentSystemTimeMs(T0);
    var stores = DriftTopologyTest.openStores(first, settings);
    DriftProcessor before = new DriftProcessor(settings, null, tokenizer.vocabulary(), DriftListener.none(), clock);
    before.init(first);
    ObservationBatch b = new ObservationBatch(SOURCE, StreamKind.EDITED,
        List.of(DriftTopologyTest.doc(SOURCE, StreamKind.EDITED, T0 + 1_000, new int[] {5, 6, 7}, 1.0)));
    RecordHeaders h = new RecordHeaders();
    h.add(DriftProcessor.ORIGIN_HEADER, "0".getBytes(StandardCharsets.UTF_8));
    h.add(DriftProcessor.PENDING_HEADER, Long.toString(T0 + 2_000).getBytes(StandardCharsets.UTF_8));
    before.process(new org.apache.kafka.streams.processor.api.Record<>(b.key(), b, T0 + 1_000, h));
    stores.forEach(s -> {
      s.flush();
      s.close();
    });

    var second = new org.apache.kafka.streams.processor.api.MockProcessorContext<String, Object>(props,
        new org.apache.kafka.streams.processor.TaskId(0, 0), dir.toFile());
    second.setCurrentSystemTimeMs(T0 + 10_000);
    var reopened = DriftTopologyTest.openStores(second, settings);
    DriftProcessor after = new DriftProcessor(settings, null, tokenizer.vocabulary(), DriftListener.none(), clock);
    after.init(second);
    try {
      assertEquals(T0 + 2_000, after.watermark(T0 + 110_000), "silent 100 s, held at the pending T0+2 s");
    } finally {
      reopened.forEach(org.apache.kafka.streams.processor.StateStore::close);
    }
  }
}
