package io.toedit.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Aggregation throughput and bounded size of {@link WindowSummary} on random token ids (not a test:
 * speed is never asserted). Each run folds the same documents of random ids in [0, vocab) into a
 * fresh summary with the default {@link SummaryConfig}, then serializes it.
 *
 * <pre>java --add-modules=jdk.incubator.foreign -cp target/classes:target/test-classes:$CP \
 *     io.toedit.drift.DriftBenchmark [tokens=1000000] [vocab=1048576] [runs=5]</pre>
 */
public final class DriftBenchmark {

  private DriftBenchmark() {
  }

  public static void main(String[] args) {
    int totalTokens = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int vocab = args.length > 1 ? Integer.parseInt(args[1]) : 1 << 20;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int docLen = 256;
    Random rnd = new Random(42);
    List<DocumentObservation> docs = new ArrayList<>();
    float[] probs = new float[docLen];
    for (int t = 0; t < totalTokens; t += docLen) {
      for (int i = 0; i < docLen; i++) {
        probs[i] = rnd.nextFloat();
      }
      docs.add(new DocumentObservation("bench", StreamKind.RAW, t, rnd.ints(docLen, 0, vocab).toArray(),
          probs.clone(), 0, 0, 0, docLen * 1.0, docLen));
    }
    long ngramUpdates = 0;
    for (DocumentObservation d : docs) {
      for (int n = 1; n <= 3; n++) {
        ngramUpdates += Math.max(0, d.tokenIds().length - n + 1);
      }
    }
    // warm-up
    WindowSummary warm = new WindowSummary(SummaryConfig.defaults());
    docs.subList(0, Math.min(docs.size(), 400)).forEach(warm::update);
    double[] rates = new double[runs];
    int size = 0;
    WindowSummary s = null;
    for (int r = 0; r < runs; r++) {
      s = new WindowSummary(SummaryConfig.defaults());
      long t0 = System.nanoTime();
      for (DocumentObservation d : docs) {
        s.update(d);
      }
      long t1 = System.nanoTime();
      byte[] bytes = s.toByteArray();
      long t2 = System.nanoTime();
      size = bytes.length;
      rates[r] = ngramUpdates / ((t1 - t0) / 1e9);
      System.out.printf(Locale.ROOT, "run %d: %.0f n-gram updates/s (%.3f s), serialize %.1f ms, %d bytes%n", r + 1,
          rates[r], (t1 - t0) / 1e9, (t2 - t1) / 1e6, size);
    }
    Arrays.sort(rates);
    System.out.printf(Locale.ROOT, "documents %d, tokens %d, n-gram updates %d per run%n", docs.size(),
        s.tokens(), ngramUpdates);
    System.out.printf(Locale.ROOT, "distinct n-grams (HLL): %.0f / %.0f / %.0f%n", s.distinctEstimate(1),
        s.distinctEstimate(2), s.distinctEstimate(3));
    System.out.printf(Locale.ROOT, "median %.0f n-gram updates/s over %d runs; serialized summary %d bytes%n",
        rates[runs / 2], runs, size);
  }
}
