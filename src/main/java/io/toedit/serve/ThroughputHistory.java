package io.toedit.serve;

import io.toedit.stream.PipelineStats;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The pipeline's counters sampled over the whole run, for the dashboard's throughput plot (served
 * in {@code /api/status} as {@code history}): the page can then draw the run from its start, even
 * when it is opened late or after the input ran dry.
 *
 * <p>Samples are taken every {@code interval}; at most {@code capacity} are kept: when full, every
 * other sample is dropped and the interval doubles, so the history always spans the whole run, at a
 * resolution that halves as the run grows. Thread-safe.
 */
public final class ThroughputHistory implements AutoCloseable {

  /** One sample: wall-clock time (epoch ms) and the cumulative counters then. */
  public record Sample(long timeMs, long documentsIn, long documentsOut, long deadLetters, long tokens) {
  }

  private final Supplier<PipelineStats.Snapshot> stats;
  private final LongSupplier clock;
  private final int capacity;
  private final long baseIntervalMs;
  private final List<Sample> samples = new ArrayList<>();
  private long intervalMs;
  private long lastMs = Long.MIN_VALUE;
  private ScheduledExecutorService timer;

  /**
   * @param stats the counters to sample
   * @param intervalMs the first sampling interval
   * @param capacity the most samples kept (at least 4)
   * @param clock epoch milliseconds (tests pass their own)
   */
  public ThroughputHistory(Supplier<PipelineStats.Snapshot> stats, long intervalMs, int capacity, LongSupplier clock) {
    if (intervalMs <= 0 || capacity < 4) {
      throw new IllegalArgumentException("interval must be positive and capacity at least 4");
    }
    this.stats = stats;
    this.baseIntervalMs = intervalMs;
    this.intervalMs = intervalMs;
    this.capacity = capacity;
    this.clock = clock;
  }

  /** Samples every {@code intervalMs} on a daemon thread until {@link #close}. */
  public synchronized ThroughputHistory start() {
    if (timer == null) {
      timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "toedit-throughput-history");
        t.setDaemon(true);
        return t;
      });
      timer.scheduleAtFixedRate(this::sample, 0, baseIntervalMs, TimeUnit.MILLISECONDS);
    }
    return this;
  }

  /** Takes a sample if the current interval has passed since the last one kept. */
  public synchronized void sample() {
    long now = clock.getAsLong();
    if (lastMs != Long.MIN_VALUE && now - lastMs < intervalMs) {
      return;
    }
    PipelineStats.Snapshot s = stats.get();
    samples.add(new Sample(now, s.received(), s.edited(), s.deadLettered(), s.tokens()));
    lastMs = now;
    if (samples.size() > capacity) {
      List<Sample> kept = new ArrayList<>();
      for (int i = 0; i < samples.size(); i++) {
        if (i % 2 == 0 || i == samples.size() - 1) {
          kept.add(samples.get(i));
        }
      }
      samples.clear();
      samples.addAll(kept);
      intervalMs *= 2;
    }
  }

  /** The samples, oldest first. */
  public synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  /** The samples as {@code [timeMs, documentsIn, documentsOut, deadLetters, tokens]} rows (JSON-ready). */
  public List<long[]> rows() {
    List<long[]> out = new ArrayList<>();
    for (Sample s : samples()) {
      out.add(new long[] {s.timeMs(), s.documentsIn(), s.documentsOut(), s.deadLetters(), s.tokens()});
    }
    return out;
  }

  @Override
  public synchronized void close() {
    if (timer != null) {
      timer.shutdownNow();
      timer = null;
    }
  }
}
