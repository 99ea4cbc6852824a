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
    // the thread) when a large batch on a slow or busy CPU takes longer. A flush keeps to
    // toedit.microbatch.flush.fraction of it (see MicroBatchProcessor), and max.poll.interval.ms follows
    // from it (see streamsProperties).
    d.put(StreamsConfig.producerPrefix("transaction.timeout.ms"),
        Long.toString(PipelineConfig.DEFAULT_TRANSACTION_TIMEOUT_MS));
    // A record refused by the producer or broker despite the size checks goes to the dead-letter topic.
    d.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProductionHandler.class.getName());
    STREAMS_DEFAULTS = java.util.Collections.unmodifiableMap(d);
  }

  /** Stream threads replaced after an unexpected failure, within {@link #REPLACE_WINDOW_MS}, before the client stops. */
  static final int MAX_THREAD_REPLACEMENTS = 3;
  static final long REPLACE_WINDOW_MS = 600_000;

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PipelineRunner.class);

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
    // A flush runs between two polls: the poll interval must outlast the transaction it may hold.
    long tx = transactionTimeoutMs(out);
    if (out.getProperty("max.poll.interval.ms") == null
        && out.getProperty(StreamsConfig.consumerPrefix("max.poll.interval.ms")) == null
        && out.getProperty(StreamsConfig.mainConsumerPrefix("max.poll.interval.ms")) == null) {
      out.setProperty(StreamsConfig.consumerPrefix("max.poll.interval.ms"), Long.toString(maxPollIntervalMs(tx)));
    }
    PipelineConfig config = PipelineConfig.fromProperties(props);
    out.setProperty(DeadLetterProductionHandler.DLQ_TOPIC_CONFIG, config.deadLetterTopic());
    out.setProperty(DeadLetterProductionHandler.FORMAT_CONFIG, config.outputFormat());
    if (config.maxRecordBytes() > 0) {
      out.setProperty(DeadLetterProductionHandler.LIMIT_CONFIG, Integer.toString(config.maxRecordBytes()));
      // Batches of small records must fit the topic too (the broker checks whole batches).
      if (config.maxRecordBytes() < 16384 && out.getProperty("batch.size") == null
          && out.getProperty(StreamsConfig.producerPrefix("batch.size")) == null) {
        out.setProperty(StreamsConfig.producerPrefix("batch.size"), Integer.toString(config.maxRecordBytes()));
      }
    }
    return out;
  }

  /** The producer's {@code transaction.timeout.ms} in {@code streamsProps} (prefixed or not), else the default. */
  static long transactionTimeoutMs(Properties streamsProps) {
    String v = streamsProps.getProperty(StreamsConfig.producerPrefix("transaction.timeout.ms"),
        streamsProps.getProperty("transaction.timeout.ms"));
    return v == null ? PipelineConfig.DEFAULT_TRANSACTION_TIMEOUT_MS : Long.parseLong(v.strip());
  }

  /** The default {@code max.poll.interval.ms}: the transaction timeout plus a minute, at least Kafka's 5 minutes. */
  static long maxPollIntervalMs(long transactionTimeoutMs) {
    return Math.max(300_000, transactionTimeoutMs + 60_000);
  }

  /** The producer's {@code max.request.size} in {@code streamsProps} (prefixed or not), else Kafka's default. */
  static int maxRequestSize(Properties streamsProps) {
    String v = streamsProps.getProperty(StreamsConfig.producerPrefix("max.request.size"),
        streamsProps.getProperty("max.request.size"));
    return v == null ? PipelineConfig.KAFKA_DEFAULT_MAX_REQUEST_SIZE : Integer.parseInt(v.strip());
  }

  /**
   * {@code props} with the limits found at start-up: {@code toedit.output.max.record.bytes} (when 0)
   * as the smallest of the producer's {@code max.request.size} and the {@code max.message.bytes} of
   * the output topics that exist, and {@code toedit.microbatch.flush.max.ms} (when 0) as
   * {@code toedit.microbatch.flush.fraction} of the producer's {@code transaction.timeout.ms}, and
   * {@code toedit.drift.origins} (when 0, with drift statistics on) as the input topic's partition count.
   */
  public static Properties resolveLimits(Properties props) {
    Properties out = new Properties();
    out.putAll(props);
    PipelineConfig config = PipelineConfig.fromProperties(props);
    Properties streams = streamsProperties(props);
    if (config.drift().enabled() && config.driftClock().origins() == 0) {
      try (Admin client = Admin.create(adminProperties(props))) {
        if (client.listTopics().names().get(60, TimeUnit.SECONDS).contains(config.inputTopic())) {
          int partitions = client.describeTopics(List.of(config.inputTopic())).allTopicNames()
              .get(60, TimeUnit.SECONDS).get(config.inputTopic()).partitions().size();
          out.setProperty("toedit.drift.origins", Integer.toString(partitions));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while reading the input topic's partition count", e);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("Cannot read the partition count of " + config.inputTopic() + "; set "
            + "toedit.drift.origins to skip this check: " + e.getMessage(), e);
      }
    }
    if (config.flushMaxMs() == 0) {
      out.setProperty("toedit.microbatch.flush.max.ms",
          Long.toString(Math.max(1, (long) (config.flushFraction() * transactionTimeoutMs(streams)))));
    }
    if (config.maxRecordBytes() == 0) {
      long limit = maxRequestSize(streams);
      List<String> topics = new ArrayList<>(List.of(config.editedTopic(), config.deadLetterTopic()));
      if (config.scoredEnabled()) {
        topics.add(config.scoredTopic());
      }
      if (config.drift().enabled()) {
        topics.add(config.drift().observationsTopic());
      }
      try (Admin client = Admin.create(adminProperties(props))) {
        java.util.Set<String> existing = client.listTopics().names().get(60, TimeUnit.SECONDS);
        List<org.apache.kafka.common.config.ConfigResource> resources = new ArrayList<>();
        for (String t : topics) {
          if (existing.contains(t)) {
            resources.add(new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t));
          }
        }
        if (!resources.isEmpty()) {
          for (var e : client.describeConfigs(resources).all().get(60, TimeUnit.SECONDS).entrySet()) {
            var entry = e.getValue().get("max.message.bytes");
            if (entry != null && entry.value() != null) {
              limit = Math.min(limit, Long.parseLong(entry.value()));
            }
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while reading the output topics' max.message.bytes", e);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("Cannot read the output topics' max.message.bytes (" + topics + "); set "
            + "toedit.output.max.record.bytes to skip this check: " + e.getMessage(), e);
      }
      out.setProperty("toedit.output.max.record.bytes", Long.toString(Math.max(1024, limit)));
    }
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
    PipelineConfig given = PipelineConfig.fromProperties(props);
    if (given.drift().enabled()) {
      ensureDriftTopics(props, given);
    }
    Properties resolved = resolveLimits(props);
    PipelineConfig config = PipelineConfig.fromProperties(resolved);
    LOG.info("Output records up to {} bytes; a flush of the buffer keeps to {} ms; scoring {}",
        config.maxRecordBytes(), config.flushMaxMs(), config.scoringMode());
    PipelineStats stats = new PipelineStats();
    KafkaStreams streams = new KafkaStreams(ToEditTopology.build(config, tokenizer, scorer, edit, stats,
        driftListener), streamsProperties(resolved));
    PipelineRunner runner = new PipelineRunner(streams, stats);
    java.util.Deque<Long> replacements = new java.util.ArrayDeque<>();
    streams.setUncaughtExceptionHandler(e -> {
      Throwable broken = brokenModel(e);
      long now = System.currentTimeMillis();
      while (!replacements.isEmpty() && now - replacements.peekFirst() > REPLACE_WINDOW_MS) {
        replacements.pollFirst();
      }
      if (broken == null && replacements.size() < MAX_THREAD_REPLACEMENTS) {
        // Not one record's fault (those never get here): a fresh thread resumes from the last commit.
        replacements.addLast(now);
        LOG.error("A stream thread failed; replacing it ({} of {} allowed in {} min)", replacements.size(),
            MAX_THREAD_REPLACEMENTS, REPLACE_WINDOW_MS / 60_000, e);
        return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
      }
      runner.failure.compareAndSet(null, broken != null ? broken : e);
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
   * enabled) scored. Existing topics are left as they are. A {@code null} partition count or
   * replication factor takes the cluster's default ({@code num.partitions},
   * {@code default.replication.factor}).
   */
  public static List<String> createTopics(Properties clientProps, PipelineConfig config, Integer partitions,
      Short replication) throws InterruptedException {
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
   * Creates the drift topics that are missing (they belong to the application, like Streams' internal
   * topics): the input topic's partition count and the cluster's default replication factor.
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
      createTopics(clientProps, missing, partitions, null);
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

  private static List<String> createTopics(Properties clientProps, List<String> names, Integer partitions,
      Short replication) throws InterruptedException {
    Properties admin = adminProperties(clientProps);
    List<String> created = new ArrayList<>();
    try (Admin client = Admin.create(admin)) {
      for (String name : names) {
        try {
          client.createTopics(List.of(new NewTopic(name, java.util.Optional.ofNullable(partitions),
              java.util.Optional.ofNullable(replication)))).all().get(60, TimeUnit.SECONDS);
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

  /** The broken-model failure in {@code e}'s cause chain, or {@code null}. */
  static Throwable brokenModel(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof io.toedit.pipeline.DocumentEditor.BrokenModelException) {
        return t;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
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
            + "over=%d changed=%d pass<=%d tok (scorer %.0f tok/s, flush budget %.1fs)", seconds, state, s.received(),
        s.edited(), s.deadLettered(), s.buffered(), s.batches(), s.tokens(), s.tokens() / secs, s.edited() / secs,
        s.overThreshold(), s.changed(), s.passTokens(), s.tokensPerSecond(), s.passBudgetMs() / 1000.0);
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
