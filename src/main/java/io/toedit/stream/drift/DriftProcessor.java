package io.toedit.stream.drift;

import io.toedit.avro.DriftAlert;
import io.toedit.avro.DriftWindow;
import io.toedit.drift.DocumentObservation;
import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.SummaryConfig;
import io.toedit.drift.WindowSummary;
import io.toedit.text.Vocabulary;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Windowed drift aggregation of the observation batches of one task.
 *
 * <p>Each (source, stream) key is owned by one task (the observations topic is partitioned by
 * source, {@link #PARTITIONER}, so the raw and edited streams of one source meet in the same task
 * for the edited-vs-raw comparison). A batch is folded into every window its documents fall in
 * (event time: each document's own timestamp), one read-modify-write of the {@link #WINDOW_STORE}
 * per touched window. Windows are {@code [start, start + size)} with starts at multiples of the
 * advance.
 *
 * <p>Time ({@link DriftClock}): every input partition that writes observations (header
 * {@link #ORIGIN_HEADER}) has its own watermark, the latest document time it sent, kept in the
 * {@link #INDEX_STORE}, but never past the earliest document time that origin still has to send
 * ({@link #PENDING_HEADER}: a raw batch's edited twins, its buffered documents), so raw and edited
 * windows hold the same documents whatever the grace. A window closes once the minimum of these watermarks reaches its end plus
 * grace; a document time beyond the wall clock plus the tolerance is clamped to it for its window
 * and does not move the watermark; an origin
 * silent for the idle time advances with the wall clock, but not past the pending time its last batch
 * carried (for at most {@link DriftClock#pendingMaxMs}: a slow flush is busy, not idle), and documents
 * of a window closed meanwhile are late in both streams alike. A stream-time punctuator closes windows as
 * data arrives, a wall-clock punctuator when it stops. Each closed window is emitted exactly once to
 * the drift topic (and its threshold crossings to the alerts topic): the emitted-up-to watermark
 * lives in the changelogged {@link #INDEX_STORE} and commits in the same transaction as the output,
 * so a restart neither repeats nor skips a window. Documents of a window already emitted are late
 * and dropped: counted per source in the {@link #INDEX_STORE} (so {@code /api/drift} can show them)
 * and reported to {@link DriftListener#late} (metric {@code toedit_drift_late_documents_total}).
 */
public final class DriftProcessor implements Processor<String, ObservationBatch, String, Object> {

  /** Persistent (RocksDB), changelogged window store: key {@code source|stream}, value WindowSummary bytes. */
  public static final String WINDOW_STORE = "toedit-drift-windows";
  /**
   * Changelogged key-value store: the emitted-up-to watermark (window end, epoch ms) under
   * {@link #WATERMARK_KEY}, and the newest window start of every key under {@link #latestKey}.
   */
  public static final String INDEX_STORE = "toedit-drift-index";
  /** Changelogged key-value store of the windows kept for first-windows references. */
  public static final String REFERENCE_STORE = "toedit-drift-reference";
  public static final String DRIFT_SINK = "drift-sink";
  public static final String ALERTS_SINK = "alerts-sink";
  static final String WATERMARK_KEY = "emitted-up-to";
  static final String LATEST_PREFIX = "latest" + '\u0000';
  /** Index-store prefix of an origin's watermark (latest document time not clamped). */
  static final String ORIGIN_PREFIX = "origin" + '\u0000';
  /**
   * Index-store prefix of the pending time an origin's last batch carried ({@link #PENDING_HEADER}):
   * absent when nothing was pending.
   */
  static final String PENDING_PREFIX = "pending" + '\u0000';
  /** Index-store prefix of a source's count of late (dropped) documents. */
  public static final String LATE_PREFIX = "late" + '\u0000';
  /** Header of an observation batch: the input partition it comes from (decimal). */
  public static final String ORIGIN_HEADER = "toedit.origin";
  /**
   * Header of an observation batch: the earliest document time its origin will still send observations
   * for after this batch (decimal epoch ms: the edited twins of a raw batch, the documents still
   * buffered). The origin's watermark does not pass it. Absent: nothing pending (and records written
   * before the header existed).
   */
  public static final String PENDING_HEADER = "toedit.pending";
  static final String UNKNOWN_ORIGIN = "?";
  /** Between the key and the window index in {@link #REFERENCE_STORE} keys. */
  static final char REFERENCE_SEPARATOR = '\u0000';

  /** Partitions by source only, so both streams of a source are in one task. */
  public static final org.apache.kafka.streams.processor.StreamPartitioner<String, Object> PARTITIONER =
      new SourcePartitioner();

  private static final Logger LOG = LoggerFactory.getLogger(DriftProcessor.class);

  private final DriftStreamConfig settings;
  private final Reference fileReference;
  private final Vocabulary vocabulary;
  private final DriftListener listener;
  private final SummaryConfig summaryConfig;
  private final Map<String, Reference> references = new HashMap<>();
  private final DriftClock clock;
  /** Origin → its watermark (mirrors the index store) and the wall clock of its last batch. */
  private final Map<String, Long> originWatermarks = new HashMap<>();
  private final Map<String, Long> originLastSeen = new HashMap<>();
  /** Origin → the pending time its last batch carried (mirrors the index store); absent: none. */
  private final Map<String, Long> originPending = new HashMap<>();
  /** Wall-clock time of {@link #init}: origins expected but not seen yet wait from then. */
  private long initMs;

  private ProcessorContext<String, Object> context;
  private WindowStore<String, byte[]> windows;
  private KeyValueStore<String, Long> emitted;
  private KeyValueStore<String, byte[]> referenceWindows;
  private long lateDocuments;

  DriftProcessor(DriftStreamConfig settings, Reference fileReference, Vocabulary vocabulary, DriftListener listener) {
    this(settings, fileReference, vocabulary, listener, DriftClock.EVENT_TIME_ONLY);
  }

  DriftProcessor(DriftStreamConfig settings, Reference fileReference, Vocabulary vocabulary, DriftListener listener,
      DriftClock clock) {
    this.clock = clock;
    this.settings = settings;
    this.fileReference = fileReference;
    this.vocabulary = vocabulary;
    this.listener = listener;
    this.summaryConfig = settings.summaryConfig();
  }

  static StoreBuilder<WindowStore<String, byte[]>> windowStore(DriftStreamConfig s) {
    return Stores.windowStoreBuilder(Stores.persistentWindowStore(WINDOW_STORE, Duration.ofMillis(s.retentionMs()),
        Duration.ofMillis(s.windowSizeMs()), false), Serdes.String(), Serdes.ByteArray()).withLoggingEnabled(Map.of());
  }

  static StoreBuilder<KeyValueStore<String, Long>> emittedStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(INDEX_STORE), Serdes.String(), Serdes.Long())
        .withLoggingEnabled(Map.of());
  }

  static StoreBuilder<KeyValueStore<String, byte[]>> referenceStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REFERENCE_STORE), Serdes.String(),
        Serdes.ByteArray()).withLoggingEnabled(Map.of());
  }

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    this.windows = context.getStateStore(WINDOW_STORE);
    this.emitted = context.getStateStore(INDEX_STORE);
    this.referenceWindows = context.getStateStore(REFERENCE_STORE);
    long now = now();
    initMs = now;
    try (KeyValueIterator<String, Long> it = emitted.prefixScan(ORIGIN_PREFIX, new StringSerializer())) {
      while (it.hasNext()) {
        var kv = it.next();
        String origin = kv.key.substring(ORIGIN_PREFIX.length());
        originWatermarks.put(origin, kv.value);
        originLastSeen.put(origin, now);
      }
    }
    try (KeyValueIterator<String, Long> it = emitted.prefixScan(PENDING_PREFIX, new StringSerializer())) {
      while (it.hasNext()) {
        var kv = it.next();
        originPending.put(kv.key.substring(PENDING_PREFIX.length()), kv.value);
      }
    }
    context.schedule(Duration.ofMillis(settings.punctuateIntervalMs()), PunctuationType.STREAM_TIME,
        t -> closeWindowsAt(now()));
    context.schedule(Duration.ofMillis(settings.punctuateIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
        this::closeWindowsAt);
  }

  /** The wall clock, when the clock settings use it (event time alone needs none). */
  private long now() {
    return clock.futureToleranceMs() < 0 && clock.idleMs() < 0 ? 0 : context.currentSystemTimeMs();
  }

  /** Closes what the origins' watermarks allow at wall-clock time {@code nowMs}. */
  private void closeWindowsAt(long nowMs) {
    Long w = watermark(nowMs);
    if (w != null) {
      closeWindows(w);
    }
  }

  /**
   * The minimum over the origins of their watermark, each advanced by its idle wall-clock time once
   * that exceeds {@code idleMs}, and never beyond the wall clock plus the tolerance, nor (for
   * {@code pendingMaxMs} of silence) beyond the pending time its last batch carried; {@code null}
   * before any origin was seen, and while an expected origin ({@link DriftClock#origins}) has not been
   * seen and has not been silent for {@code idleMs} since {@link #init}.
   */
  Long watermark(long nowMs) {
    // An expected origin not seen yet holds every window (it may still send documents of any of them),
    // until it has been silent for the idle time since this processor started.
    for (int o = 0; o < clock.origins(); o++) {
      if (!originWatermarks.containsKey(Integer.toString(o))
          && (clock.idleMs() < 0 || nowMs - initMs < clock.idleMs())) {
        return null;
      }
    }
    Long min = null;
    for (Map.Entry<String, Long> e : originWatermarks.entrySet()) {
      long w = e.getValue();
      long idle = nowMs - originLastSeen.getOrDefault(e.getKey(), nowMs);
      if (clock.idleMs() >= 0 && idle >= clock.idleMs()) {
        long advanced = clock.futureToleranceMs() >= 0 ? Math.min(w + idle, nowMs + clock.futureToleranceMs())
            : w + idle;
        // Busy, not idle: the origin said it still has documents of this time to send (a slow flush).
        Long pending = originPending.get(e.getKey());
        if (pending != null && idle < clock.pendingMaxMs()) {
          advanced = Math.min(advanced, pending);
        }
        w = Math.max(w, advanced);
      }
      min = min == null ? w : Math.min(min, w);
    }
    return min;
  }

  @Override
  public void process(Record<String, ObservationBatch> record) {
    ObservationBatch batch = record.value();
    if (batch == null || batch.documents().isEmpty()) {
      return;
    }
    String key = batch.key();
    long size = settings.windowSizeMs();
    long advance = settings.effectiveAdvanceMs();
    // Closed = already emitted. Not "stream time - grace": this record's own timestamp (the latest
    // of its documents) already counts in stream time, and must not make its earlier documents late.
    Long emittedUpTo = emitted.get(WATERMARK_KEY);
    long closedUpTo = emittedUpTo == null ? Long.MIN_VALUE : emittedUpTo;
    Map<Long, WindowSummary> touched = new TreeMap<>();
    long now = now();
    long latestAllowed = clock.futureToleranceMs() >= 0 ? now + clock.futureToleranceMs() : Long.MAX_VALUE;
    long newestTime = Long.MIN_VALUE;
    long late = 0;
    for (DocumentObservation doc : batch.documents()) {
      // A time beyond the wall clock plus the tolerance is clamped for its window, and does not move
      // the watermark (its real time is unknown): a clock far ahead cannot close every window.
      boolean clamped = doc.timestampMs() > latestAllowed;
      long t = clamped ? latestAllowed : doc.timestampMs();
      if (t < 0) {
        late++;
        continue;
      }
      if (!clamped) {
        newestTime = Math.max(newestTime, t);
      }
      boolean counted = false;
      for (long start = t - Math.floorMod(t, advance); start > t - size && start >= 0; start -= advance) {
        if (start + size <= closedUpTo) {
          if (!counted) {
            late++;
            counted = true;
          }
          LOG.debug("Dropped a late document of {} at {} for the closed window starting {}", key, t, start);
          continue;
        }
        touched.computeIfAbsent(start, s -> load(key, s)).update(doc);
      }
    }
    if (late > 0) {
      lateDocuments += late;
      if (batch.stream() == StreamKind.RAW) { // each document is observed raw and edited: count it once
        String lateKey = LATE_PREFIX + batch.source();
        Long before = emitted.get(lateKey);
        emitted.put(lateKey, (before == null ? 0 : before) + late);
        listener.late(batch.source(), late);
      }
    }
    // The watermark moves to the newest document time, but not past what the origin still has pending:
    // a raw batch's edited twins follow it, and a window closed in between would drop them as late.
    Long pending = pending(record);
    if (newestTime != Long.MIN_VALUE && pending != null) {
      newestTime = Math.min(newestTime, pending);
    }
    String origin = origin(record);
    Long pendingBefore = originPending.get(origin);
    if (pending == null ? pendingBefore != null : !pending.equals(pendingBefore)) {
      if (pending == null) {
        originPending.remove(origin);
        emitted.delete(PENDING_PREFIX + origin);
      } else {
        originPending.put(origin, pending);
        emitted.put(PENDING_PREFIX + origin, pending);
      }
    }
    if (newestTime != Long.MIN_VALUE) {
      Long before = originWatermarks.get(origin);
      if (before == null || before < newestTime) {
        originWatermarks.put(origin, newestTime);
        emitted.put(ORIGIN_PREFIX + origin, newestTime);
      }
      originLastSeen.put(origin, now);
    }
    for (Map.Entry<Long, WindowSummary> e : touched.entrySet()) {
      windows.put(key, e.getValue().toByteArray(), e.getKey());
    }
    if (!touched.isEmpty()) {
      long newest = ((TreeMap<Long, WindowSummary>) touched).lastKey();
      Long latest = emitted.get(latestKey(key));
      if (latest == null || latest < newest) {
        emitted.put(latestKey(key), newest);
      }
    }
    // The watermark may have moved: close now rather than at the next punctuation. Only after the
    // edited batch, which follows the raw batch of the same documents: closing after the raw one
    // could make its own edited twin late.
    if (batch.stream() == StreamKind.EDITED) {
      closeWindowsAt(now);
    }
  }

  private static String origin(Record<String, ObservationBatch> record) {
    var h = record.headers() == null ? null : record.headers().lastHeader(ORIGIN_HEADER);
    return h == null || h.value() == null ? UNKNOWN_ORIGIN
        : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The {@link #PENDING_HEADER} of {@code record}, {@code null} when absent or unreadable. */
  private static Long pending(Record<String, ObservationBatch> record) {
    var h = record.headers() == null ? null : record.headers().lastHeader(PENDING_HEADER);
    if (h == null || h.value() == null) {
      return null;
    }
    try {
      return Long.parseLong(new String(h.value(), java.nio.charset.StandardCharsets.UTF_8));
    } catch (NumberFormatException e) {
      LOG.warn("Ignored an unreadable {} header of an observation batch of {}", PENDING_HEADER,
          record.value().key());
      return null;
    }
  }

  /** Index-store key of the newest window start of {@code key}. */
  static String latestKey(String key) {
    return LATEST_PREFIX + key;
  }

  /** Documents dropped because their window had closed (since this processor started). */
  long lateDocuments() {
    return lateDocuments;
  }

  private WindowSummary load(String key, long start) {
    byte[] bytes = windows.fetch(key, start);
    return bytes == null ? new WindowSummary(summaryConfig) : WindowSummary.fromBytes(bytes);
  }

  /** Emits, once, every window that ended at or before {@code watermark - grace}. */
  void closeWindows(long watermark) {
    long boundary = watermark - settings.graceMs();
    Long done = emitted.get(WATERMARK_KEY);
    if (done != null && boundary <= done) {
      return;
    }
    long size = settings.windowSizeMs();
    long fromStart = done == null ? 0 : Math.max(0, done - size + 1);
    long toStart = boundary - size;
    List<KeyValue<Windowed<String>, byte[]>> closed = new ArrayList<>();
    if (toStart >= fromStart) {
      try (KeyValueIterator<Windowed<String>, byte[]> it = windows.fetchAll(Instant.ofEpochMilli(fromStart),
          Instant.ofEpochMilli(toStart))) {
        while (it.hasNext()) {
          closed.add(it.next());
        }
      }
    }
    // Oldest first; raw before edited, so first-windows references fill in time order.
    closed.sort(Comparator.<KeyValue<Windowed<String>, byte[]>>comparingLong(kv -> kv.key.window().start())
        .thenComparing(kv -> kv.key.key()));
    for (KeyValue<Windowed<String>, byte[]> kv : closed) {
      emit(kv.key.key(), kv.key.window().start(), WindowSummary.fromBytes(kv.value));
    }
    emitted.put(WATERMARK_KEY, boundary);
  }

  private void emit(String key, long start, WindowSummary summary) {
    long end = start + settings.windowSizeMs();
    StreamKind stream = ObservationBatch.streamOf(key);
    String source = ObservationBatch.sourceOf(key);
    String pairKey = ObservationBatch.key(source, stream == StreamKind.RAW ? StreamKind.EDITED : StreamKind.RAW);
    byte[] pairBytes = windows.fetch(pairKey, start);
    WindowSummary pair = pairBytes == null ? null : WindowSummary.fromBytes(pairBytes);
    boolean ownHistory = settings.referenceMode().equals(DriftStreamConfig.MODE_FIRST_WINDOWS)
        || settings.referenceMode().equals(DriftStreamConfig.MODE_PAIRED_RAW) && stream == StreamKind.RAW;
    Reference reference = ownHistory ? references.get(key) : null;
    if (reference == null) {
      reference = DriftReferences.reference(settings, fileReference, key, start, this::cachedFirstWindows,
          (k, s) -> windows.fetch(k, s));
      if (ownHistory && reference != null) {
        references.put(key, reference);
      }
    }
    DriftWindow w = DriftWindows.compute(key, start, end, summary, reference, pair, settings, vocabulary);
    context.forward(new Record<>(key, (Object) w, end - 1), DRIFT_SINK);
    DriftGauges.gauges(w).forEach((name, value) -> listener.drift(source, w.getStream(), name, value));
    alerts(key, w);
    if (reference == null && ownHistory) {
      keepForReference(key, summary);
    }
  }

  private void alerts(String key, DriftWindow w) {
    if (w.getJsd() != null && w.getJsd() > settings.alertJsd()) {
      alert(key, w, "jsd", w.getJsd(), settings.alertJsd(), String.format(Locale.ROOT,
          "JSD to the reference (%s) is %.4f, above %.4f", w.getReference(), w.getJsd(), settings.alertJsd()));
    }
    if (w.getStream().equals("edited") && w.getEditedVsRawJsd() != null
        && w.getEditedVsRawJsd() > settings.alertEditedVsRawJsd()) {
      alert(key, w, "edited_vs_raw_jsd", w.getEditedVsRawJsd(), settings.alertEditedVsRawJsd(), String.format(
          Locale.ROOT, "editing moved the n-gram distribution: edited-vs-raw JSD %.4f is above %.4f",
          w.getEditedVsRawJsd(), settings.alertEditedVsRawJsd()));
    }
    if (w.getContaminated()) {
      alert(key, w, "synthetic_fraction_low", orNaN(w.getSyntheticFractionLow()), settings.alertSyntheticMinFraction(),
          String.format(Locale.ROOT, "possible synthetic text: estimated fraction %.2f [%.2f, %.2f], excess p %.2g,"
              + " KS p %.2g, n-gram p %.2g (reference %s)", orNaN(w.getSyntheticFraction()),
              orNaN(w.getSyntheticFractionLow()), orNaN(w.getSyntheticFractionHigh()), orNaN(w.getExcessPValue()),
              orNaN(w.getNllKsPValue()), orNaN(w.getNgramPValue()), w.getReference()));
    }
  }

  private static double orNaN(Double v) {
    return v == null ? Double.NaN : v;
  }

  private void alert(String key, DriftWindow w, String metric, double value, double threshold, String message) {
    DriftAlert a = DriftAlert.newBuilder().setSource(w.getSource()).setStream(w.getStream())
        .setWindowStart(w.getWindowStart()).setWindowEnd(w.getWindowEnd()).setMetric(metric).setValue(value)
        .setThreshold(threshold).setMessage(message).build();
    context.forward(new Record<>(key, (Object) a, w.getWindowEnd() - 1), ALERTS_SINK);
  }

  private List<byte[]> cachedFirstWindows(String key) {
    return storedReferenceWindows(referenceWindows, key);
  }

  /** The windows kept for the first-windows reference of {@code key}, oldest first. */
  static List<byte[]> storedReferenceWindows(
      org.apache.kafka.streams.state.ReadOnlyKeyValueStore<String, byte[]> store, String key) {
    List<byte[]> out = new ArrayList<>();
    try (KeyValueIterator<String, byte[]> it = store.prefixScan(key + REFERENCE_SEPARATOR, new StringSerializer())) {
      while (it.hasNext()) {
        out.add(it.next().value);
      }
    }
    return out;
  }

  private void keepForReference(String key, WindowSummary summary) {
    int kept = storedReferenceWindows(referenceWindows, key).size();
    if (kept < settings.referenceWindows()) {
      referenceWindows.put(key + REFERENCE_SEPARATOR + String.format(Locale.ROOT, "%08d", kept),
          summary.toByteArray());
    }
  }

  public static final class Supplier implements ProcessorSupplier<String, ObservationBatch, String, Object> {
    private final DriftStreamConfig settings;
    private final Reference fileReference;
    private final Vocabulary vocabulary;
    private final DriftListener listener;
    private final DriftClock clock;

    public Supplier(DriftStreamConfig settings, Reference fileReference, Vocabulary vocabulary, DriftListener listener) {
      this(settings, fileReference, vocabulary, listener, DriftClock.EVENT_TIME_ONLY);
    }

    public Supplier(DriftStreamConfig settings, Reference fileReference, Vocabulary vocabulary, DriftListener listener,
        DriftClock clock) {
      this.settings = settings;
      this.fileReference = fileReference;
      this.vocabulary = vocabulary;
      this.listener = listener;
      this.clock = clock;
    }

    @Override
    public Processor<String, ObservationBatch, String, Object> get() {
      return new DriftProcessor(settings, fileReference, vocabulary, listener, clock);
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return Set.of(windowStore(settings), emittedStore(), referenceStore());
    }
  }

  private static final class SourcePartitioner
      implements org.apache.kafka.streams.processor.StreamPartitioner<String, Object> {
    @Override
    public java.util.Optional<Set<Integer>> partitions(String topic, String key, Object value, int numPartitions) {
      return java.util.Optional.of(Set.of(partitionOf(key, numPartitions)));
    }
  }

  /** The observations-topic partition of a {@code source|stream} key: by source alone. */
  public static int partitionOf(String key, int numPartitions) {
    byte[] source = ObservationBatch.sourceOf(key).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(source))
        % numPartitions;
  }
}
