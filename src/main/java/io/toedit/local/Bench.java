package io.toedit.local;

import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** Scoring throughput: one warm-up pass, then timed passes over the same documents; reports the median. */
public final class Bench {

  /** Result of a benchmark; {@code tokensPerSecond} holds every timed run. */
  public record Result(long scoredTokens, double[] tokensPerSecond, double median, double[] tokensPerCpuSecond) {
  }

  /** CPU time of the whole process (all threads, native ones included), or -1 when unavailable. */
  static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
  }

  private Bench() {
  }

  public static Result run(Scorer scorer, List<Corpus.Doc> docs, int runs, Consumer<String> log) {
    List<int[]> seqs = new ArrayList<>(docs.size());
    docs.forEach(d -> seqs.add(d.ids()));
    long tokens = Corpus.scoredTokens(docs);
    long t0 = System.nanoTime();
    scorer.score(seqs);
    log.accept(String.format(java.util.Locale.ROOT, "warm-up: %.2f s", (System.nanoTime() - t0) / 1e9));
    double[] rates = new double[runs];
    double[] perCpu = new double[runs];
    for (int r = 0; r < runs; r++) {
      long c = processCpuNanos();
      long s = System.nanoTime();
      scorer.score(seqs);
      double sec = (System.nanoTime() - s) / 1e9;
      double cpu = (processCpuNanos() - c) / 1e9;
      rates[r] = tokens / sec;
      perCpu[r] = tokens / cpu;
      // tokens per CPU-second shows the cost when the cores are shared with other processes
      log.accept(String.format(java.util.Locale.ROOT, "run %d: %.3f s, %.0f scored tokens/s (%.0f per CPU-second)",
          r + 1, sec, rates[r], perCpu[r]));
    }
    double[] sorted = rates.clone();
    Arrays.sort(sorted);
    double median = runs % 2 == 1 ? sorted[runs / 2] : (sorted[runs / 2 - 1] + sorted[runs / 2]) / 2;
    return new Result(tokens, rates, median, perCpu);
  }
}
