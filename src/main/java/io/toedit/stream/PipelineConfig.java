package io.toedit.stream;

import static io.toedit.config.ConfigValues.bool;
import static io.toedit.config.ConfigValues.integer;
import static io.toedit.config.ConfigValues.longValue;
import static io.toedit.config.ConfigValues.require;

import io.toedit.stream.drift.DriftSettings;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The pipeline's own settings (topics, input format, limits, micro-batching). They live in the same
 * properties as the Kafka settings under the {@code toedit.} prefix; {@link #KEYS} lists every key
 * with its default (the README's configuration reference is this table).
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
 * @param drift the {@code toedit.drift.*} settings of the windowed drift statistics
 */
public record PipelineConfig(String inputTopic, String editedTopic, String scoredTopic, boolean scoredEnabled,
    boolean scoredTopK, String deadLetterTopic, String inputFormat, int maxChars, boolean requireKey,
    boolean includeOriginal, int batchMaxTokens, long batchMaxLatencyMs, int batchMaxRecords,
    long punctuateIntervalMs, int batchParallelism, DriftSettings drift) {

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
    k.put("toedit.batch.max.tokens", "8192");
    k.put("toedit.batch.max.latency.ms", "200");
    k.put("toedit.batch.max.records", "512");
    k.put("toedit.batch.punctuate.interval.ms", "50");
    k.put("toedit.batch.parallelism", "0");
    k.putAll(DriftSettings.KEYS);
    KEYS = java.util.Collections.unmodifiableMap(k);
  }

  public PipelineConfig {
    require(!inputTopic.isBlank() && !editedTopic.isBlank() && !deadLetterTopic.isBlank(),
        "topic names must not be empty");
    require(!scoredEnabled || !scoredTopic.isBlank(), "toedit.scored.topic must be set when scoring output is enabled");
    require(inputFormat.equals("json") || inputFormat.equals("avro") || inputFormat.equals("auto"),
        "toedit.input.format must be json, avro or auto, got '" + inputFormat + "'");
    require(maxChars > 0, "toedit.input.max.chars must be positive");
    require(batchMaxTokens > 0, "toedit.batch.max.tokens must be positive");
    require(batchMaxLatencyMs > 0, "toedit.batch.max.latency.ms must be positive");
    require(batchMaxRecords > 0, "toedit.batch.max.records must be positive");
    require(punctuateIntervalMs > 0, "toedit.batch.punctuate.interval.ms must be positive");
    require(batchParallelism >= 0, "toedit.batch.parallelism must be 0 (one per core) or positive");
  }

  /** {@link #batchParallelism()} with 0 resolved to the number of available cores. */
  public int effectiveParallelism() {
    return batchParallelism > 0 ? batchParallelism : Runtime.getRuntime().availableProcessors();
  }

  public static PipelineConfig defaults() {
    return fromProperties(new Properties());
  }

  /** Reads the {@code toedit.*} keys of {@code props}; missing keys take their defaults. */
  public static PipelineConfig fromProperties(Properties props) {
    Map<String, String> v = new LinkedHashMap<>(KEYS);
    for (String name : props.stringPropertyNames()) {
      if (name.startsWith(PREFIX)) {
        if (!KEYS.containsKey(name)) {
          throw new IllegalArgumentException("Unknown pipeline setting '" + name + "'; known settings: "
              + String.join(", ", KEYS.keySet()));
        }
        v.put(name, props.getProperty(name).strip());
      }
    }
    return new PipelineConfig(v.get("toedit.input.topic"), v.get("toedit.edited.topic"),
        v.get("toedit.scored.topic"), bool(v, "toedit.scored.enabled"), bool(v, "toedit.scored.topk"),
        v.get("toedit.dlq.topic"), v.get("toedit.input.format").toLowerCase(Locale.ROOT),
        integer(v, "toedit.input.max.chars"), bool(v, "toedit.input.require.key"),
        bool(v, "toedit.output.include.original"), integer(v, "toedit.batch.max.tokens"),
        longValue(v, "toedit.batch.max.latency.ms"), integer(v, "toedit.batch.max.records"),
        longValue(v, "toedit.batch.punctuate.interval.ms"), integer(v, "toedit.batch.parallelism"),
        DriftSettings.fromProperties(props));
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
    p.setProperty("toedit.batch.max.tokens", Integer.toString(batchMaxTokens));
    p.setProperty("toedit.batch.max.latency.ms", Long.toString(batchMaxLatencyMs));
    p.setProperty("toedit.batch.max.records", Integer.toString(batchMaxRecords));
    p.setProperty("toedit.batch.punctuate.interval.ms", Long.toString(punctuateIntervalMs));
    p.setProperty("toedit.batch.parallelism", Integer.toString(batchParallelism));
    p.putAll(drift.toProperties());
    return p;
  }

  /** A copy with one setting changed (by its property name). */
  public PipelineConfig with(String key, String value) {
    Properties p = toProperties();
    p.setProperty(key, value);
    return fromProperties(p);
  }
}
