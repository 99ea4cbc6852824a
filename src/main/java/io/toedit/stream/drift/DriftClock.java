package io.toedit.stream.drift;

/**
 * How the drift processor tells time (the {@code toedit.drift.future.tolerance.ms},
 * {@code toedit.drift.idle.ms}, {@code toedit.drift.origins} and {@code toedit.drift.pending.max.ms}
 * settings of {@code PipelineConfig}).
 *
 * <p>Each input partition that writes observations (its origin, a record header) has its own
 * watermark, the latest document time it sent; windows close on the minimum over the origins minus
 * the grace. A document time later than the wall clock plus {@code futureToleranceMs} is clamped to
 * it for its window and does not move the watermark, so one producer with a wrong clock cannot close
 * every window at once, however far behind the processing is. An origin that sent
 * nothing for {@code idleMs} of wall-clock time advances with the wall clock, so neither a quiet
 * partition nor the end of the traffic keeps the last windows open. An origin whose last batch said
 * it still has documents to observe (buffered or being scored: a slow model's flush) is busy, not
 * idle: it advances only up to the earliest of those documents' times, for at most
 * {@code pendingMaxMs} of silence, so a slow flush does not make its own documents late.
 *
 * @param futureToleranceMs how far ahead of the wall clock a document time may be; negative: no clamp
 * @param idleMs wall-clock time after which a silent origin advances with the wall clock; negative: never
 * @param origins the input partitions (origins {@code 0..origins-1}) windows wait for: until each has
 *     been seen, or has been silent for {@code idleMs} since the processor started, no window closes;
 *     0: unknown (windows close on the origins seen so far)
 * @param pendingMaxMs how long a silent origin's pending documents hold the windows; after that it
 *     advances like an idle origin (a pending document that never comes, say one dead-lettered, must
 *     not hold the last windows open forever); negative: no hold (idle origins advance regardless)
 */
public record DriftClock(long futureToleranceMs, long idleMs, int origins, long pendingMaxMs) {

  /** The default of {@code toedit.drift.pending.max.ms}: ten minutes. */
  public static final long DEFAULT_PENDING_MAX_MS = 600_000;

  /** No clamping, no idle advance: windows close on the event-time watermark alone. */
  public static final DriftClock EVENT_TIME_ONLY = new DriftClock(-1, -1);

  /** Origins unknown, the default pending hold. */
  public DriftClock(long futureToleranceMs, long idleMs) {
    this(futureToleranceMs, idleMs, 0, DEFAULT_PENDING_MAX_MS);
  }
}
