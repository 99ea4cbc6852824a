package io.toedit.stream;

import static io.toedit.config.ConfigValues.bool;
import static io.toedit.config.ConfigValues.finite;
import static io.toedit.config.ConfigValues.integer;
import static io.toedit.config.ConfigValues.longValue;
import static io.toedit.config.ConfigValues.require;
import static io.toedit.config.ConfigValues.withDefaults;

import io.toedit.config.RenamedKeys;
import io.toedit.stream.drift.DriftClock;
import io.toedit.stream.drift.DriftStreamConfig;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's own settings (topics, input format, limits, micro-batching). They live in the same
 * properties as the Kafka settings under the {@code toedit.} prefix; {@link #KEYS} lists every key
 * with its default (docs/configuration.md documents each one, checked by ConfigurationDocsTest).
 *
 * @param inputTopic topic of raw documents (JSON or Avro {@code RawDocument})
 * @param editedTopic output topic of {@code EditedDocument}, key = document id
 * @param scoredTopic output topic of {@code ScoredDocument}; written only when {@code scoredEnabled}
 * @param scoredEnabled also publish the scores themselves
 * @param scoredTopK include the top-k candidates in {@code ScoredDocument} (they dominate its size)
 * @param deadLetterTopic topic of {@code DeadLetter}
 * @param inputFormat {@code json}, {@code avro} or {@code auto} (Avro when the value starts with the
 *     single-object marker {@code C3 01}, JSON otherwise)
 * @param maxChars longest accepted text, in UTF-16 code units; longer records are dead-lettered
 * @param requireKey dead-letter records without a key
 * @param includeOriginal copy the original text into {@code EditedDocument.originalText}
 * @param batchMaxTokens token budget of one micro-batch: reaching it triggers scoring at once
 * @param batchMaxLatencyMs longest a buffered record waits (wall clock) before its batch is scored
 * @param batchMaxRecords bound on buffered records: reaching it triggers scoring at once
 * @param punctuateIntervalMs how often the wall-clock punctuator checks the oldest buffered record
 * @param batchParallelism documents of one micro-batch edited concurrently (each document is scored
 *     in its own call, see {@code DocumentEditor}); 0 means one per available core
 * @param overlap score a full micro-batch in the background while the stream thread reads and
 *     tokenizes the next one (at most one in flight per task); false scores on the stream thread
 * @param drift the {@code toedit.drift.*} settings of the windowed drift statistics
 * @param outputFormat {@code avro} (single-object encoding) or {@code json} (one UTF-8 object per
 *     record, same fields) for the edited, scored and dead-letter topics
 * @param maxRecordBytes largest record (key + value + overhead) the application writes; 0 means
 *     "found at start-up": the smallest of the producer's {@code max.request.size} and the output
 *     topics' {@code max.message.bytes} ({@link PipelineRunner} resolves it)
 * @param dlqMaxValueBytes a dead letter keeps at most this many bytes of the original value (plus
 *     its length and SHA-256)
 * @param scoringMode {@code batched} (one scorer call per length-sorted group up to the token
 *     budget) or {@code per-document} (one scorer call per document: bit-exact replay on any device)
 * @param scoreRetries extra attempts for a document whose scoring failed, with backoff, before it is
 *     dead-lettered
 * @param scoreRetryBackoffMs wait before the first retry (doubled for each further one)
 * @param brokenModelAfter this many documents in a row failing to score, none succeeding, means the
 *     model is broken: the application stops instead of dead-lettering everything
 * @param flushFraction fraction of {@code transaction.timeout.ms} one flush of the micro-batch may
 *     take; the micro-batch is scored in passes sized from the scorer's measured tokens/s
 * @param flushMaxMs the time budget of one flush; 0 means {@code flushFraction} of the producer's
 *     {@code transaction.timeout.ms} (resolved by {@link PipelineRunner}, 120 s when unknown)
 * @param driftClock how the drift windows tell time: {@code toedit.drift.future.tolerance.ms} (document
 *     times beyond the wall clock plus this are clamped; -1: never) and {@code toedit.drift.idle.ms}
 *     (an input partition silent this long advances with the wall clock; -1: never),
 *     {@code toedit.drift.origins} and {@code toedit.drift.pending.max.ms} (how long a silent partition's
 *     pending documents hold the windows; -1: no hold), see
 *     {@link DriftClock}
 */
public record PipelineConfig(String inputTopic, String editedTopic, String scoredTopic, boolean scoredEnabled,
    boolean scoredTopK, String deadLetterTopic, String inputFormat, int maxChars, boolean requireKey,
    boolean includeOriginal, int batchMaxTokens, long batchMaxLatencyMs, int batchMaxRecords,
    long punctuateIntervalMs, int batchParallelism, boolean overlap, DriftStreamConfig drift, String outputFormat,
    int maxRecordBytes, int dlqMaxValueBytes, String scoringMode, int scoreRetries, long scoreRetryBackoffMs,
    int brokenModelAfter, double flushFraction, long flushMaxMs, DriftClock driftClock) {

  /** The output format of the edited, scored and dead-letter topics. */
  public static final String FORMAT_AVRO = "avro";
  public static final String FORMAT_JSON = "json";
  /** Scoring modes. */
  public static final String SCORING_BATCHED = "batched";
  public static final String SCORING_PER_DOCUMENT = "per-document";
  /** Kafka's default {@code max.request.size} and the assumed limit when nothing else is known. */
  public static final int KAFKA_DEFAULT_MAX_REQUEST_SIZE = 1_048_576;
  /** The transaction timeout assumed when the producer's is unknown (the default of {@link PipelineRunner}). */
  public static final long DEFAULT_TRANSACTION_TIMEOUT_MS = 120_000;

  public static final String PREFIX = "toedit.";

  /** Every pipeline key and its default, in documentation order. */
  public static final Map<String, String> KEYS;

  static {
    Map<String, String> k = new LinkedHashMap<>();
    k.put("toedit.input.topic", "toedit.raw");
    k.put("toedit.edited.topic", "toedit.edited");
    k.put("toedit.scored.topic", "toedit.scored");
    k.put("toedit.scored.enabled", "false");
    k.put("toedit.scored.topk", "true");
    k.put("toedit.dlq.topic", "toedit.dlq");
    k.put("toedit.input.format", "auto");
    k.put("toedit.input.max.chars", "1000000");
    k.put("toedit.input.require.key", "true");
    k.put("toedit.output.include.original", "false");
    k.put("toedit.microbatch.max.tokens", "8192");
    k.put("toedit.microbatch.max.latency.ms", "200");
    k.put("toedit.microbatch.max.records", "512");
    k.put("toedit.microbatch.punctuate.interval.ms", "50");
    k.put("toedit.microbatch.parallelism", "0");
    k.put("toedit.microbatch.overlap", "true");
    k.put("toedit.microbatch.flush.fraction", "0.25");
    k.put("toedit.microbatch.flush.max.ms", "0");
    k.put("toedit.scoring.mode", SCORING_BATCHED);
    k.put("toedit.score.retries", "2");
    k.put("toedit.score.retry.backoff.ms", "100");
    k.put("toedit.score.broken.after", "16");
    k.put("toedit.output.format", FORMAT_AVRO);
    k.put("toedit.output.max.record.bytes", "0");
    k.put("toedit.dlq.max.value.bytes", "65536");
    k.putAll(DriftStreamConfig.KEYS);
    k.put("toedit.drift.future.tolerance.ms", "5000");
    k.put("toedit.drift.idle.ms", "30000");
    k.put("toedit.drift.origins", "0");
    k.put("toedit.drift.pending.max.ms", Long.toString(DriftClock.DEFAULT_PENDING_MAX_MS));
    KEYS = java.util.Collections.unmodifiableMap(k);
  }

  /**
   * Old names still accepted (with a deprecation warning): "batch" now means only the model's
   * forward pass ({@code --max-batch-tokens}); the stream's buffer is the micro-batch.
   */
  public static final Map<String, String> DEPRECATED_KEYS = Map.of(
      "toedit.batch.max.tokens", "toedit.microbatch.max.tokens",
      "toedit.batch.max.latency.ms", "toedit.microbatch.max.latency.ms",
      "toedit.batch.max.records", "toedit.microbatch.max.records",
      "toedit.batch.punctuate.interval.ms", "toedit.microbatch.punctuate.interval.ms",
      "toedit.batch.parallelism", "toedit.microbatch.parallelism");

  private static final Logger LOG = LoggerFactory.getLogger(PipelineConfig.class);

  public PipelineConfig {
    require(!inputTopic.isBlank() && !editedTopic.isBlank() && !deadLetterTopic.isBlank(),
        "topic names must not be empty");
    require(!scoredEnabled || !scoredTopic.isBlank(), "toedit.scored.topic must be set when scoring output is enabled");
    require(inputFormat.equals("json") || inputFormat.equals("avro") || inputFormat.equals("auto"),
        "toedit.input.format must be json, avro or auto, got '" + inputFormat + "'");
    require(maxChars > 0, "toedit.input.max.chars must be positive");
    require(batchMaxTokens > 0, "toedit.microbatch.max.tokens must be positive");
    require(batchMaxLatencyMs > 0, "toedit.microbatch.max.latency.ms must be positive");
    require(batchMaxRecords > 0, "toedit.microbatch.max.records must be positive");
    require(punctuateIntervalMs > 0, "toedit.microbatch.punctuate.interval.ms must be positive");
    require(batchParallelism >= 0, "toedit.microbatch.parallelism must be 0 (one per core) or positive");
    require(outputFormat.equals(FORMAT_AVRO) || outputFormat.equals(FORMAT_JSON),
        "toedit.output.format must be avro or json, got '" + outputFormat + "'");
    require(maxRecordBytes == 0 || maxRecordBytes >= 1024,
        "toedit.output.max.record.bytes must be 0 (found at start-up) or at least 1024");
    require(dlqMaxValueBytes >= 0, "toedit.dlq.max.value.bytes must not be negative");
    require(scoringMode.equals(SCORING_BATCHED) || scoringMode.equals(SCORING_PER_DOCUMENT),
        "toedit.scoring.mode must be batched or per-document, got '" + scoringMode + "'");
    require(scoreRetries >= 0, "toedit.score.retries must not be negative");
    require(scoreRetryBackoffMs >= 0, "toedit.score.retry.backoff.ms must not be negative");
    require(brokenModelAfter >= 2, "toedit.score.broken.after must be at least 2");
    require(flushFraction > 0 && flushFraction <= 0.9, "toedit.microbatch.flush.fraction must be in (0, 0.9]");
    require(flushMaxMs >= 0, "toedit.microbatch.flush.max.ms must not be negative");
    require(driftClock.origins() >= 0, "toedit.drift.origins must be 0 (found at start-up) or positive");
  }

  /** The record size limit in force: {@link #maxRecordBytes()}, or Kafka's default when not resolved. */
  public int effectiveMaxRecordBytes() {
    return maxRecordBytes > 0 ? maxRecordBytes : KAFKA_DEFAULT_MAX_REQUEST_SIZE;
  }

  /** The time budget of one flush: {@link #flushMaxMs()}, or the fraction of the default transaction timeout. */
  public long effectiveFlushMaxMs() {
    return flushMaxMs > 0 ? flushMaxMs : (long) (flushFraction * DEFAULT_TRANSACTION_TIMEOUT_MS);
  }

  /** Whether documents are scored one call per document (bit-exact replay) rather than batched. */
  public boolean perDocumentScoring() {
    return scoringMode.equals(SCORING_PER_DOCUMENT);
  }

  /** {@link #batchParallelism()} with 0 resolved to the number of available cores. */
  public int effectiveParallelism() {
    return batchParallelism > 0 ? batchParallelism : Runtime.getRuntime().availableProcessors();
  }

  public static PipelineConfig defaults() {
    return fromProperties(new Properties());
  }

  /**
   * Reads the {@code toedit.*} keys of {@code props}; missing keys take their defaults; a
   * {@linkplain #DEPRECATED_KEYS deprecated name} is logged once as a warning.
   */
  public static PipelineConfig fromProperties(Properties props) {
    return read(RenamedKeys.apply(props, DEPRECATED_KEYS, LOG::warn, true));
  }

  /** {@link #fromProperties(Properties)}, with each deprecated name reported to {@code warnings}. */
  public static PipelineConfig fromProperties(Properties props, Consumer<String> warnings) {
    return read(RenamedKeys.apply(props, DEPRECATED_KEYS, warnings, false));
  }

  private static PipelineConfig read(Properties props) {
    for (String name : props.stringPropertyNames()) {
      if (name.startsWith(PREFIX) && !KEYS.containsKey(name)) {
        throw new IllegalArgumentException("Unknown pipeline setting '" + name + "'; known settings: "
            + String.join(", ", KEYS.keySet()) + "; deprecated names still accepted: "
            + String.join(", ", new java.util.TreeSet<>(DEPRECATED_KEYS.keySet())));
      }
    }
    Map<String, String> v = withDefaults(KEYS, props);
    return new PipelineConfig(v.get("toedit.input.topic"), v.get("toedit.edited.topic"),
        v.get("toedit.scored.topic"), bool(v, "toedit.scored.enabled"), bool(v, "toedit.scored.topk"),
        v.get("toedit.dlq.topic"), v.get("toedit.input.format").toLowerCase(Locale.ROOT),
        integer(v, "toedit.input.max.chars"), bool(v, "toedit.input.require.key"),
        bool(v, "toedit.output.include.original"), integer(v, "toedit.microbatch.max.tokens"),
        longValue(v, "toedit.microbatch.max.latency.ms"), integer(v, "toedit.microbatch.max.records"),
        longValue(v, "toedit.microbatch.punctuate.interval.ms"), integer(v, "toedit.microbatch.parallelism"),
        bool(v, "toedit.microbatch.overlap"),
        DriftStreamConfig.fromProperties(props), v.get("toedit.output.format").toLowerCase(Locale.ROOT),
        integer(v, "toedit.output.max.record.bytes"), integer(v, "toedit.dlq.max.value.bytes"),
        v.get("toedit.scoring.mode").toLowerCase(Locale.ROOT), integer(v, "toedit.score.retries"),
        longValue(v, "toedit.score.retry.backoff.ms"), integer(v, "toedit.score.broken.after"),
        finite(v, "toedit.microbatch.flush.fraction"), longValue(v, "toedit.microbatch.flush.max.ms"),
        new DriftClock(longValue(v, "toedit.drift.future.tolerance.ms"), longValue(v, "toedit.drift.idle.ms"),
            integer(v, "toedit.drift.origins"), longValue(v, "toedit.drift.pending.max.ms")));
  }

  /** The settings as {@code toedit.*} properties (round-trips through {@link #fromProperties}). */
  public Properties toProperties() {
    Properties p = new Properties();
    p.setProperty("toedit.input.topic", inputTopic);
    p.setProperty("toedit.edited.topic", editedTopic);
    p.setProperty("toedit.scored.topic", scoredTopic);
    p.setProperty("toedit.scored.enabled", Boolean.toString(scoredEnabled));
    p.setProperty("toedit.scored.topk", Boolean.toString(scoredTopK));
    p.setProperty("toedit.dlq.topic", deadLetterTopic);
    p.setProperty("toedit.input.format", inputFormat);
    p.setProperty("toedit.input.max.chars", Integer.toString(maxChars));
    p.setProperty("toedit.input.require.key", Boolean.toString(requireKey));
    p.setProperty("toedit.output.include.original", Boolean.toString(includeOriginal));
    p.setProperty("toedit.microbatch.max.tokens", Integer.toString(batchMaxTokens));
    p.setProperty("toedit.microbatch.max.latency.ms", Long.toString(batchMaxLatencyMs));
    p.setProperty("toedit.microbatch.max.records", Integer.toString(batchMaxRecords));
    p.setProperty("toedit.microbatch.punctuate.interval.ms", Long.toString(punctuateIntervalMs));
    p.setProperty("toedit.microbatch.parallelism", Integer.toString(batchParallelism));
    p.setProperty("toedit.microbatch.overlap", Boolean.toString(overlap));
    p.setProperty("toedit.microbatch.flush.fraction", Double.toString(flushFraction));
    p.setProperty("toedit.microbatch.flush.max.ms", Long.toString(flushMaxMs));
    p.setProperty("toedit.scoring.mode", scoringMode);
    p.setProperty("toedit.score.retries", Integer.toString(scoreRetries));
    p.setProperty("toedit.score.retry.backoff.ms", Long.toString(scoreRetryBackoffMs));
    p.setProperty("toedit.score.broken.after", Integer.toString(brokenModelAfter));
    p.setProperty("toedit.output.format", outputFormat);
    p.setProperty("toedit.output.max.record.bytes", Integer.toString(maxRecordBytes));
    p.setProperty("toedit.dlq.max.value.bytes", Integer.toString(dlqMaxValueBytes));
    p.putAll(drift.toProperties());
    p.setProperty("toedit.drift.future.tolerance.ms", Long.toString(driftClock.futureToleranceMs()));
    p.setProperty("toedit.drift.idle.ms", Long.toString(driftClock.idleMs()));
    p.setProperty("toedit.drift.origins", Integer.toString(driftClock.origins()));
    p.setProperty("toedit.drift.pending.max.ms", Long.toString(driftClock.pendingMaxMs()));
    return p;
  }

  /** A copy with one setting changed (by its property name). */
  public PipelineConfig with(String key, String value) {
    Properties p = toProperties();
    p.setProperty(DEPRECATED_KEYS.getOrDefault(key, key), value);
    return fromProperties(p);
  }
}
