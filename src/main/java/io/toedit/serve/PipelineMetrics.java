package io.toedit.serve;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.toedit.stream.PipelineStats;
import io.toedit.stream.drift.DriftListener;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The pipeline's Prometheus meters (names below are what dashboards and alert rules use).
 *
 * <ul>
 *   <li>{@code toedit_documents_in_total}, {@code toedit_documents_out_total},
 *       {@code toedit_tokens_in_total}, {@code toedit_tokens_out_total}
 *   <li>{@code toedit_dead_letters_total}, {@code toedit_buffered_records},
 *       {@code toedit_edit_rate}, {@code toedit_over_threshold_rate}
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
  private final DistributionSummary batchDocs;
  private final DistributionSummary batchFill;
  private final Timer scoring;
  private final Map<String, AtomicDouble> driftGauges = new ConcurrentHashMap<>();
  private final long startedNanos = System.nanoTime();
  private volatile Supplier<PipelineStats.Snapshot> stats = () -> new PipelineStats.Snapshot(0, 0, 0, 0, 0, 0, 0, 0, 0);
  private volatile long tokenBudget;

  public PipelineMetrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  public PipelineMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    counter("toedit.documents.in", "Records read from the input topic", PipelineStats.Snapshot::received);
    counter("toedit.documents.out", "Edited documents written", PipelineStats.Snapshot::edited);
    counter("toedit.dead.letters", "Records sent to the dead-letter topic", PipelineStats.Snapshot::deadLettered);
    counter("toedit.tokens.in", "Tokens scored", PipelineStats.Snapshot::tokens);
    counter("toedit.tokens.out", "Tokens in edited documents written", s -> s.tokens() - s.deleted());
    counter("toedit.tokens.over.threshold", "Tokens with P above the revise threshold", PipelineStats.Snapshot::overThreshold);
    counter("toedit.tokens.changed", "Tokens replaced by a different token", PipelineStats.Snapshot::changed);
    counter("toedit.tokens.deleted", "Tokens deleted", PipelineStats.Snapshot::deleted);
    Gauge.builder("toedit.buffered.records", this, m -> m.stats.get().buffered())
        .description("Records waiting in micro-batch buffers").register(registry);
    Gauge.builder("toedit.edit.rate", this, m -> ratio(m.stats.get().changed(), m.stats.get().tokens()))
        .description("Changed tokens / scored tokens since start").register(registry);
    Gauge.builder("toedit.over.threshold.rate", this, m -> ratio(m.stats.get().overThreshold(), m.stats.get().tokens()))
        .description("Over-threshold tokens / scored tokens since start").register(registry);
    batchDocs = DistributionSummary.builder("toedit.batch.documents").description("Documents per scoring batch").register(registry);
    batchFill = DistributionSummary.builder("toedit.batch.fill.ratio").description("Batch tokens / token budget").register(registry);
    scoring = Timer.builder("toedit.scoring").description("Wall time to tokenize, score and edit one batch")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
        .register(registry);
  }

  private void counter(String name, String description, ToDoubleFunction<PipelineStats.Snapshot> f) {
    FunctionCounter.builder(name, this, m -> f.applyAsDouble(m.stats.get())).description(description).register(registry);
  }

  private static double ratio(long a, long b) {
    return b == 0 ? 0.0 : (double) a / b;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Reads the pipeline counters from {@code stats} and records every batch it reports. */
  public void bind(PipelineStats pipeline, long batchTokenBudget) {
    bind(pipeline::snapshot, batchTokenBudget);
    pipeline.setBatchObserver((documents, tokens, nanos) -> batch(documents, tokens, nanos));
  }

  /** Reads the pipeline counters from {@code snapshots} (tests, or a process without a stream). */
  public void bind(Supplier<PipelineStats.Snapshot> snapshots, long batchTokenBudget) {
    this.stats = snapshots;
    this.tokenBudget = batchTokenBudget;
  }

  /** Records the device in use as {@code toedit_device_info{device="..."} 1}. */
  public void device(String device) {
    Gauge.builder("toedit.device.info", () -> 1.0).tags(Tags.of("device", device)).register(registry);
  }

  /** One scored batch: its size, its fill against the token budget and how long it took. */
  public void batch(int documents, long tokens, long nanos) {
    batchDocs.record(documents);
    if (tokenBudget > 0) {
      batchFill.record((double) tokens / tokenBudget);
    }
    scoring.record(nanos, TimeUnit.NANOSECONDS);
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

  /** Counts late drift documents: {@code toedit_drift_late_documents_total{source}}. */
  @Override
  public void late(String source, long documents) {
    io.micrometer.core.instrument.Counter.builder("toedit.drift.late.documents")
        .description("Documents left out of the drift statistics because their window had closed")
        .tags(Tags.of("source", source)).register(registry).increment(documents);
  }

  /** The {@code /api/status} document: totals and whole-run rates. */
  public Map<String, Object> status() {
    PipelineStats.Snapshot s = stats.get();
    double seconds = Math.max(1e-9, (System.nanoTime() - startedNanos) / 1e9);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("uptimeSeconds", seconds);
    m.put("documentsIn", s.received());
    m.put("documentsOut", s.edited());
    m.put("tokensIn", s.tokens());
    m.put("deadLetters", s.deadLettered());
    m.put("overThreshold", s.overThreshold());
    m.put("changed", s.changed());
    m.put("deleted", s.deleted());
    m.put("buffered", s.buffered());
    m.put("editRate", ratio(s.changed(), s.tokens()));
    m.put("documentsPerSecond", s.edited() / seconds);
    m.put("tokensPerSecond", s.tokens() / seconds);
    m.put("batches", s.batches());
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
