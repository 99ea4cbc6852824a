package io.toedit.stream;

import static io.toedit.config.ConfigValues.bool;
import static io.toedit.config.ConfigValues.integer;
import static io.toedit.config.ConfigValues.longValue;
import static io.toedit.config.ConfigValues.require;

import io.toedit.config.RenamedKeys;
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
 * @param drift the {@code toedit.drift.*} settings of the windowed drift statistics
 */
public record PipelineConfig(String inputTopic, String editedTopic, String scoredTopic, boolean scoredEnabled,
    boolean scoredTopK, String deadLetterTopic, String inputFormat, int maxChars, boolean requireKey,
    boolean includeOriginal, int batchMaxTokens, long batchMaxLatencyMs, int batchMaxRecords,
    long punctuateIntervalMs, int batchParallelism, DriftStreamConfig drift) {

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
    k.putAll(DriftStreamConfig.KEYS);
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
    Map<String, String> v = new LinkedHashMap<>(KEYS);
    for (String name : props.stringPropertyNames()) {
      if (name.startsWith(PREFIX)) {
        if (!KEYS.containsKey(name)) {
          throw new IllegalArgumentException("Unknown pipeline setting '" + name + "'; known settings: "
              + String.join(", ", KEYS.keySet()) + "; deprecated names still accepted: "
              + String.join(", ", new java.util.TreeSet<>(DEPRECATED_KEYS.keySet())));
        }
        v.put(name, props.getProperty(name).strip());
      }
    }
    return new PipelineConfig(v.get("toedit.input.topic"), v.get("toedit.edited.topic"),
        v.get("toedit.scored.topic"), bool(v, "toedit.scored.enabled"), bool(v, "toedit.scored.topk"),
        v.get("toedit.dlq.topic"), v.get("toedit.input.format").toLowerCase(Locale.ROOT),
        integer(v, "toedit.input.max.chars"), bool(v, "toedit.input.require.key"),
        bool(v, "toedit.output.include.original"), integer(v, "toedit.microbatch.max.tokens"),
        longValue(v, "toedit.microbatch.max.latency.ms"), integer(v, "toedit.microbatch.max.records"),
        longValue(v, "toedit.microbatch.punctuate.interval.ms"), integer(v, "toedit.microbatch.parallelism"),
        DriftStreamConfig.fromProperties(props));
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
    p.putAll(drift.toProperties());
    return p;
  }

  /** A copy with one setting changed (by its property name). */
  public PipelineConfig with(String key, String value) {
    Properties p = toProperties();
    p.setProperty(DEPRECATED_KEYS.getOrDefault(key, key), value);
    return fromProperties(p);
  }
}
