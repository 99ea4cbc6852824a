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
 * <p>A stream-time punctuator closes windows: a window is closed once stream time reaches its end
 * plus grace. Each closed window is emitted exactly once to the drift topic (and its threshold
 * crossings to the alerts topic): the emitted-up-to watermark lives in the changelogged
 * {@link #INDEX_STORE} and commits in the same transaction as the output, so a restart neither
 * repeats nor skips a window. Documents of a window already emitted are late and dropped (counted,
 * logged at debug).
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

  private ProcessorContext<String, Object> context;
  private WindowStore<String, byte[]> windows;
  private KeyValueStore<String, Long> emitted;
  private KeyValueStore<String, byte[]> referenceWindows;
  private long lateDocuments;

  DriftProcessor(DriftStreamConfig settings, Reference fileReference, Vocabulary vocabulary, DriftListener listener) {
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
    context.schedule(Duration.ofMillis(settings.punctuateIntervalMs()), PunctuationType.STREAM_TIME, this::closeWindows);
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
    for (DocumentObservation doc : batch.documents()) {
      long t = doc.timestampMs();
      if (t < 0) {
        lateDocuments++;
        continue;
      }
      for (long start = t - Math.floorMod(t, advance); start > t - size && start >= 0; start -= advance) {
        if (start + size <= closedUpTo) {
          lateDocuments++;
          LOG.debug("Dropped a late document of {} at {} for the closed window starting {}", key, t, start);
          continue;
        }
        touched.computeIfAbsent(start, s -> load(key, s)).update(doc);
      }
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

  /** Emits, once, every window that ended at or before {@code streamTime - grace}. */
  void closeWindows(long streamTime) {
    long boundary = streamTime - settings.graceMs();
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

    public Supplier(DriftStreamConfig settings, Reference fileReference, Vocabulary vocabulary, DriftListener listener) {
      this.settings = settings;
      this.fileReference = fileReference;
      this.vocabulary = vocabulary;
      this.listener = listener;
    }

    @Override
    public Processor<String, ObservationBatch, String, Object> get() {
      return new DriftProcessor(settings, fileReference, vocabulary, listener);
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
