package io.toedit.stream.drift;

import io.toedit.drift.DocumentObservation;
import io.toedit.drift.StreamKind;
import io.toedit.drift.WindowSummary;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.stream.PipelineConfig;
import io.toedit.text.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Throughput of the streaming drift aggregation (not a test: speed is never asserted): observation
 * batches of random token ids, encoded with the real {@link ObservationBatch} serde, piped through
 * the {@link DriftProcessor} into its persistent RocksDB window store (one read-modify-write of the
 * serialized {@link WindowSummary} per batch), all in one window of one key. Reports n-gram
 * updates/s and the stored size of the window.
 *
 * <pre>java --add-modules=jdk.incubator.foreign -cp target/classes:target/test-classes:$CP \
 *     io.toedit.stream.drift.DriftAggregationBench [tokens=1000000] [vocab=1048576] [docsPerBatch=32] [runs=3]</pre>
 */
public final class DriftAggregationBench {

  private DriftAggregationBench() {
  }

  public static void main(String[] args) throws IOException {
    int totalTokens = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int vocab = args.length > 1 ? Integer.parseInt(args[1]) : 1 << 20;
    int docsPerBatch = args.length > 2 ? Integer.parseInt(args[2]) : 32;
    int runs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    int docLen = 256;
    long t0 = 1_764_064_800_000L;
    Random rnd = new Random(42);
    List<ObservationBatch> batches = new ArrayList<>();
    List<DocumentObservation> pending = new ArrayList<>();
    long ngramUpdates = 0;
    for (int t = 0; t < totalTokens; t += docLen) {
      float[] probs = new float[docLen];
      for (int i = 0; i < docLen; i++) {
        probs[i] = rnd.nextFloat() * 0.99f + 0.01f;
      }
      pending.add(new DocumentObservation("bench", StreamKind.RAW, t0 + 1, rnd.ints(docLen, 0, vocab).toArray(),
          probs, 0, 0, 0, docLen * 1.5, docLen));
      ngramUpdates += 3L * docLen - 3;
      if (pending.size() == docsPerBatch) {
        batches.add(new ObservationBatch("bench", StreamKind.RAW, pending));
        pending = new ArrayList<>();
      }
    }
    if (!pending.isEmpty()) {
      batches.add(new ObservationBatch("bench", StreamKind.RAW, pending));
    }
    List<byte[]> encoded = batches.stream().map(ObservationBatch::encode).toList();
    DriftStreamConfig settings = PipelineConfig.defaults().drift();
    double[] rates = new double[runs];
    try (TextTokenizer tokenizer = Models.openTokenizer(ModelSettings.defaults())) {
      for (int r = 0; r < runs; r++) {
        Path dir = Files.createTempDirectory("toedit-drift-bench");
        Topology topology = new Topology();
        topology.addSource("obs", new StringDeserializer(), ObservationBatch.serde().deserializer(), "obs");
        topology.addProcessor("drift", new DriftProcessor.Supplier(settings, null, tokenizer.vocabulary(),
            DriftListener.none()), "obs");
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-drift-bench");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
        p.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(topology, p)) {
          TestInputTopic<String, byte[]> in = driver.createInputTopic("obs", new StringSerializer(),
              new org.apache.kafka.common.serialization.ByteArraySerializer());
          long start = System.nanoTime();
          for (byte[] b : encoded) {
            in.pipeInput("bench|raw", b, t0 + 1);
          }
          long nanos = System.nanoTime() - start;
          rates[r] = ngramUpdates / (nanos / 1e9);
          WindowStore<String, byte[]> store = driver.getWindowStore(DriftProcessor.WINDOW_STORE);
          byte[] stored = store.fetch("bench|raw", t0);
          WindowSummary s = WindowSummary.fromBytes(stored);
          System.out.printf(Locale.ROOT,
              "run %d: %d batches of %d docs, %d tokens, %.0f n-gram updates/s (%.2f s, %.1f ms/batch); "
                  + "stored window %d bytes, distinct bigrams ~%.0f%n",
              r + 1, encoded.size(), docsPerBatch, s.tokens(), rates[r], nanos / 1e9, nanos / 1e6 / encoded.size(),
              stored.length, s.distinctEstimate(2));
        } finally {
          try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
          }
        }
      }
    }
    double[] sorted = rates.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT, "median: %.0f n-gram updates/s (tokens=%d vocab=%d docsPerBatch=%d runs=%d)%n",
        sorted[runs / 2], totalTokens, vocab, docsPerBatch, runs);
  }
}
