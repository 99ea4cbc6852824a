package io.toedit.stream;

import io.toedit.avro.RawDocument;
import io.toedit.drift.DocumentObservation;
import io.toedit.drift.StreamKind;
import io.toedit.edit.TokenEdit;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.DocumentOutcome;
import io.toedit.pipeline.SourceDocument;
import io.toedit.stream.drift.ObservationBatch;
import io.toedit.text.TextTokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * validate → buffer → score+edit → outputs, for one stream task.
 *
 * <p>Valid records are written to the changelogged {@link ToEditTopology#BUFFER_STORE} and scored
 * together once the buffered tokens reach {@code batchMaxTokens}, the buffered records reach
 * {@code batchMaxRecords}, or the oldest has waited {@code batchMaxLatencyMs} of wall-clock time
 * (checked by a punctuator). Scoring runs synchronously on the stream thread, so a full buffer stops
 * the task from taking more input until it has drained: that is the back-pressure, and the buffer
 * never holds more than one budget plus one record.
 *
 * <p>Under exactly-once the store writes, the store deletes of a scored batch, the output records
 * and the input offsets commit in one transaction: after a crash the buffer is restored from its
 * changelog as of the last commit, and the input after that commit is read again, so every record
 * is either in the restored buffer or re-read, never both and never neither.
 */
final class MicroBatchProcessor implements Processor<byte[], byte[], Object, Object> {

  static final String EDITED_SINK = "edited-sink";
  static final String SCORED_SINK = "scored-sink";
  static final String DLQ_SINK = "dlq-sink";
  /** Observation batches for the drift statistics, one record per (source, stream) per micro-batch. */
  static final String DRIFT_OBSERVATIONS_SINK = "drift-observations-sink";
  /** The drift source of documents without a {@code source}. */
  static final String DEFAULT_SOURCE = "default";

  private final PipelineConfig config;
  private final TextTokenizer tokenizer;
  private final DocumentEditor documentEditor;
  private final String modelId;
  private final PipelineStats stats;
  private final InputDecoder decoder;
  private final java.util.concurrent.ExecutorService pool;
  private final int parallelism;

  private ProcessorContext<Object, Object> context;
  private KeyValueStore<Bytes, byte[]> buffer;
  private int bufferedRecords;
  private long bufferedTokens;
  private long oldestWallClockMs;
  private final Map<String, List<DocumentObservation>> observations = new LinkedHashMap<>();

  MicroBatchProcessor(PipelineConfig config, TextTokenizer tokenizer, DocumentEditor documentEditor, String modelId,
      PipelineStats stats) {
    this(config, tokenizer, documentEditor, modelId, stats, null);
  }

  /** {@code pool} (shared by the process's tasks) runs concurrent edits; {@code null} edits on the stream thread. */
  MicroBatchProcessor(PipelineConfig config, TextTokenizer tokenizer, DocumentEditor documentEditor, String modelId,
      PipelineStats stats, java.util.concurrent.ExecutorService pool) {
    this.pool = pool;
    this.parallelism = config.effectiveParallelism();
    this.config = config;
    this.tokenizer = tokenizer;
    this.documentEditor = documentEditor;
    this.modelId = modelId;
    this.stats = stats;
    this.decoder = new InputDecoder(config);
  }

  @Override
  public void init(ProcessorContext<Object, Object> context) {
    this.context = context;
    this.buffer = context.getStateStore(ToEditTopology.BUFFER_STORE);
    // Records buffered before a restart are still here: count them so they are scored as usual.
    try (KeyValueIterator<Bytes, byte[]> it = buffer.all()) {
      while (it.hasNext()) {
        BufferedRecord r = BufferedRecord.decode(it.next().value);
        bufferedRecords++;
        bufferedTokens += r.tokens();
      }
    }
    stats.buffered.add(bufferedRecords);
    oldestWallClockMs = context.currentSystemTimeMs();
    context.schedule(Duration.ofMillis(config.punctuateIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
        this::onWallClock);
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    stats.received.increment();
    RecordMetadata md = context.recordMetadata().orElseThrow(
        () -> new IllegalStateException("input records must come from a topic"));
    int tokens;
    try {
      RawDocument doc = decoder.decode(record.key(), record.value());
      tokens = countTokens(doc.getText());
    } catch (RejectedRecordException e) {
      forwardDeadLetter(md.topic(), md.partition(), md.offset(), record.key(), record.value(), null, e.errorClass(),
          e.getMessage(), e.stage(), record.timestamp());
      return;
    }
    BufferedRecord buffered = new BufferedRecord(md.topic(), md.partition(), md.offset(), record.timestamp(),
        record.key(), record.value(), tokens);
    buffer.put(Bytes.wrap(buffered.storeKey()), buffered.encode());
    if (bufferedRecords == 0) {
      oldestWallClockMs = context.currentSystemTimeMs();
    }
    bufferedRecords++;
    bufferedTokens += tokens;
    stats.buffered.increment();
    if (bufferedTokens >= config.batchMaxTokens() || bufferedRecords >= config.batchMaxRecords()) {
      flush();
    }
  }

  private int countTokens(String text) throws RejectedRecordException {
    try {
      return tokenizer.encode(text).length();
    } catch (RuntimeException e) {
      throw new RejectedRecordException("tokenize", "tokenizer failed: " + e.getMessage(), e);
    }
  }

  private void onWallClock(long nowMs) {
    if (bufferedRecords > 0 && nowMs - oldestWallClockMs >= config.batchMaxLatencyMs()) {
      flush();
    }
  }

  /** Scores and edits everything buffered, forwards the results in input order, empties the buffer. */
  private void flush() {
    List<KeyValue<Bytes, BufferedRecord>> entries = new ArrayList<>(bufferedRecords);
    try (KeyValueIterator<Bytes, byte[]> it = buffer.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        entries.add(KeyValue.pair(kv.key, BufferedRecord.decode(kv.value)));
      }
    }
    if (entries.isEmpty()) {
      resetCounters();
      return;
    }
    // Decode again (the buffer keeps the original bytes, which a dead letter must carry).
    RawDocument[] docs = new RawDocument[entries.size()];
    List<Integer> toScore = new ArrayList<>(entries.size());
    for (int i = 0; i < entries.size(); i++) {
      BufferedRecord r = entries.get(i).value;
      try {
        docs[i] = decoder.decode(r.key(), r.value());
        toScore.add(i);
      } catch (RejectedRecordException e) {
        forwardDeadLetter(r, null, e.errorClass(), e.getMessage(), e.stage());
      }
    }
    // Similar lengths side by side: the scorer pads each forward pass to its longest sequence.
    toScore.sort(Comparator.comparingInt(i -> entries.get(i).value.tokens()));
    // A buffer over the token budget (the last record crossed it, or a restored buffer filled under a
    // larger budget) is scored in budget-sized chunks; a single record over the budget goes alone.
    DocumentOutcome[] byEntry = new DocumentOutcome[entries.size()];
    long startNanos = System.nanoTime();
    long batchTokens = 0;
    int from = 0;
    while (from < toScore.size()) {
      int to = from;
      long chunkTokens = 0;
      while (to < toScore.size()
          && (to == from || chunkTokens + entries.get(toScore.get(to)).value.tokens() <= config.batchMaxTokens())) {
        chunkTokens += entries.get(toScore.get(to)).value.tokens();
        to++;
      }
      List<SourceDocument> sources = new ArrayList<>(to - from);
      for (int i : toScore.subList(from, to)) {
        sources.add(new SourceDocument(docs[i].getId(), docs[i].getText()));
      }
      List<DocumentOutcome> outcomes = editInParallel(sources);
      if (outcomes.size() != sources.size()) {
        throw new IllegalStateException("DocumentEditor returned " + outcomes.size() + " outcomes for "
            + sources.size() + " documents");
      }
      for (int j = 0; j < sources.size(); j++) {
        byEntry[toScore.get(from + j)] = outcomes.get(j);
      }
      batchTokens += chunkTokens;
      from = to;
    }
    long batchNanos = System.nanoTime() - startNanos;
    stats.batchDone(toScore.size(), batchTokens, batchNanos);
    for (int i = 0; i < entries.size(); i++) {
      DocumentOutcome o = byEntry[i];
      if (o != null) {
        forwardOutcome(entries.get(i).value, docs[i], o);
      }
      buffer.delete(entries.get(i).key);
    }
    forwardObservations();
    resetCounters();
  }

  /**
   * Edits the documents in up to {@code parallelism} concurrent {@link DocumentEditor#process} calls
   * (dealt round-robin, so each call gets a similar mix of lengths) and returns the outcomes in input
   * order. The outcome of a document does not depend on how documents are grouped.
   */
  private List<DocumentOutcome> editInParallel(List<SourceDocument> sources) {
    int groups = Math.min(parallelism, sources.size());
    if (groups <= 1 || pool == null) {
      return documentEditor.process(sources);
    }
    List<List<SourceDocument>> parts = new ArrayList<>(groups);
    for (int g = 0; g < groups; g++) {
      parts.add(new ArrayList<>());
    }
    for (int i = 0; i < sources.size(); i++) {
      parts.get(i % groups).add(sources.get(i));
    }
    List<java.util.concurrent.Future<List<DocumentOutcome>>> futures = new ArrayList<>(groups);
    for (List<SourceDocument> part : parts) {
      futures.add(pool.submit(() -> documentEditor.process(part)));
    }
    DocumentOutcome[] out = new DocumentOutcome[sources.size()];
    for (int g = 0; g < groups; g++) {
      List<DocumentOutcome> got;
      try {
        got = futures.get(g).get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while editing a micro-batch", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("editing a micro-batch failed: " + e.getCause(), e.getCause());
      }
      for (int j = 0; j < got.size(); j++) {
        out[g + j * groups] = got.get(j);
      }
    }
    return List.of(out);
  }

  private void resetCounters() {
    stats.buffered.add(-bufferedRecords);
    bufferedRecords = 0;
    bufferedTokens = 0;
  }

  private void forwardOutcome(BufferedRecord r, RawDocument doc, DocumentOutcome o) {
    if (!o.ok()) {
      Exception f = o.failure();
      forwardDeadLetter(r, doc.getId(), f.getClass().getName(), o.reason(), o.stage());
      return;
    }
    stats.edited.increment();
    stats.tokens.add(o.result().tokens());
    stats.overThreshold.add(o.result().overThreshold());
    stats.changed.add(o.result().changed());
    stats.deleted.add(o.result().deleted());
    if (config.scoredEnabled()) {
      context.forward(new Record<Object, Object>(doc.getId(),
          AvroRecords.scored(doc, o.scores(), modelId, config.scoredTopK()), r.timestamp()), SCORED_SINK);
    }
    context.forward(new Record<Object, Object>(doc.getId(),
        AvroRecords.edited(doc, o.result(), modelId, config.includeOriginal()), r.timestamp()), EDITED_SINK);
    if (config.drift().enabled()) {
      observe(doc, r.timestamp(), o);
    }
  }

  /**
   * Collects the raw and edited observations of one edited document. The edited token ids are the
   * scored ids with the edits applied (no re-tokenization); BOS is left out of both.
   */
  private void observe(RawDocument doc, long timestamp, DocumentOutcome o) {
    String source = doc.getSource() == null || doc.getSource().isBlank() ? DEFAULT_SOURCE : doc.getSource();
    int[] ids = o.scores().ids();
    float[] logProbs = o.scores().logProbs();
    int n = Math.max(0, ids.length - 1);
    int[] content = new int[n];
    float[] probs = new float[n];
    double nll = 0;
    for (int t = 1; t < ids.length; t++) {
      float lp = Math.min(0f, logProbs[t]);
      if (Float.isNaN(lp)) {
        return; // no drift statistics for a document the model could not score; its edit went out
      }
      content[t - 1] = ids[t];
      probs[t - 1] = (float) Math.exp(lp);
      nll -= lp;
    }
    Map<Integer, TokenEdit> edits = new java.util.HashMap<>();
    for (TokenEdit e : o.result().edits()) {
      edits.put(e.position(), e);
    }
    int[] editedIds = new int[n];
    int m = 0;
    for (int t = 1; t < ids.length; t++) {
      TokenEdit e = edits.get(t);
      if (e == null) {
        editedIds[m++] = ids[t];
      } else if (!e.isDeletion()) {
        editedIds[m++] = e.newId();
      }
    }
    var result = o.result();
    observations.computeIfAbsent(ObservationBatch.key(source, StreamKind.RAW), k -> new ArrayList<>()).add(
        new DocumentObservation(source, StreamKind.RAW, timestamp, content, probs, result.overThreshold(),
            result.changed(), result.deleted(), nll, n));
    observations.computeIfAbsent(ObservationBatch.key(source, StreamKind.EDITED), k -> new ArrayList<>()).add(
        new DocumentObservation(source, StreamKind.EDITED, timestamp, java.util.Arrays.copyOf(editedIds, m), null,
            result.overThreshold(), result.changed(), result.deleted(), 0, 0));
  }

  /** One record per (source, stream) with the micro-batch's observations, at their latest timestamp. */
  private void forwardObservations() {
    for (Map.Entry<String, List<DocumentObservation>> e : observations.entrySet()) {
      DocumentObservation first = e.getValue().get(0);
      ObservationBatch batch = new ObservationBatch(first.source(), first.stream(), e.getValue());
      context.forward(new Record<Object, Object>(e.getKey(), batch, batch.maxTimestamp()), DRIFT_OBSERVATIONS_SINK);
    }
    observations.clear();
  }

  private void forwardDeadLetter(BufferedRecord r, String id, String errorClass, String reason, String stage) {
    forwardDeadLetter(r.topic(), r.partition(), r.offset(), r.key(), r.value(), id, errorClass, reason, stage,
        r.timestamp());
  }

  private void forwardDeadLetter(String topic, int partition, long offset, byte[] key, byte[] value, String id,
      String errorClass, String reason, String stage, long timestamp) {
    stats.deadLettered.increment();
    context.forward(new Record<Object, Object>(key, AvroRecords.deadLetter(topic, partition, offset, key, value, id,
        errorClass, reason, stage, context.currentSystemTimeMs()), timestamp), DLQ_SINK);
  }
}
