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
import io.toedit.text.Tokenized;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
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
 * (checked by a punctuator).
 *
 * <p><b>Overlap and back-pressure.</b> With {@code toedit.microbatch.overlap} (the default) a full
 * micro-batch is scored and edited in the background while the stream thread goes on reading,
 * validating and tokenizing the next one; its results are forwarded on the stream thread at the first
 * record or punctuation after it is done. At most one micro-batch per task is in flight: when the next
 * one is full first, the task waits for the one in flight, starts the next and only then forwards the
 * results, so a slow model stops the task from taking more input (the back-pressure) but the model
 * does not wait for the forwarding, and the buffer never holds more than two budgets plus two records.
 * Without overlap, scoring runs on the stream thread and the buffer holds at most one budget plus one
 * record.
 *
 * <p>Under exactly-once the store writes, the store deletes of a scored batch, the output records
 * and the input offsets commit in one transaction: after a crash the buffer is restored from its
 * changelog as of the last commit, and the input after that commit is read again, so every record
 * is either in the restored buffer or re-read, never both and never neither. A micro-batch in flight
 * is still in the buffer: its outputs and the deletes of its records are written together, on the
 * stream thread; commits in between commit its records as buffered, and when the task closes first
 * ({@link #close} waits for the background work) its results are dropped and the records are scored
 * again by whoever runs the task next.
 *
 * <p><b>Time bound.</b> A transaction must end before the broker aborts it after
 * {@code transaction.timeout.ms}, and the stream thread holds one open while it scores a flush, or
 * waits for the one in flight. So a flush scores the buffer in passes (length-sorted groups that close
 * once they reach the token budget, as a micro-batch does, so a full micro-batch is one pass), each
 * pass capped at the tokens the scorer did in the flush budget
 * ({@link PipelineConfig#effectiveFlushMaxMs()}) at its recently measured tokens/s, and stops once
 * the next pass would overrun the budget. What it did not score stays buffered and is flushed at the
 * next punctuation, after a commit. Before the first measurement a pass holds one document.
 *
 * <p><b>Decoded and tokenized once.</b> {@link #process} decodes and tokenizes a record (it needs the
 * token count) and keeps both in memory next to the buffer; the flush scores and edits those tokens.
 * After a restart the buffer restored from its changelog has no such copies: its records are decoded
 * and tokenized again, with the same result.
 *
 * <p><b>Size.</b> Every record is size-checked before it is forwarded ({@link OutputRecords}): a
 * scored document too large is split into parts, an observation batch is split in halves, a dead
 * letter keeps a bounded prefix of the original bytes, and an edited document that cannot fit is
 * dead-lettered (stage {@code output}).
 */
final class MicroBatchProcessor implements Processor<byte[], byte[], Object, Object> {

  static final String EDITED_SINK = "edited-sink";
  static final String SCORED_SINK = "scored-sink";
  static final String DLQ_SINK = "dlq-sink";
  /** Observation batches for the drift statistics, one record per (source, stream) per micro-batch. */
  static final String DRIFT_OBSERVATIONS_SINK = "drift-observations-sink";
  /** Document timestamps further ahead of the wall clock are not used as record timestamps. */
  static final long MAX_FUTURE_TIMESTAMP_MS = 3_600_000;
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
  private final OutputRecords output;
  /** The tokenizer's context token as {@code edit} describes it, written into every EditedDocument. */
  private final String contextToken;
  /**
   * Runs a micro-batch's scoring in the background while the stream thread reads and tokenizes the
   * next ({@code toedit.microbatch.overlap}); {@code null} scores on the stream thread.
   */
  private final java.util.concurrent.ExecutorService flushExecutor;
  /** Moving average of the scorer's tokens/s over this task's passes; 0 until the first pass. */
  private volatile double tokensPerSecond;
  /** Set when a flush stopped at its time budget with documents left: flush again at the next punctuation. */
  private boolean flushPending;

  private ProcessorContext<Object, Object> context;
  private KeyValueStore<Bytes, byte[]> buffer;
  /** Records of this task in the buffer store (in flight or not), as counted into {@code stats.buffered}. */
  private int storeRecords;
  /** Buffered records and tokens not in flight: the micro-batch being filled. */
  private int bufferedRecords;
  private long bufferedTokens;
  /** The micro-batch being scored, still in the buffer until {@link #finishFlush}; {@code null} when none. */
  private Batch inFlight;
  private long oldestWallClockMs;
  /** The context's wall-clock time when last read, and how long this task waited since (see {@link #wallClockMs}). */
  private long contextMs = Long.MIN_VALUE;
  private long blockedMs;
  private final Map<String, List<DocumentObservation>> observations = new LinkedHashMap<>();
  /** The decoded document and tokens of buffered records, by store key (see "Decoded and tokenized once"). */
  private final Map<Bytes, Prepared> prepared = new HashMap<>();

  /**
   * A buffered record as {@link #process} decoded and tokenized it, with the earliest time its
   * observations can have ({@link #earliestObservationTime}).
   */
  private record Prepared(RawDocument doc, Tokenized tokens, long earliestTime) {
  }

  MicroBatchProcessor(PipelineConfig config, TextTokenizer tokenizer, DocumentEditor documentEditor, String modelId,
      PipelineStats stats) {
    this(config, tokenizer, documentEditor, modelId, stats, null, null);
  }

  /**
   * {@code pool} (shared by the process's tasks) runs concurrent edits, {@code null} edits on the stream
   * thread; {@code flushExecutor} (shared) scores micro-batches in the background, {@code null} on the
   * stream thread.
   */
  MicroBatchProcessor(PipelineConfig config, TextTokenizer tokenizer, DocumentEditor documentEditor, String modelId,
      PipelineStats stats, java.util.concurrent.ExecutorService pool,
      java.util.concurrent.ExecutorService flushExecutor) {
    this.pool = pool;
    this.flushExecutor = flushExecutor;
    this.parallelism = config.effectiveParallelism();
    this.config = config;
    this.tokenizer = tokenizer;
    this.documentEditor = documentEditor;
    this.modelId = modelId;
    this.stats = stats;
    this.decoder = new InputDecoder(config);
    this.output = new OutputRecords(config);
    this.contextToken = tokenizer.contextToken().describe();
  }

  @Override
  public void init(ProcessorContext<Object, Object> context) {
    this.context = context;
    this.buffer = context.getStateStore(ToEditTopology.BUFFER_STORE);
    // Streams may initialise this instance again (a task revived after corruption): start from the store.
    dropInFlight();
    prepared.clear();
    stats.buffered.add(-(long) storeRecords);
    storeRecords = 0;
    bufferedRecords = 0;
    bufferedTokens = 0;
    flushPending = false;
    // Records buffered before a restart are still here: count them so they are scored as usual.
    try (KeyValueIterator<Bytes, byte[]> it = buffer.all()) {
      while (it.hasNext()) {
        BufferedRecord r = BufferedRecord.decode(it.next().value);
        bufferedRecords++;
        bufferedTokens += r.tokens();
      }
    }
    storeRecords = bufferedRecords;
    stats.buffered.add(storeRecords);
    oldestWallClockMs = context.currentSystemTimeMs();
    context.schedule(Duration.ofMillis(config.punctuateIntervalMs()), PunctuationType.WALL_CLOCK_TIME,
        this::onWallClock);
  }

  /**
   * Waits for the micro-batch in flight, if any, and drops its results: its records stay in the buffer
   * (and its changelog), so whoever runs the task next scores them.
   */
  @Override
  public void close() {
    dropInFlight();
    prepared.clear();
  }

  private void dropInFlight() {
    Batch batch = inFlight;
    inFlight = null;
    if (batch != null && batch.future != null) {
      try {
        batch.future.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
        // dropped anyway: the records are still buffered
      }
    }
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    stats.received.increment();
    if (inFlight != null && inFlight.isDone()) {
      finishFlush();
    }
    RecordMetadata md = context.recordMetadata().orElseThrow(
        () -> new IllegalStateException("input records must come from a topic"));
    RawDocument doc;
    Tokenized tokenized;
    try {
      doc = decoder.decode(record.key(), record.value());
      tokenized = tokenize(doc.getText());
    } catch (RejectedRecordException e) {
      forwardDeadLetter(md.topic(), md.partition(), md.offset(), record.key(), record.value(), null, e.errorClass(),
          e.getMessage(), e.stage(), record.timestamp());
      return;
    }
    int tokens = tokenized.length();
    BufferedRecord buffered = new BufferedRecord(md.topic(), md.partition(), md.offset(), record.timestamp(),
        record.key(), record.value(), tokens);
    Bytes storeKey = Bytes.wrap(buffered.storeKey());
    buffer.put(storeKey, buffered.encode());
    prepared.put(storeKey, new Prepared(doc, tokenized, earliestObservationTime(doc, record.timestamp())));
    if (bufferedRecords == 0) {
      oldestWallClockMs = wallClockMs();
    }
    bufferedRecords++;
    bufferedTokens += tokens;
    storeRecords++;
    stats.buffered.increment();
    if (bufferedTokens >= config.batchMaxTokens() || bufferedRecords >= config.batchMaxRecords()) {
      flush();
    }
  }

  private Tokenized tokenize(String text) throws RejectedRecordException {
    try {
      return tokenizer.encode(text);
    } catch (RuntimeException e) {
      throw new RejectedRecordException("tokenize", "tokenizer failed: " + e.getMessage(), e);
    }
  }

  private void onWallClock(long nowMs) {
    if (inFlight != null && inFlight.isDone()) {
      finishFlush();
    }
    if (bufferedRecords > 0 && (flushPending || nowMs - oldestWallClockMs >= config.batchMaxLatencyMs())) {
      flush();
    }
  }

  /**
   * The wall clock: the context's (Streams reads it once per batch of records and per punctuation)
   * plus the time this task waited for a micro-batch in flight since it last changed. Without the
   * correction, a record read right after such a wait would count as waiting since before it, and the
   * next punctuation would score its micro-batch long before it was full. (Scoring on the stream thread
   * is not counted: there the clock stays the context's, as tests with a mock clock expect.)
   */
  private long wallClockMs() {
    long now = context.currentSystemTimeMs();
    if (now != contextMs) {
      contextMs = now;
      blockedMs = 0;
    }
    return now + blockedMs;
  }

  /**
   * Scores and edits what is buffered (see the class comment): waits for the micro-batch in flight,
   * starts one with every other record of the buffer (in the background when overlapping, else here),
   * and then forwards the results of the one that was in flight, so the model does not wait for that.
   */
  private void flush() {
    Batch previous = null;
    if (inFlight != null) {
      if (!inFlight.isDone()) {
        wallClockMs(); // the wait below counts from the context's current time
        long waitStart = System.nanoTime();
        inFlight.await();
        blockedMs += (System.nanoTime() - waitStart) / 1_000_000;
      }
      previous = inFlight;
      inFlight = null;
      previous.await(); // its failure stops the task here, before anything else starts
    }
    java.util.Set<Bytes> scoredBefore = previous == null ? java.util.Set.of() : previous.scoredKeys();
    List<KeyValue<Bytes, BufferedRecord>> entries = new ArrayList<>(bufferedRecords);
    try (KeyValueIterator<Bytes, byte[]> it = buffer.all()) {
      while (it.hasNext()) {
        KeyValue<Bytes, byte[]> kv = it.next();
        if (!scoredBefore.contains(kv.key)) { // those are forwarded and deleted below
          entries.add(KeyValue.pair(kv.key, BufferedRecord.decode(kv.value)));
        }
      }
    }
    flushPending = false;
    bufferedRecords = 0;
    bufferedTokens = 0;
    startFlush(entries);
    if (previous != null) {
      finishFlush(previous, true);
    }
    // Records of a restored buffer that no longer decode: dead-lettered and deleted in this transaction.
    for (Map.Entry<KeyValue<Bytes, BufferedRecord>, RejectedRecordException> bad : undecodable.entrySet()) {
      BufferedRecord r = bad.getKey().value;
      forwardDeadLetter(r, null, bad.getValue().errorClass(), bad.getValue().getMessage(), bad.getValue().stage());
      buffer.delete(bad.getKey().key);
      storeRecords--;
      stats.buffered.decrement();
    }
    undecodable.clear();
  }

  /** Records of the buffer that {@link #startFlush} found no longer decode, for {@link #flush} to dead-letter. */
  private final Map<KeyValue<Bytes, BufferedRecord>, RejectedRecordException> undecodable = new LinkedHashMap<>();

  /** Starts scoring {@code entries} (in the background when overlapping, else here, finishing at once). */
  private void startFlush(List<KeyValue<Bytes, BufferedRecord>> entries) {
    if (entries.isEmpty()) {
      return;
    }
    // As process() decoded and tokenized them; after a restart, decoded again here (the buffer keeps the
    // original bytes, which a dead letter must carry) and tokenized by the DocumentEditor. A record that no
    // longer decodes is left to flush(), which dead-letters and deletes it in the same transaction.
    List<KeyValue<Bytes, BufferedRecord>> valid = new ArrayList<>(entries.size());
    List<RawDocument> docs = new ArrayList<>(entries.size());
    List<Tokenized> tokens = new ArrayList<>(entries.size());
    for (KeyValue<Bytes, BufferedRecord> entry : entries) {
      BufferedRecord r = entry.value;
      Prepared p = prepared.get(entry.key);
      RawDocument doc;
      if (p != null) {
        doc = p.doc();
      } else {
        try {
          doc = decoder.decode(r.key(), r.value());
        } catch (RejectedRecordException e) {
          undecodable.put(entry, e);
          continue;
        }
      }
      valid.add(entry);
      docs.add(doc);
      tokens.add(p == null ? null : p.tokens());
    }
    if (valid.isEmpty()) {
      return;
    }
    Batch batch = new Batch(valid, docs.toArray(new RawDocument[0]), tokens.toArray(new Tokenized[0]));
    if (flushExecutor != null) {
      batch.future = flushExecutor.submit(batch::score);
      inFlight = batch;
    } else {
      batch.score();
      finishFlush(batch, false);
    }
  }

  /**
   * The micro-batch in flight, as {@link #flush} took it from the buffer: {@link #score} scores and
   * edits it (on the stream thread, or in the background when overlapping) and touches nothing of the
   * task but the scorer's measured speed; {@link #finishFlush} forwards and deletes on the stream thread.
   */
  private final class Batch {
    final List<KeyValue<Bytes, BufferedRecord>> entries;
    final RawDocument[] docs;
    final Tokenized[] tokens;
    final boolean[] done;
    final DocumentOutcome[] byEntry;
    final List<Integer> toScore;
    java.util.concurrent.Future<?> future;
    long batchTokens;
    int scoredDocs;
    long batchNanos;

    Batch(List<KeyValue<Bytes, BufferedRecord>> entries, RawDocument[] docs, Tokenized[] tokens) {
      this.entries = entries;
      this.docs = docs;
      this.tokens = tokens;
      this.done = new boolean[entries.size()];
      this.byEntry = new DocumentOutcome[entries.size()];
      this.toScore = new ArrayList<>(entries.size());
      for (int i = 0; i < entries.size(); i++) {
        toScore.add(i);
      }
      // Similar lengths side by side: the scorer pads each forward pass to its longest sequence.
      toScore.sort(Comparator.comparingInt(i -> entries.get(i).value.tokens()));
    }

    boolean isDone() {
      return future == null || future.isDone();
    }

    /** Store keys of the records this micro-batch scored (the rest are left for the next flush). */
    java.util.Set<Bytes> scoredKeys() {
      java.util.Set<Bytes> keys = new java.util.HashSet<>();
      for (int i = 0; i < entries.size(); i++) {
        if (done[i]) {
          keys.add(entries.get(i).key);
        }
      }
      return keys;
    }

    /** Scores and edits in passes within the flush's time budget; what does not fit stays undone. */
    void score() {
      long budgetMs = config.effectiveFlushMaxMs();
      stats.passBudgetMs = budgetMs;
      long startNanos = System.nanoTime();
      int from = 0;
      while (from < toScore.size()) {
        long cap = passTokenCap(budgetMs);
        stats.passTokens = Math.min(cap, config.batchMaxTokens());
        int to = from;
        long chunkTokens = 0;
        // A pass closes once it reaches the token budget, as a micro-batch does (so a full micro-batch,
        // the budget plus the record that crossed it, is one pass), and before the time cap.
        while (to < toScore.size() && (to == from || (chunkTokens < config.batchMaxTokens()
            && chunkTokens + entries.get(toScore.get(to)).value.tokens() <= cap))) {
          chunkTokens += entries.get(toScore.get(to)).value.tokens();
          to++;
        }
        if (from > 0 && tokensPerSecond > 0) {
          // Would this pass overrun the flush budget? Leave it for the next flush (after a commit).
          double elapsedMs = (System.nanoTime() - startNanos) / 1e6;
          if (elapsedMs + 1000.0 * chunkTokens / tokensPerSecond > budgetMs) {
            break;
          }
        }
        List<SourceDocument> sources = new ArrayList<>(to - from);
        for (int i : toScore.subList(from, to)) {
          sources.add(new SourceDocument(docs[i].getId(), docs[i].getText(), tokens[i]));
        }
        long passStart = System.nanoTime();
        List<DocumentOutcome> outcomes = editInParallel(sources);
        measure(chunkTokens, System.nanoTime() - passStart);
        for (int j = 0; j < sources.size(); j++) {
          byEntry[toScore.get(from + j)] = outcomes.get(j);
          done[toScore.get(from + j)] = true;
        }
        batchTokens += chunkTokens;
        scoredDocs += sources.size();
        from = to;
      }
      batchNanos = System.nanoTime() - startNanos;
    }

    /** Waits for the background scoring; its failure (a broken model, a bug) is thrown here, as on the stream thread. */
    void await() {
      if (future == null) {
        return;
      }
      try {
        future.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a micro-batch to be scored", e);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException("scoring a micro-batch failed: " + e.getCause(), e.getCause());
      }
    }
  }

  /** {@link #finishFlush(Batch, boolean)} of the micro-batch in flight. */
  private void finishFlush() {
    Batch batch = inFlight;
    inFlight = null;
    finishFlush(batch, false);
  }

  /**
   * Forwards the results of {@code batch} in input order (waiting for it first) and deletes them from
   * the buffer, in the current transaction; what it did not score waits for the next punctuation, unless
   * {@code leftoversTaken}: then {@link #flush} has already put it in the next micro-batch.
   */
  private void finishFlush(Batch batch, boolean leftoversTaken) {
    batch.await();
    stats.batchDone(batch.scoredDocs, batch.batchTokens, batch.batchNanos);
    int left = 0;
    long leftTokens = 0;
    int deleted = 0;
    for (int i = 0; i < batch.entries.size(); i++) {
      KeyValue<Bytes, BufferedRecord> entry = batch.entries.get(i);
      if (!batch.done[i]) {
        left++;
        leftTokens += entry.value.tokens();
        continue;
      }
      forwardOutcome(entry.value, batch.docs[i], batch.byEntry[i]);
      buffer.delete(entry.key);
      prepared.remove(entry.key);
      deleted++;
    }
    if (!observations.isEmpty()) {
      forwardObservations(pendingObservationTime(batch));
    }
    storeRecords -= deleted;
    stats.buffered.add(-deleted);
    if (left > 0 && !leftoversTaken) {
      bufferedRecords += left;
      bufferedTokens += leftTokens;
      flushPending = true;
      oldestWallClockMs = wallClockMs();
    }
  }

  /** The most tokens one pass may hold by time: what the scorer does in the flush budget at its measured speed. */
  private long passTokenCap(long budgetMs) {
    if (tokensPerSecond <= 0) {
      return 1; // not measured yet: one document per pass (a pass always takes at least one)
    }
    return Math.max(1, (long) Math.min(Long.MAX_VALUE / 2, tokensPerSecond * budgetMs / 1000.0));
  }

  private void measure(long tokens, long nanos) {
    if (tokens <= 0 || nanos <= 0) {
      return;
    }
    double rate = tokens / (nanos / 1e9);
    tokensPerSecond = tokensPerSecond <= 0 ? rate : 0.7 * tokensPerSecond + 0.3 * rate;
    stats.tokensPerSecond = tokensPerSecond;
  }

  /**
   * Edits the documents in up to {@code parallelism} concurrent {@link DocumentEditor#process} calls
   * (dealt round-robin, so each call gets a similar mix of lengths) and returns the outcomes in input
   * order. The outcome of a document does not depend on how documents are grouped.
   */
  private List<DocumentOutcome> editInParallel(List<SourceDocument> sources) {
    // Batched scoring: one call, the scorer spreads its forward passes over its own workers.
    int groups = config.perDocumentScoring() ? Math.min(parallelism, sources.size()) : 1;
    if (groups <= 1 || pool == null) {
      return safeProcess(sources);
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
      futures.add(pool.submit(() -> safeProcess(part)));
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
        if (e.getCause() instanceof RuntimeException re) {
          throw re; // a broken model
        }
        throw new IllegalStateException("editing a micro-batch failed: " + e.getCause(), e.getCause());
      }
      for (int j = 0; j < got.size(); j++) {
        out[g + j * groups] = got.get(j);
      }
    }
    return List.of(out);
  }

  /**
   * {@link DocumentEditor#process}, which handles each document's failure itself; should the call as
   * a whole fail (a bug, an Error outside scoring), the documents are processed in halves until the
   * failing one is alone and reported as failed in stage {@code edit}. A broken model propagates.
   */
  private List<DocumentOutcome> safeProcess(List<SourceDocument> sources) {
    try {
      List<DocumentOutcome> out = documentEditor.process(sources);
      if (out.size() != sources.size()) {
        throw new IllegalStateException("DocumentEditor returned " + out.size() + " outcomes for "
            + sources.size() + " documents");
      }
      return out;
    } catch (DocumentEditor.BrokenModelException e) {
      throw e;
    } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
      if (sources.size() == 1) {
        return List.of(DocumentOutcome.failed(sources.get(0).id(), null, e, "edit"));
      }
      int mid = sources.size() / 2;
      List<DocumentOutcome> out = new ArrayList<>(safeProcess(sources.subList(0, mid)));
      out.addAll(safeProcess(sources.subList(mid, sources.size())));
      return out;
    }
  }

  private void forwardOutcome(BufferedRecord r, RawDocument doc, DocumentOutcome o) {
    if (!o.ok()) {
      Throwable f = o.failure();
      Throwable shown = f instanceof DocumentEditor.ScoringFailedException && f.getCause() != null ? f.getCause() : f;
      forwardDeadLetter(r, doc.getId(), shown.getClass().getName(), o.reason(), o.stage());
      return;
    }
    long timestamp = outputTimestamp(doc, r);
    byte[] key = OutputRecords.utf8(doc.getId());
    byte[] edited = output.edited(AvroRecords.edited(doc, o.result(), modelId, contextToken,
        config.includeOriginal()));
    if (!output.fits(key, edited)) {
      forwardDeadLetter(r, doc.getId(), "io.toedit.stream.RecordTooLarge", "output failed: the EditedDocument is "
          + edited.length + " bytes, over the output limit of " + output.limit() + " bytes (the smallest of the "
          + "producer's max.request.size and the output topics' max.message.bytes, see toedit.output.max.record.bytes)",
          "output");
      return;
    }
    List<byte[]> scored = List.of();
    if (config.scoredEnabled()) {
      scored = output.scoredParts(AvroRecords.scored(doc, o.scores(), modelId, config.scoredTopK()), key);
      if (scored.isEmpty()) {
        forwardDeadLetter(r, doc.getId(), "io.toedit.stream.RecordTooLarge", "output failed: not even one token "
            + "position of the ScoredDocument fits the output limit of " + output.limit() + " bytes", "output");
        return;
      }
      if (scored.size() > 1) {
        stats.scoredParts.add(scored.size());
      }
    }
    stats.edited.increment();
    stats.tokens.add(o.result().tokens());
    stats.overThreshold.add(o.result().overThreshold());
    stats.changed.add(o.result().changed());
    stats.deleted.add(o.result().deleted());
    for (byte[] part : scored) {
      context.forward(new Record<Object, Object>(doc.getId(), part, timestamp), SCORED_SINK);
    }
    context.forward(new Record<Object, Object>(doc.getId(), edited, timestamp), EDITED_SINK);
    if (config.drift().enabled()) {
      observe(doc, timestamp, o);
    }
  }

  /**
   * The document's own timestamp (JSON {@code timestamp}, Avro {@code RawDocument.timestamp}) when it
   * has one a broker accepts, else the input record's. Brokers refuse records more than
   * {@code log.message.timestamp.after.max.ms} (default 1 hour) ahead of their clock, and such a
   * refusal would abort the transaction on every replay.
   */
  private long outputTimestamp(RawDocument doc, BufferedRecord r) {
    if (doc.getTimestamp() == null) {
      return r.timestamp();
    }
    long t = doc.getTimestamp().toEpochMilli();
    return t >= 0 && t <= context.currentSystemTimeMs() + MAX_FUTURE_TIMESTAMP_MS ? t : r.timestamp();
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

  /**
   * A lower bound of the time of the observations of {@code doc}: they carry its own timestamp when a
   * broker accepts it, else the input record's ({@link #outputTimestamp}).
   */
  private static long earliestObservationTime(RawDocument doc, long recordTimestamp) {
    if (doc.getTimestamp() == null) {
      return recordTimestamp;
    }
    long t = doc.getTimestamp().toEpochMilli();
    return t >= 0 ? Math.min(t, recordTimestamp) : recordTimestamp;
  }

  /**
   * The earliest observation time of the buffered documents whose observations are still to come:
   * the micro-batch in flight, the one being filled, and what {@code finishing} left unscored;
   * {@link Long#MAX_VALUE} when there are none.
   */
  private long pendingObservationTime(Batch finishing) {
    long min = Long.MAX_VALUE;
    for (Prepared p : prepared.values()) {
      min = Math.min(min, p.earliestTime());
    }
    // Records restored after a restart have no Prepared: they are in a batch (flush() takes them all).
    for (Batch b : new Batch[] {finishing, inFlight}) {
      if (b == null) {
        continue;
      }
      for (int i = 0; i < b.entries.size(); i++) {
        if (b != finishing || !b.done[i]) {
          min = Math.min(min, earliestObservationTime(b.docs[i], b.entries.get(i).value.timestamp()));
        }
      }
    }
    return min;
  }

  /**
   * One record per (source, stream) with the micro-batch's observations, at their latest timestamp.
   * Each carries, besides its origin, the earliest observation time still to come from this task
   * after it ({@code pending}, then the records that follow it here): the drift watermark of this
   * origin must not pass it, so a window never closes between a raw observation and its edited twin,
   * nor before the documents still buffered.
   */
  private void forwardObservations(long pending) {
    List<Map.Entry<String, List<DocumentObservation>>> groups = new ArrayList<>(observations.entrySet());
    long[] after = new long[groups.size()]; // earliest time in the groups after each
    long min = pending;
    for (int g = groups.size() - 1; g >= 0; g--) {
      after[g] = min;
      min = Math.min(min, earliest(groups.get(g).getValue()));
    }
    for (int g = 0; g < groups.size(); g++) {
      forwardObservations(groups.get(g).getKey(), groups.get(g).getValue(), after[g]);
    }
    observations.clear();
  }

  private static long earliest(List<DocumentObservation> docs) {
    long min = Long.MAX_VALUE;
    for (DocumentObservation d : docs) {
      min = Math.min(min, d.timestampMs());
    }
    return min;
  }

  /**
   * One record, or halves of the list until each fits; one observation alone too large is dropped
   * (counted). {@code pendingAfter}: the earliest observation time still to come after these.
   */
  private void forwardObservations(String key, List<DocumentObservation> docs, long pendingAfter) {
    DocumentObservation first = docs.get(0);
    ObservationBatch batch = new ObservationBatch(first.source(), first.stream(), docs);
    byte[] bytes = batch.encode();
    if (output.fits(OutputRecords.utf8(key), bytes)) {
      // The origin (this task's input partition) gives the drift processor one watermark per partition.
      org.apache.kafka.common.header.internals.RecordHeaders headers =
          new org.apache.kafka.common.header.internals.RecordHeaders();
      headers.add(io.toedit.stream.drift.DriftProcessor.ORIGIN_HEADER,
          OutputRecords.utf8(Integer.toString(context.taskId().partition())));
      if (pendingAfter != Long.MAX_VALUE) {
        headers.add(io.toedit.stream.drift.DriftProcessor.PENDING_HEADER, OutputRecords.utf8(Long.toString(pendingAfter)));
      }
      context.forward(new Record<Object, Object>(key, bytes, batch.maxTimestamp(), headers), DRIFT_OBSERVATIONS_SINK);
    } else if (docs.size() == 1) {
      stats.droppedObservations.increment();
    } else {
      int mid = docs.size() / 2;
      List<DocumentObservation> second = docs.subList(mid, docs.size());
      forwardObservations(key, docs.subList(0, mid), Math.min(pendingAfter, earliest(second)));
      forwardObservations(key, second, pendingAfter);
    }
  }

  private void forwardDeadLetter(BufferedRecord r, String id, String errorClass, String reason, String stage) {
    forwardDeadLetter(r.topic(), r.partition(), r.offset(), r.key(), r.value(), id, errorClass, reason, stage,
        r.timestamp());
  }

  private void forwardDeadLetter(String topic, int partition, long offset, byte[] key, byte[] value, String id,
      String errorClass, String reason, String stage, long timestamp) {
    stats.deadLettered.increment();
    OutputRecords.KeyValueBytes kv = output.deadLetter(topic, partition, offset, key, value, id, errorClass, reason,
        stage, context.currentSystemTimeMs());
    context.forward(new Record<Object, Object>(kv.key(), kv.value(), timestamp), DLQ_SINK);
  }
}
