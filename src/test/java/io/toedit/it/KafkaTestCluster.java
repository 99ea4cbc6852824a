package io.toedit.it;

import io.toedit.local.LocalBroker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The Kafka broker every integration test ({@code *IT}) uses, one per test JVM, started on first use
 * and stopped by a shutdown hook. Resolution order:
 * <ol>
 *   <li>system property {@value #BOOTSTRAP_PROPERTY} when non-empty (set by {@code .ci/run} via
 *       {@code mvn -Dkafka.bootstrap=HOST:PORT verify}): that broker is used as it is;</li>
 *   <li>a Docker engine: Testcontainers' {@code apache/kafka} image ({@value #IMAGE_PROPERTY} overrides
 *       the image);</li>
 *   <li>otherwise a {@link LocalBroker} (child JVM from the test classpath) in a temporary directory,
 *       so {@code mvn verify} works on a fresh machine without {@code .ci/run}.</li>
 * </ol>
 * If none can be obtained the calling test fails, with CI=true or without: integration tests never
 * skip.
 */
public final class KafkaTestCluster {

  public static final String BOOTSTRAP_PROPERTY = "toedit.test.kafka.bootstrap";
  /** Environment variable alternative to {@link #BOOTSTRAP_PROPERTY}; {@code .ci/run} sets it. */
  public static final String BOOTSTRAP_ENV = "TOEDIT_TEST_KAFKA_BOOTSTRAP";
  public static final String IMAGE_PROPERTY = "toedit.test.kafka.image";
  public static final String DEFAULT_IMAGE = "apache/kafka:4.4.0";

  private static String bootstrap;
  private static String kind;
  private static Throwable failure;

  private KafkaTestCluster() {
  }

  /** The shared broker's bootstrap address; starts it on first call. */
  public static synchronized String bootstrapServers() {
    if (bootstrap == null) {
      if (failure != null) {
        throw new IllegalStateException("no Kafka broker for the integration tests (failed earlier)", failure);
      }
      try {
        resolve();
      } catch (RuntimeException | Error e) {
        failure = e;
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        throw new IllegalStateException("no Kafka broker for the integration tests"
            + (ci ? " (CI=true: integration tests must not skip)" : "") + ": " + e.getMessage()
            + ". Pass a running one with -Dkafka.bootstrap=HOST:PORT or run .ci/run.", e);
      }
    }
    return bootstrap;
  }

  /** How the broker was obtained: "external", "testcontainers" or "local-broker". */
  public static synchronized String kind() {
    bootstrapServers();
    return kind;
  }

  /** Client properties with only {@code bootstrap.servers} set. */
  public static Properties clientProperties() {
    Properties p = new Properties();
    p.setProperty("bootstrap.servers", bootstrapServers());
    return p;
  }

  /** A new admin client for the shared broker; the caller closes it. */
  public static Admin adminClient() {
    return Admin.create(clientProperties());
  }

  /** A topic name unique to this JVM run (tests never share topics). */
  public static String uniqueTopic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Creates topics with one replica; topics that exist already are left as they are. */
  public static void createTopics(int partitions, String... topics) {
    try (Admin admin = adminClient()) {
      List<NewTopic> newTopics = Stream.of(topics).map(t -> new NewTopic(t, partitions, (short) 1)).toList();
      for (Map.Entry<String, ? extends java.util.concurrent.Future<Void>> e
          : admin.createTopics(newTopics).values().entrySet()) {
        try {
          e.getValue().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException ex) {
          if (!(ex.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + e.getKey(), ex.getCause());
          }
        }
      }
      awaitLeaders(admin, List.of(topics));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("creating topics timed out", e);
    }
  }

  /**
   * Waits until every partition of {@code topics} has a leader: a producer that writes into a
   * partition whose leader is not up yet gets NOT_LEADER_OR_FOLLOWER, and its idempotent retries
   * can end in OutOfOrderSequence errors that fail the sends.
   */
  private static void awaitLeaders(Admin admin, List<String> topics) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        boolean ready = admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS).values().stream()
            .flatMap(d -> d.partitions().stream())
            .allMatch(p -> p.leader() != null && p.leader().id() >= 0);
        if (ready) {
          return;
        }
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        // metadata not propagated yet: retry below
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("partitions of " + topics + " have no leader after 60 s");
      }
      Thread.sleep(200);
    }
  }

  /** {@link #consumeAll(String, Deserializer, Deserializer, int, Duration)} with String keys. */
  public static <V> List<ConsumerRecord<String, V>> consumeAll(String topic, Deserializer<V> values,
      int expectedCount, Duration timeout) {
    return consumeAll(topic, new StringDeserializer(), values, expectedCount, timeout);
  }

  /**
   * Reads a topic from the beginning of every partition with {@code isolation.level=read_committed} (no
   * consumer group), until at least {@code expectedCount} records arrived, then polls one more second
   * so that surplus records (duplicates) are returned too, not hidden.
   *
   * @throws AssertionError if fewer than {@code expectedCount} arrive within {@code timeout}
   */
  public static <K, V> List<ConsumerRecord<K, V>> consumeAll(String topic, Deserializer<K> keys,
      Deserializer<V> values, int expectedCount, Duration timeout) {
    Properties p = clientProperties();
    p.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    List<ConsumerRecord<K, V>> out = new ArrayList<>();
    try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(p, keys, values)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<TopicPartition> partitions = List.of();
      while (partitions.isEmpty()) {
        partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
            .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        if (System.nanoTime() > deadline) {
          throw new AssertionError("topic " + topic + " has no partitions after " + timeout);
        }
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (out.size() < expectedCount && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
      if (out.size() < expectedCount) {
        throw new AssertionError("expected at least " + expectedCount + " records in " + topic + " within "
            + timeout + ", got " + out.size());
      }
      long settle = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      while (System.nanoTime() < settle) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------

  private static void resolve() {
    String given = System.getProperty(BOOTSTRAP_PROPERTY, "").strip();
    if (given.isEmpty()) {
      given = System.getenv().getOrDefault(BOOTSTRAP_ENV, "").strip();
    }
    if (!given.isEmpty()) {
      awaitReachable(given);
      bootstrap = given;
      kind = "external";
      return;
    }
    if (dockerAvailable()) {
      String image = System.getProperty(IMAGE_PROPERTY, DEFAULT_IMAGE);
      KafkaContainer container = new KafkaContainer(DockerImageName.parse(image));
      container.start();
      Runtime.getRuntime().addShutdownHook(new Thread(container::stop, "kafka-testcontainer-stop"));
      bootstrap = container.getBootstrapServers();
      kind = "testcontainers";
      return;
    }
    Path dir;
    try {
      dir = Files.createTempDirectory("toedit-it-kafka-");
    } catch (IOException e) {
      throw new IllegalStateException("cannot create a temporary directory for the test broker", e);
    }
    LocalBroker broker = LocalBroker.start(dir, 0);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      broker.close();
      deleteQuietly(dir);
    }, "kafka-test-broker-stop"));
    bootstrap = broker.bootstrapServers();
    kind = "local-broker";
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  private static void awaitReachable(String servers) {
    Properties p = new Properties();
    p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    try (Admin admin = Admin.create(p)) {
      admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("the broker given by -D" + BOOTSTRAP_PROPERTY + "=" + servers
          + " is not reachable", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reaching " + servers, e);
    }
  }

  static void deleteQuietly(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      System.err.println("could not delete " + root + ": " + e);
    }
  }
}
