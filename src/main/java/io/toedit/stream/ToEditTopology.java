package io.toedit.stream;

import io.toedit.avro.DriftAlert;
import io.toedit.avro.DriftWindow;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.stream.drift.DriftListener;
import io.toedit.stream.drift.DriftProcessor;
import io.toedit.stream.drift.DriftStreamConfig;
import io.toedit.stream.drift.DriftReferences;
import io.toedit.stream.drift.ObservationBatch;
import io.toedit.text.TextTokenizer;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The ToEdit pipeline as a Kafka Streams {@link Topology}:
 *
 * <pre>
 *   input (bytes) → toedit-batch [validate → buffer → score + edit → size check] → edited | scored (optional) | dead letters
 *                                                                   → drift observations (by source)
 *   drift observations → toedit-drift [windowed summaries] → drift windows | alerts
 * </pre>
 *
 * <p>Built from interfaces so tests drive it with a fake scorer. The one tokenizer and scorer passed
 * in are shared by every task and stream thread of the process (both are thread-safe).
 */
public final class ToEditTopology {

  /** The micro-batch buffer: persistent (RocksDB) and changelogged, keyed by input partition+offset. */
  public static final String BUFFER_STORE = "toedit-batch-buffer";
  public static final String SOURCE = "raw-source";
  public static final String PROCESSOR = "toedit-batch";
  public static final String DRIFT_SOURCE = "drift-observations-source";
  public static final String DRIFT_PROCESSOR = "toedit-drift";
  /** The drift window store: persistent (RocksDB), changelogged, key {@code source|stream}. */
  public static final String DRIFT_WINDOW_STORE = DriftProcessor.WINDOW_STORE;
  /** The drift index store: emitted-up-to watermark and newest window start per key. */
  public static final String DRIFT_INDEX_STORE = DriftProcessor.INDEX_STORE;
  /** The windows kept for first-windows references. */
  public static final String DRIFT_REFERENCE_STORE = DriftProcessor.REFERENCE_STORE;

  private ToEditTopology() {
  }

  public static Topology build(PipelineConfig config, TextTokenizer tokenizer, Scorer scorer, EditConfig edit) {
    return build(config, tokenizer, scorer, edit, new PipelineStats());
  }

  /** As {@link #build(PipelineConfig, TextTokenizer, Scorer, EditConfig)}, counting into {@code stats}. */
  public static Topology build(PipelineConfig config, TextTokenizer tokenizer, Scorer scorer, EditConfig edit,
      PipelineStats stats) {
    return build(config, tokenizer, scorer, edit, stats, DriftListener.none());
  }

  /**
   * As {@link #build(PipelineConfig, TextTokenizer, Scorer, EditConfig, PipelineStats)}, reporting
   * the drift gauges of every closed window to {@code driftListener}. With {@code toedit.drift.enabled}
   * the batch processor also writes observation batches to the observations topic, read back by
   * the drift processor (closed windows to the drift topic, threshold crossings to the alerts topic).
   */
  public static Topology build(PipelineConfig config, TextTokenizer tokenizer, Scorer scorer, EditConfig edit,
      PipelineStats stats, DriftListener driftListener) {
    DocumentEditor documentEditor = new DocumentEditor(tokenizer, scorer, new Editor(edit, tokenizer.vocabulary()),
        config.perDocumentScoring() ? DocumentEditor.ScoringMode.PER_DOCUMENT : DocumentEditor.ScoringMode.BATCHED,
        new DocumentEditor.RetryPolicy(config.scoreRetries(), config.scoreRetryBackoffMs(), config.brokenModelAfter()));
    String modelId = scorer.modelId();
    int parallelism = config.effectiveParallelism();
    // Shared by every task of this process; daemon threads, so an unclosed topology never blocks exit.
    java.util.concurrent.ThreadPoolExecutor pool = null;
    if (parallelism > 1) {
      pool = new java.util.concurrent.ThreadPoolExecutor(parallelism, parallelism, 30, java.util.concurrent.TimeUnit.SECONDS,
          new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "toedit-edit");
            t.setDaemon(true);
            return t;
          });
      pool.allowCoreThreadTimeOut(true);
    }
    // Background scoring of full micro-batches (toedit.microbatch.overlap): one thread per task with a
    // micro-batch in flight, shared by every task of this process; daemon threads, as above.
    java.util.concurrent.ExecutorService flushExecutor = null;
    if (config.overlap()) {
      java.util.concurrent.atomic.AtomicInteger flushThreads = new java.util.concurrent.atomic.AtomicInteger();
      flushExecutor = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "toedit-flush-" + flushThreads.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
    }
    Topology topology = new Topology();
    topology.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), config.inputTopic());
    topology.addProcessor(PROCESSOR, new BatchSupplier(config, tokenizer, documentEditor, modelId, stats, pool,
        flushExecutor), SOURCE);
    // The processor forwards encoded values (it checks their size before the send, see OutputRecords).
    topology.addSink(MicroBatchProcessor.EDITED_SINK, config.editedTopic(), new StringSerializer(),
        new ByteArraySerializer(), PROCESSOR);
    if (config.scoredEnabled()) {
      topology.addSink(MicroBatchProcessor.SCORED_SINK, config.scoredTopic(), new StringSerializer(),
          new ByteArraySerializer(), PROCESSOR);
    }
    topology.addSink(MicroBatchProcessor.DLQ_SINK, config.deadLetterTopic(), new ByteArraySerializer(),
        new ByteArraySerializer(), PROCESSOR);
    DriftStreamConfig drift = config.drift();
    if (drift.enabled()) {
      topology.addSink(MicroBatchProcessor.DRIFT_OBSERVATIONS_SINK, drift.observationsTopic(), new StringSerializer(),
          new ByteArraySerializer(), DriftProcessor.PARTITIONER, PROCESSOR);
      topology.addSource(DRIFT_SOURCE, new StringDeserializer(), ObservationBatch.serde().deserializer(),
          drift.observationsTopic());
      topology.addProcessor(DRIFT_PROCESSOR, new DriftProcessor.Supplier(drift, DriftReferences.fileReference(drift),
          tokenizer.vocabulary(), driftListener, config.driftClock()), DRIFT_SOURCE);
      topology.addSink(DriftProcessor.DRIFT_SINK, drift.driftTopic(), new StringSerializer(),
          AvroSerde.of(DriftWindow.class).serializer(), DRIFT_PROCESSOR);
      topology.addSink(DriftProcessor.ALERTS_SINK, drift.alertsTopic(), new StringSerializer(),
          AvroSerde.of(DriftAlert.class).serializer(), DRIFT_PROCESSOR);
    }
    return topology;
  }

  /**
   * The observations-topic partition of a {@code source|stream} key (by source alone): the
   * partitioner interactive queries must use to find a key's owner.
   */
  public static int driftPartition(String key, int numPartitions) {
    return DriftProcessor.partitionOf(key, numPartitions);
  }

  /** The buffer store's builder: the one place its name, serdes and changelog are decided. */
  static StoreBuilder<KeyValueStore<Bytes, byte[]>> bufferStore() {
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BUFFER_STORE), Serdes.Bytes(),
        Serdes.ByteArray()).withLoggingEnabled(Map.of());
  }

  private record BatchSupplier(PipelineConfig config, TextTokenizer tokenizer, DocumentEditor documentEditor,
      String modelId, PipelineStats stats, java.util.concurrent.ExecutorService pool,
      java.util.concurrent.ExecutorService flushExecutor)
      implements ProcessorSupplier<byte[], byte[], Object, Object> {

    @Override
    public Processor<byte[], byte[], Object, Object> get() {
      return new MicroBatchProcessor(config, tokenizer, documentEditor, modelId, stats, pool, flushExecutor);
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return Set.of(bufferStore());
    }
  }
}
