package io.toedit.stream;

import io.toedit.edit.EditConfig;
import io.toedit.model.Scorer;
import io.toedit.stream.drift.DriftListener;
import io.toedit.stream.drift.DriftStreamConfig;
import io.toedit.text.TextTokenizer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/**
 * Runs the topology of {@link ToEditTopology} on a cluster: builds the Streams configuration (the
 * caller's Kafka properties, then {@link #STREAMS_DEFAULTS}), starts {@link KafkaStreams}, and
 * prints a one-line progress log. The tokenizer and scorer are owned by the caller (one per process,
 * shared by every stream thread) and must outlive the runner.
 */
public final class PipelineRunner implements AutoCloseable {

  /** Streams settings applied when the caller did not set them. */
  public static final Map<String, String> STREAMS_DEFAULTS;

  static {
    Map<String, String> d = new LinkedHashMap<>();
    d.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-streams");
    d.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    d.put(StreamsConfig.STATE_DIR_CONFIG,
        Path.of(System.getProperty("java.io.tmpdir"), "toedit-streams-state").toString());
    d.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, "1");
    d.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "100");
    // A micro-batch is scored inside one transaction; Streams' 10 s default aborts it (and fences
    // the thread) when a large batch on a slow or busy CPU takes longer.
    d.put(StreamsConfig.producerPrefix("transaction.timeout.ms"), "120000");
    STREAMS_DEFAULTS = java.util.Collections.unmodifiableMap(d);
  }

  private final KafkaStreams streams;
  private final PipelineStats stats;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private ScheduledExecutorService progress;

  private PipelineRunner(KafkaStreams streams, PipelineStats stats) {
    this.streams = streams;
    this.stats = stats;
  }

  /** The Kafka Streams properties: {@code props} without the {@code toedit.*} keys, plus defaults. */
  public static Properties streamsProperties(Properties props) {
    Properties out = new Properties();
    for (String k : props.stringPropertyNames()) {
      if (!k.startsWith(PipelineConfig.PREFIX)) {
        out.setProperty(k, props.getProperty(k));
      }
    }
    STREAMS_DEFAULTS.forEach(out::putIfAbsent);
    return out;
  }

  /**
   * Starts the pipeline and returns at once (Streams joins the group in the background).
   *
   * @param props Kafka client, Streams and {@code toedit.*} pipeline properties together
   */
  public static PipelineRunner start(Properties props, TextTokenizer tokenizer, Scorer scorer, EditConfig edit) {
    return start(props, tokenizer, scorer, edit, DriftListener.none());
  }

  /**
   * As {@link #start(Properties, TextTokenizer, Scorer, EditConfig)}, reporting drift gauges to
   * {@code driftListener}. With drift statistics enabled, the observations, drift and alerts topics
   * are created first when missing (with the input topic's partition count).
   */
  public static PipelineRunner start(Properties props, TextTokenizer tokenizer, Scorer scorer, EditConfig edit,
      DriftListener driftListener) {
    PipelineConfig config = PipelineConfig.fromProperties(props);
    if (config.drift().enabled()) {
      ensureDriftTopics(props, config);
    }
    PipelineStats stats = new PipelineStats();
    KafkaStreams streams = new KafkaStreams(ToEditTopology.build(config, tokenizer, scorer, edit, stats,
        driftListener), streamsProperties(props));
    PipelineRunner runner = new PipelineRunner(streams, stats);
    streams.setUncaughtExceptionHandler(e -> {
      runner.failure.compareAndSet(null, e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> {
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        runner.stopped.countDown();
      }
    });
    streams.start();
    return runner;
  }

  /**
   * Creates the pipeline's topics that do not exist yet: input, edited, dead-letter and (when
   * enabled) scored. Existing topics are left as they are.
   */
  public static List<String> createTopics(Properties clientProps, PipelineConfig config, int partitions,
      short replication) throws InterruptedException {
    List<String> names = new ArrayList<>(List.of(config.inputTopic(), config.editedTopic(), config.deadLetterTopic()));
    if (config.scoredEnabled()) {
      names.add(config.scoredTopic());
    }
    if (config.drift().enabled()) {
      names.addAll(driftTopics(config));
    }
    return createTopics(clientProps, names, partitions, replication);
  }

  /** The drift topics: observations (internal, partitioned by source), drift windows, alerts. */
  static List<String> driftTopics(PipelineConfig config) {
    DriftStreamConfig d = config.drift();
    return List.of(d.observationsTopic(), d.driftTopic(), d.alertsTopic());
  }

  /**
   * Creates the drift topics that are missing, like the input topic (its partition count, replication
   * 1 when the cluster has a single broker, else the cluster default).
   */
  private static void ensureDriftTopics(Properties clientProps, PipelineConfig config) {
    try (Admin client = Admin.create(adminProperties(clientProps))) {
      java.util.Set<String> existing = client.listTopics().names().get(60, TimeUnit.SECONDS);
      List<String> missing = new ArrayList<>();
      for (String t : driftTopics(config)) {
        if (!existing.contains(t)) {
          missing.add(t);
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      int partitions = existing.contains(config.inputTopic())
          ? client.describeTopics(List.of(config.inputTopic())).allTopicNames().get(60, TimeUnit.SECONDS)
              .get(config.inputTopic()).partitions().size()
          : 1;
      int brokers = client.describeCluster().nodes().get(60, TimeUnit.SECONDS).size();
      createTopics(clientProps, missing, partitions, brokers >= 3 ? (short) 3 : (short) 1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while creating the drift topics", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("Cannot check or create the drift topics " + driftTopics(config)
          + " (create them yourself, or set toedit.drift.enabled=false): " + e.getMessage(), e);
    }
  }

  private static Properties adminProperties(Properties clientProps) {
    Properties admin = new Properties();
    for (String k : clientProps.stringPropertyNames()) {
      if (!k.startsWith(PipelineConfig.PREFIX)) {
        admin.setProperty(k, clientProps.getProperty(k));
      }
    }
    return admin;
  }

  private static List<String> createTopics(Properties clientProps, List<String> names, int partitions,
      short replication) throws InterruptedException {
    Properties admin = adminProperties(clientProps);
    List<String> created = new ArrayList<>();
    try (Admin client = Admin.create(admin)) {
      for (String name : names) {
        try {
          client.createTopics(List.of(new NewTopic(name, partitions, replication))).all().get(60, TimeUnit.SECONDS);
          created.add(name);
        } catch (java.util.concurrent.ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("Cannot create topic " + name + ": " + e.getCause().getMessage(), e);
          }
        } catch (java.util.concurrent.TimeoutException e) {
          throw new IllegalStateException("Timed out creating topic " + name
              + ": is the cluster at bootstrap.servers reachable?", e);
        }
      }
    }
    return created;
  }

  public PipelineStats stats() {
    return stats;
  }

  /** The running Kafka Streams client (for interactive queries over the drift stores). */
  public KafkaStreams streams() {
    return streams;
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  /** The exception that stopped a stream thread, if any. */
  public Throwable failure() {
    return failure.get();
  }

  /** Prints {@link #progressLine} every {@code every} until closed. */
  public void printProgress(PrintWriter out, Duration every) {
    progress = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "toedit-progress");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    progress.scheduleAtFixedRate(() -> {
      out.println(progressLine(stats.snapshot(), streams.state().toString(), (System.nanoTime() - start) / 1e9));
      out.flush();
    }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** One line: counts so far and rates since the start. */
  public static String progressLine(PipelineStats.Snapshot s, String state, double seconds) {
    double secs = Math.max(seconds, 1e-9);
    return String.format(Locale.ROOT,
        "progress: %.0fs state=%s in=%d edited=%d dead=%d buffered=%d batches=%d tokens=%d (%.0f tok/s, %.1f docs/s) "
            + "over=%d changed=%d", seconds, state, s.received(), s.edited(), s.deadLettered(), s.buffered(),
        s.batches(), s.tokens(), s.tokens() / secs, s.edited() / secs, s.overThreshold(), s.changed());
  }

  /** Blocks until Streams stops by itself (fatal error) or {@code timeout} passes. */
  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stops Streams (committing the current transaction) and the progress log. Idempotent. */
  @Override
  public void close() {
    if (progress != null) {
      progress.shutdownNow();
    }
    streams.close(Duration.ofSeconds(60));
  }
}
