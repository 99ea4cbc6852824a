package io.toedit.serve;

import io.toedit.stream.DriftListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The pipeline's Prometheus meters (names below are what dashboards and alert rules use).
 *
 * <ul>
 *   <li>{@code toedit_documents_in_total}, {@code toedit_documents_out_total},
 *       {@code toedit_tokens_in_total}, {@code toedit_tokens_out_total}
 *   <li>{@code toedit_dead_letters_total{stage}}
 *   <li>{@code toedit_batch_documents}, {@code toedit_batch_fill_ratio} (summaries),
 *       {@code toedit_scoring_seconds} (timer with histogram buckets)
 *   <li>{@code toedit_tokens_over_threshold_total}, {@code toedit_tokens_changed_total},
 *       {@code toedit_tokens_deleted_total}
 *   <li>{@code toedit_device_info{device}} = 1
 *   <li>{@code toedit_drift_<metric>{source,stream}} gauges, one per drift metric
 * </ul>
 *
 * Thread-safe.
 */
public final class PipelineMetrics implements DriftListener {

  private final PrometheusMeterRegistry registry;
  private final Counter docsIn;
  private final Counter docsOut;
  private final Counter tokensIn;
  private final Counter tokensOut;
  private final Counter overThreshold;
  private final Counter changed;
  private final Counter deleted;
  private final DistributionSummary batchDocs;
  private final DistributionSummary batchFill;
  private final Timer scoring;
  private final Map<String, Counter> deadLetters = new ConcurrentHashMap<>();
  private final Map<String, AtomicDouble> driftGauges = new ConcurrentHashMap<>();
  private final long startedNanos = System.nanoTime();

  public PipelineMetrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public PipelineMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    docsIn = Counter.builder("toedit.documents.in").description("Documents read from the input topic").register(registry);
    docsOut = Counter.builder("toedit.documents.out").description("Edited documents written").register(registry);
    tokensIn = Counter.builder("toedit.tokens.in").description("Tokens scored").register(registry);
    tokensOut = Counter.builder("toedit.tokens.out").description("Tokens in edited documents written").register(registry);
    overThreshold = Counter.builder("toedit.tokens.over.threshold").description("Tokens with P above the revise threshold").register(registry);
    changed = Counter.builder("toedit.tokens.changed").description("Tokens replaced by a different token").register(registry);
    deleted = Counter.builder("toedit.tokens.deleted").description("Tokens deleted").register(registry);
    batchDocs = DistributionSummary.builder("toedit.batch.documents").description("Documents per scoring batch").register(registry);
    batchFill = DistributionSummary.builder("toedit.batch.fill.ratio").description("Batch tokens / token budget").register(registry);
    scoring = Timer.builder("toedit.scoring").description("Wall time to tokenize, score and edit one batch")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
        .register(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Records the device in use as {@code toedit_device_info{device="..."} 1}. */
  public void device(String device) {
    Gauge.builder("toedit.device.info", () -> 1.0).tags(Tags.of("device", device)).register(registry);
  }

  public void documentIn() {
    docsIn.increment();
  }

  /** One scored batch: its size, its fill against the token budget and how long it took. */
  public void batch(int documents, long tokens, long tokenBudget, long nanos) {
    batchDocs.record(documents);
    if (tokenBudget > 0) {
      batchFill.record((double) tokens / tokenBudget);
    }
    scoring.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** One edited document written to the output topic. */
  public void edited(int tokens, int over, int changedTokens, int deletedTokens) {
    docsOut.increment();
    tokensIn.increment(tokens);
    tokensOut.increment(tokens - deletedTokens);
    overThreshold.increment(over);
    changed.increment(changedTokens);
    deleted.increment(deletedTokens);
  }

  public void deadLetter(String stage) {
    deadLetters.computeIfAbsent(stage, s -> Counter.builder("toedit.dead.letters")
        .description("Records sent to the dead-letter topic").tag("stage", s).register(registry)).increment();
  }

  /** Sets the drift gauge {@code toedit_drift_<name>{source,stream}}. */
  @Override
  public void drift(String source, String stream, String name, double value) {
    String key = name + '\u0000' + source + '\u0000' + stream;
    driftGauges.computeIfAbsent(key, k -> {
      AtomicDouble holder = new AtomicDouble();
      Gauge.builder("toedit.drift." + name, holder, AtomicDouble::get)
          .tags(Tags.of("source", source, "stream", stream)).register(registry);
      return holder;
    }).set(value);
  }

  /** The {@code /api/status} document: totals and whole-run rates. */
  public Map<String, Object> status() {
    double seconds = Math.max(1e-9, (System.nanoTime() - startedNanos) / 1e9);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("uptimeSeconds", seconds);
    m.put("documentsIn", docsIn.count());
    m.put("documentsOut", docsOut.count());
    m.put("tokensIn", tokensIn.count());
    m.put("deadLetters", deadLetters.values().stream().mapToDouble(Counter::count).sum());
    m.put("overThreshold", overThreshold.count());
    m.put("changed", changed.count());
    m.put("deleted", deleted.count());
    m.put("editRate", tokensIn.count() == 0 ? 0.0 : changed.count() / tokensIn.count());
    m.put("documentsPerSecond", docsOut.count() / seconds);
    m.put("tokensPerSecond", tokensIn.count() / seconds);
    m.put("batches", batchDocs.count());
    m.put("meanBatchDocuments", batchDocs.mean());
    m.put("meanScoringMillis", scoring.mean(TimeUnit.MILLISECONDS));
    return m;
  }

  /** A lock-free double holder for gauges. */
  private static final class AtomicDouble {
    private final AtomicLong bits = new AtomicLong(Double.doubleToLongBits(Double.NaN));

    double get() {
      return Double.longBitsToDouble(bits.get());
    }

    void set(double v) {
      bits.set(Double.doubleToLongBits(v));
    }
  }

}
