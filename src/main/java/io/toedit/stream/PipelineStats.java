package io.toedit.stream;

import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one process, shared by its stream threads, for progress logs and metrics. They
 * count work done, including work a failed exactly-once transaction later discards, so they can
 * run ahead of what consumers see; the output topics (read_committed) are the ground truth.
 */
public final class PipelineStats {

  final LongAdder received = new LongAdder();
  final LongAdder edited = new LongAdder();
  final LongAdder deadLettered = new LongAdder();
  final LongAdder tokens = new LongAdder();
  final LongAdder overThreshold = new LongAdder();
  final LongAdder changed = new LongAdder();
  final LongAdder batches = new LongAdder();
  final LongAdder buffered = new LongAdder();
  final LongAdder deleted = new LongAdder();
  final LongAdder scoredParts = new LongAdder();
  final LongAdder droppedObservations = new LongAdder();
  /** The latest flush's cap on tokens per scoring pass (0 before the first measurement). */
  volatile long passTokens;
  /** The scorer's recent throughput, tokens/s (moving average over passes; 0 before the first). */
  volatile double tokensPerSecond;
  /** The time budget of one flush (a fraction of transaction.timeout.ms). */
  volatile long passBudgetMs;
  private volatile BatchObserver batchObserver = (documents, tokens, nanos) -> { };

  /** Told about every scored micro-batch (metrics: batch size, fill, latency). */
  @FunctionalInterface
  public interface BatchObserver {
    /** A micro-batch of {@code documents} documents and {@code tokens} tokens took {@code nanos} to edit. */
    void batch(int documents, long tokens, long nanos);
  }

  public void setBatchObserver(BatchObserver observer) {
    this.batchObserver = observer;
  }

  void batchDone(int documents, long tokens, long nanos) {
    batches.increment();
    batchObserver.batch(documents, tokens, nanos);
  }

  /** A consistent-enough copy of the counters. */
  public Snapshot snapshot() {
    return new Snapshot(received.sum(), edited.sum(), deadLettered.sum(), tokens.sum(), overThreshold.sum(),
        changed.sum(), deleted.sum(), batches.sum(), buffered.sum(), passTokens, tokensPerSecond, passBudgetMs);
  }

  /**
   * Counter values at one moment. {@code buffered} is records waiting in micro-batch buffers;
   * {@code passTokens}, {@code tokensPerSecond} and {@code passBudgetMs} describe the time bound of
   * a flush (see {@code MicroBatchProcessor}).
   */
  public record Snapshot(long received, long edited, long deadLettered, long tokens, long overThreshold,
      long changed, long deleted, long batches, long buffered, long passTokens, double tokensPerSecond,
      long passBudgetMs) {

    /** Without the time-bound figures (zero). */
    public Snapshot(long received, long edited, long deadLettered, long tokens, long overThreshold, long changed,
        long deleted, long batches, long buffered) {
      this(received, edited, deadLettered, tokens, overThreshold, changed, deleted, batches, buffered, 0, 0, 0);
    }
  }
}
