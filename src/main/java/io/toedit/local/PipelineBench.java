package io.toedit.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.document.Gzip;
import io.toedit.edit.EditConfig;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Benchmark: end-to-end documents/s and tokens/s through a real (local) broker against the
 * scoring-only rate of the same scorer on the same documents, in the same JVM.
 *
 * <pre>
 * java -cp target/toedit-streams.jar io.toedit.local.PipelineBench CORPUS.jsonl[.gz] [runs] [repeat]
 * </pre>
 *
 * <p>Scoring-only: {@code Scorer.score} over the pre-tokenized corpus, in chunks of
 * {@code toedit.microbatch.max.tokens} (the pipeline's micro-batch), sorted by length within a chunk.
 * End-to-end: the input topic is filled first; the clock runs from {@code KafkaStreams.start()} until
 * a read_committed consumer has seen one output (edited or dead letter) per input record, so Streams
 * start-up, validation, tokenization, editing, Avro encoding and transactions all count. The
 * amortised figure leaves start-up out: it runs from the first committed output to the last and
 * counts the documents after the first commit (the steady state of a long-running application).
 *
 * <p>Both modes are warmed up, untimed, on the same documents before the timed runs, until their
 * JIT compilers have settled, as in a long-running application: scoring-only by whole passes,
 * end-to-end by whole runs through the broker, each until the compiler threads of the JVMs it uses
 * (this one; for end-to-end also the broker's) spent less than
 * {@code -Dtoedit.bench.jit.settled=S} CPU-seconds (default 1.0) in the last warm-up, at most
 * {@code -Dtoedit.bench.warmups.max=N} (default 6) times. Compiling the Kafka client, Streams and
 * broker code takes two or three end-to-end runs of the corpus; the scorer's code, one pass. Every
 * timed run reports the compiler CPU of both JVMs, so a reader sees that neither mode was still
 * compiling. {@code -Dtoedit.bench.e2e.warmups=N} runs exactly N end-to-end warm-ups instead (the
 * protocol before: 1), {@code -Dtoedit.bench.e2e.warmup=false} none.
 *
 * <p>A/B: {@code -Dtoedit.bench.variant=key=value[,key=value...]} adds a second end-to-end run per
 * round with those pipeline or Streams settings, in alternating order (A, B, then B, A, ...), so
 * both see the same background load; each is reported against the same scoring-only runs. Every
 * end-to-end run also reports the CPU seconds the broker JVM used during it.
 * {@code -Dtoedit.bench.threads=true} also prints, per end-to-end run, the CPU seconds of this JVM's
 * threads by name (from {@code /proc/self/task}, Linux only; compiler and GC threads included).
 */
public final class PipelineBench {

  private PipelineBench() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: PipelineBench CORPUS.jsonl[.gz] [runs=3] [repeat=1]");
      System.exit(2);
    }
    Path corpus = Path.of(args[0]);
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int repeat = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    PrintWriter out = new PrintWriter(System.out, true);
    List<String[]> docs = read(corpus, repeat);
    PipelineConfig config = PipelineConfig.defaults();
    ModelSettings settings = ModelSettings.defaults();
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      List<int[]> sequences = new ArrayList<>();
      long tokens = 0;
      for (String[] d : docs) {
        int[] ids = tokenizer.encode(d[1]).ids();
        sequences.add(ids);
        tokens += ids.length - 1;
      }
      out.printf(Locale.ROOT, "corpus %s x%d: %d documents, %d tokens; model %s on %s, %d workers%n", corpus, repeat,
          docs.size(), tokens, scorer.modelId(), scorer.device(), settings.workers());
      double settled = Double.parseDouble(System.getProperty("toedit.bench.jit.settled", "1.0"));
      int maxWarmups = Integer.getInteger("toedit.bench.warmups.max", 6);
      for (int w = 0; w < maxWarmups; w++) {
        Map<String, Double> jit0 = jitCpu(ProcessHandle.current().pid());
        double t = scoreOnly(scorer, sequences, config.batchMaxTokens());
        double jit = jitCpuSince(ProcessHandle.current().pid(), jit0);
        out.printf(Locale.ROOT, "scoring-only warm-up %d (not counted): %.2f s; JIT %.2f CPU-s%n", w + 1, t, jit);
        if (!(jit >= settled)) {
          break;
        }
      }
      // Runs alternate (scoring-only, end-to-end, ...) so both modes see the same background load.
      double[] scoring = new double[runs];
      double[] scoringCpu = new double[runs];
      Map<String, String> variant = variant(System.getProperty("toedit.bench.variant", ""));
      int modes = variant.isEmpty() ? 1 : 2;
      double[][] e2e = new double[modes][runs];
      double[][] e2eCpu = new double[modes][runs];
      double[][] steadyRate = new double[modes][runs];
      double[][] brokerCpu = new double[modes][runs];
      if (!variant.isEmpty()) {
        out.printf(Locale.ROOT, "variant B: %s%n", variant);
      }
      Path work = Files.createTempDirectory("toedit-bench-");
      try (LocalBroker broker = LocalBroker.start(work.resolve("broker"), 0)) {
        Integer fixed = Integer.getInteger("toedit.bench.e2e.warmups");
        int warmups = !Boolean.parseBoolean(System.getProperty("toedit.bench.e2e.warmup", "true")) ? 0
            : fixed != null ? fixed : maxWarmups;
        for (int w = 0; w < warmups; w++) {
          double broker0 = processCpuSeconds(broker.pid());
          Map<String, Double> appJit0 = jitCpu(ProcessHandle.current().pid());
          Map<String, Double> brokerJit0 = jitCpu(broker.pid());
          double[] warm = endToEnd(broker.bootstrapServers(), work.resolve("state-warmup-" + w), "benchwarmup" + w,
              docs, tokenizer, scorer, Map.of(), () -> processCpuSeconds(broker.pid()));
          double appJit = jitCpuSince(ProcessHandle.current().pid(), appJit0);
          double brokerJit = jitCpuSince(broker.pid(), brokerJit0);
          out.printf(Locale.ROOT, "end-to-end warm-up %d (not counted): %.2f s  %.1f docs/s; broker JVM %.1f CPU-s; "
              + "JIT %.2f + %.2f (broker) CPU-s; start-up amortised %.1f docs/s%n", w + 1, warm[0],
              docs.size() / warm[0], processCpuSeconds(broker.pid()) - broker0, appJit, brokerJit, warm[1]);
          if (fixed == null && !(appJit + brokerJit >= settled)) {
            break;
          }
        }
        for (int r = 0; r < runs; r++) {
          double cpu0 = cpuSeconds();
          Map<String, Double> jit0 = jitCpu(ProcessHandle.current().pid());
          scoring[r] = scoreOnly(scorer, sequences, config.batchMaxTokens());
          scoringCpu[r] = cpuSeconds() - cpu0;
          out.printf(Locale.ROOT, "scoring-only run %d: %.2f s  %.1f docs/s  %.0f tokens/s  %.0f tokens/CPU-s; "
              + "JIT %.2f CPU-s%n", r + 1, scoring[r], docs.size() / scoring[r], tokens / scoring[r],
              tokens / scoringCpu[r], jitCpuSince(ProcessHandle.current().pid(), jit0));
          for (int k = 0; k < modes; k++) {
            int m = r % 2 == 0 ? k : modes - 1 - k; // A, B; then B, A; ...
            cpu0 = cpuSeconds();
            Map<String, Double> threads0 = threadCpuSeconds();
            double broker0 = processCpuSeconds(broker.pid());
            jit0 = jitCpu(ProcessHandle.current().pid());
            Map<String, Double> brokerJit0 = jitCpu(broker.pid());
            double[] timing = endToEnd(broker.bootstrapServers(), work.resolve("state-" + r + "-" + m),
                "bench" + r + (m == 0 ? "" : "b"), docs, tokenizer, scorer, m == 0 ? Map.of() : variant,
                () -> processCpuSeconds(broker.pid()));
            e2e[m][r] = timing[0];
            steadyRate[m][r] = timing[1];
            e2eCpu[m][r] = cpuSeconds() - cpu0;
            brokerCpu[m][r] = timing[2];
            double brokerAll = processCpuSeconds(broker.pid()) - broker0;
            double jit = jitCpuSince(ProcessHandle.current().pid(), jit0);
            double brokerJit = jitCpuSince(broker.pid(), brokerJit0);
            if (Boolean.getBoolean("toedit.bench.threads")) {
              Map<String, Double> used = new java.util.TreeMap<>();
              lastThreads.forEach((name, cpu) -> used.merge(name, cpu - threads0.getOrDefault(name, 0.0),
                  Double::sum));
              used.values().removeIf(v -> v < 0.05);
              out.printf(Locale.ROOT, "  threads (CPU-s): %s%n", used.entrySet().stream()
                  .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                  .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue())).toList());
            }
            out.printf(Locale.ROOT, "end-to-end%s run %d: %.2f s  %.1f docs/s  %.0f tokens/s  %.0f tokens/CPU-s "
                + "(this JVM); JIT %.2f + %.2f (broker) CPU-s; broker JVM %.1f CPU-s timed (%.1f with filling the "
                + "input topic); start-up amortised %.1f docs/s%n", m == 0 ? "" : " (B)", r + 1, e2e[m][r],
                docs.size() / e2e[m][r], tokens / e2e[m][r], tokens / e2eCpu[m][r], jit, brokerJit, brokerCpu[m][r],
                brokerAll, steadyRate[m][r]);
          }
        }
      } finally {
        Demo.deleteTree(work);
      }
      double s = median(scoring);
      out.printf(Locale.ROOT, "median scoring-only: %.1f docs/s %.0f tokens/s%n", docs.size() / s, tokens / s);
      for (int m = 0; m < modes; m++) {
        String tag = modes == 1 ? "" : m == 0 ? " (A)" : " (B)";
        double e = median(e2e[m]);
        out.printf(Locale.ROOT, "median end-to-end%s:   %.1f docs/s %.0f tokens/s; broker JVM %.1f CPU-s per timed run%n", tag,
            docs.size() / e, tokens / e, median(brokerCpu[m]));
        out.printf(Locale.ROOT, "median end-to-end%s, start-up amortised: %.1f docs/s%n", tag, median(steadyRate[m]));
        out.printf(Locale.ROOT, "end-to-end%s / scoring-only: %.1f %% (wall clock), %.1f %% (start-up amortised), "
            + "%.1f %% (tokens per CPU-second)%n", tag, 100.0 * s / e, 100.0 * median(steadyRate[m]) / (docs.size() / s),
            100.0 * median(scoringCpu) / median(e2eCpu[m]));
        // On a shared machine the load can change between rounds: the ratio of each round's end-to-end
        // run to the scoring-only run just before it is steadier than the ratio of the two medians.
        double[] perRound = new double[runs];
        double[] perRoundWall = new double[runs];
        for (int r = 0; r < runs; r++) {
          perRound[r] = 100.0 * steadyRate[m][r] * scoring[r] / docs.size();
          perRoundWall[r] = 100.0 * scoring[r] / e2e[m][r];
        }
        out.printf(Locale.ROOT, "end-to-end%s / scoring-only of the same round: start-up amortised %s, median %.1f %%;"
            + " wall clock median %.1f %%%n", tag, Arrays.toString(Arrays.stream(perRound)
                .map(v -> Math.round(v * 10) / 10.0).toArray()), median(perRound), median(perRoundWall));
      }
    }
  }

  /** {@link #threadCpuSeconds} at the end of the last end-to-end run, its stream threads still alive. */
  private static Map<String, Double> lastThreads = Map.of();

  /** {@code key=value[,key=value...]}, in order; empty for none. */
  static Map<String, String> variant(String spec) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    for (String item : spec.split(",")) {
      if (item.isBlank()) {
        continue;
      }
      int eq = item.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("toedit.bench.variant items must be key=value: " + item);
      }
      out.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
    }
    return out;
  }

  /**
   * CPU seconds used so far by this JVM's threads, summed by thread name with digits dropped (so the
   * workers of a pool add up); threads that ended are missing. Empty off Linux.
   */
  static Map<String, Double> threadCpuSeconds() {
    return threadCpuSeconds(Path.of("/proc/self/task"));
  }

  /** {@link #threadCpuSeconds()} of the process whose {@code /proc/PID/task} folder is {@code tasks}. */
  static Map<String, Double> threadCpuSeconds(Path tasks) {
    Map<String, Double> out = new java.util.HashMap<>();
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    double tick = 100.0; // USER_HZ on Linux
    try (var dirs = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) dirs::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+", "N");
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / tick; // utime, stime
          out.merge(name, cpu, Double::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  /** CPU seconds used so far by process {@code pid} (NaN when the platform does not say). */
  private static double processCpuSeconds(long pid) {
    return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration()).map(d -> d.toNanos() / 1e9)
        .orElse(Double.NaN);
  }

  /**
   * The CPU seconds of process {@code pid}'s JIT compiler threads ({@code C1/C2 CompilerThread*}) so
   * far, by thread id; for {@link #jitCpuSince}. Empty off Linux.
   */
  static Map<String, Double> jitCpu(long pid) {
    Map<String, Double> out = new java.util.HashMap<>();
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    try (var dirs = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) dirs::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          if (stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).matches("C[12] CompilerThre.*")) {
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            out.put(t.getFileName().toString(), (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0);
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  /**
   * CPU seconds process {@code pid}'s compiler threads used since {@code before} ({@link #jitCpu}),
   * thread by thread: HotSpot retires idle compiler threads, whose time after {@code before} is then
   * missing (little: they retire when there is nothing to compile). NaN off Linux.
   */
  static double jitCpuSince(long pid, Map<String, Double> before) {
    Map<String, Double> now = jitCpu(pid);
    if (now.isEmpty() && before.isEmpty()) {
      return Double.NaN;
    }
    return now.entrySet().stream().mapToDouble(e -> e.getValue() - before.getOrDefault(e.getKey(), 0.0)).sum();
  }

  private static double cpuSeconds() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
  }

  static double scoreOnly(Scorer scorer, List<int[]> sequences, int budget) {
    long t0 = System.nanoTime();
    List<int[]> chunk = new ArrayList<>();
    long inChunk = 0;
    for (int[] s : sequences) {
      chunk.add(s);
      inChunk += s.length;
      if (inChunk >= budget) {
        scoreSorted(scorer, chunk);
        chunk.clear();
        inChunk = 0;
      }
    }
    if (!chunk.isEmpty()) {
      scoreSorted(scorer, chunk);
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static void scoreSorted(Scorer scorer, List<int[]> chunk) {
    List<int[]> sorted = new ArrayList<>(chunk);
    sorted.sort(Comparator.comparingInt(a -> a.length));
    scorer.score(sorted);
  }

  /**
   * Seconds from start to the last output, documents/s from the first committed output to the last,
   * and the broker's CPU seconds ({@code brokerCpu}) over the timed part (filling the input topic left out).
   */
  static double[] endToEnd(String bootstrap, Path stateDir, String prefix, List<String[]> docs, TextTokenizer tokenizer,
      Scorer scorer, Map<String, String> settings, java.util.function.DoubleSupplier brokerCpu) throws Exception {
    Properties props = new Properties();
    settings.forEach(props::setProperty);
    props.setProperty("bootstrap.servers", bootstrap);
    props.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, prefix + "-app");
    props.setProperty(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.setProperty("toedit.input.topic", prefix + ".raw");
    props.setProperty("toedit.edited.topic", prefix + ".edited");
    props.setProperty("toedit.dlq.topic", prefix + ".dlq");
    PipelineConfig config = PipelineConfig.fromProperties(props);
    PipelineRunner.createTopics(props, config, 1, (short) 1);
    Properties p = new Properties();
    p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
    ObjectMapper json = new ObjectMapper();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (String[] d : docs) {
        byte[] value = json.writeValueAsBytes(java.util.Map.of("id", d[0], "text", d[1]));
        producer.send(new ProducerRecord<>(config.inputTopic(), d[0].getBytes(StandardCharsets.UTF_8), value));
      }
      producer.flush();
    }
    Properties c = new Properties();
    c.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = List.of(new TopicPartition(config.editedTopic(), 0),
          new TopicPartition(config.deadLetterTopic(), 0));
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      double broker0 = brokerCpu.getAsDouble();
      long t0 = System.nanoTime();
      try (PipelineRunner runner = PipelineRunner.start(props, tokenizer, scorer, EditConfig.defaults())) {
        long seen = 0;
        long firstSeen = 0;
        long firstAt = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (seen < docs.size()) {
          if (System.nanoTime() > deadline || runner.failure() != null) {
            throw new IllegalStateException("end-to-end run incomplete: " + seen + " of " + docs.size(),
                runner.failure());
          }
          seen += consumer.poll(Duration.ofMillis(50)).count();
          if (firstSeen == 0 && seen > 0) {
            firstSeen = seen;
            firstAt = System.nanoTime();
          }
        }
        long end = System.nanoTime();
        double brokerUsed = brokerCpu.getAsDouble() - broker0;
        lastThreads = threadCpuSeconds(); // before the stream threads end with the runner
        double steady = seen > firstSeen ? (seen - firstSeen) / ((end - firstAt) / 1e9) : Double.NaN;
        return new double[] {(end - t0) / 1e9, steady, brokerUsed};
      }
    }
  }

  static List<String[]> read(Path corpus, int repeat) throws IOException {
    List<String[]> base = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (InputStream raw = Files.newInputStream(corpus);
        InputStream in = Gzip.decompressIfGzip(raw, 1 << 16);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode n = json.readTree(line);
        String text = n.path("text").asText("");
        if (!text.isBlank()) {
          base.add(new String[] {n.hasNonNull("id") ? n.get("id").asText() : "doc-" + base.size(), text});
        }
      }
    }
    List<String[]> all = new ArrayList<>();
    for (int k = 0; k < repeat; k++) {
      for (String[] d : base) {
        all.add(new String[] {repeat == 1 ? d[0] : d[0] + "#" + k, d[1]});
      }
    }
    return all;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
