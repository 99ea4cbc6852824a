package io.toedit.stream.drift;

/**
 * How the drift processor tells time (the {@code toedit.drift.future.tolerance.ms},
 * {@code toedit.drift.idle.ms} and {@code toedit.drift.origins} settings of {@code PipelineConfig}).
 *
 * <p>Each input partition that writes observations (its origin, a record header) has its own
 * watermark, the latest document time it sent; windows close on the minimum over the origins minus
 * the grace. A document time later than the wall clock plus {@code futureToleranceMs} is clamped to
 * it for its window and does not move the watermark, so one producer with a wrong clock cannot close
 * every window at once, however far behind the processing is. An origin that sent
 * nothing for {@code idleMs} of wall-clock time advances with the wall clock, so neither a quiet
 * partition nor the end of the traffic keeps the last windows open.
 *
 * @param futureToleranceMs how far ahead of the wall clock a document time may be; negative: no clamp
 * @param idleMs wall-clock time after which a silent origin advances with the wall clock; negative: never
 * @param origins the input partitions (origins {@code 0..origins-1}) windows wait for: until each has
 *     been seen, or has been silent for {@code idleMs} since the processor started, no window closes;
 *     0: unknown (windows close on the origins seen so far)
 */
public record DriftClock(long futureToleranceMs, long idleMs, int origins) {

  /** No clamping, no idle advance: windows close on the event-time watermark alone. */
  public static final DriftClock EVENT_TIME_ONLY = new DriftClock(-1, -1);

  /** Origins unknown. */
  public DriftClock(long futureToleranceMs, long idleMs) {
    this(futureToleranceMs, idleMs, 0);
  }
}
