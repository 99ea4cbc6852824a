package io.toedit.local;

import io.toedit.avro.DeadLetter;
import io.toedit.avro.Edit;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.stream.drift.DriftListener;
import io.toedit.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The zero-setup demo: a local KRaft broker on 127.0.0.1 in a temporary folder, the pipeline with
 * the bundled model, the bundled sample corpus plus a few bad records, then a summary read back
 * from the output topics (read_committed), and everything stopped and deleted.
 */
public final class Demo {

  /** The bundled sample corpus (classpath resource). */
  public static final String SAMPLE = "data/sample.jsonl";

  private Demo() {
  }

  /** What the demo saw on the output topics. */
  public record Summary(long produced, long edited, long deadLetters, long tokens, long overThreshold, long changed) {
    public boolean balanced() {
      return produced == edited + deadLetters;
    }
  }

  /**
   * Runs the demo; prints progress and the summary to {@code out}.
   *
   * @param workDir an empty folder for the broker's data and the Streams state (the caller deletes it)
   * @param timeout how long to wait for every record to come out
   */
  public static Summary run(PrintWriter out, Path workDir, Duration timeout) throws InterruptedException {
    return run(out, workDir, timeout, Hooks.NONE);
  }

  /** What a caller plugs into the demo's pipeline: metrics, the operator HTTP server. */
  public interface Hooks {
    Hooks NONE = new Hooks() { };

    /** Called with the pipeline properties before the pipeline starts (e.g. to set application.server). */
    default void configure(Properties props) {
    }

    /** Receives the drift gauges. */
    default DriftListener driftListener() {
      return DriftListener.none();
    }

    /** Called once the pipeline runs. */
    default void started(PipelineRunner runner, Properties props, TextTokenizer tokenizer, Scorer scorer) {
    }

    /** Called after the summary, before the pipeline stops (e.g. keep a dashboard up a while). */
    default void finished(Summary summary) throws InterruptedException {
    }
  }

  /** As {@link #run(PrintWriter, Path, Duration)}, with {@code hooks} plugged in. */
  public static Summary run(PrintWriter out, Path workDir, Duration timeout, Hooks hooks)
      throws InterruptedException {
    out.println("Starting a local Kafka broker (KRaft, 127.0.0.1) in " + workDir + " ...");
    out.flush();
    try (LocalBroker broker = LocalBroker.start(workDir.resolve("broker"), 0)) {
      out.println("Broker ready at " + broker.bootstrapServers() + " (pid " + broker.pid() + ")");
      Properties props = new Properties();
      props.setProperty("bootstrap.servers", broker.bootstrapServers());
      props.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-demo");
      props.setProperty(StreamsConfig.STATE_DIR_CONFIG, workDir.resolve("state").toString());
      props.setProperty("toedit.output.include.original", "true");
      hooks.configure(props);
      PipelineConfig config = PipelineConfig.fromProperties(props);
      PipelineRunner.createTopics(props, config, 2, (short) 1);
      out.println("Topics: " + config.inputTopic() + " → " + config.editedTopic() + " | " + config.deadLetterTopic());

      ModelSettings settings = ModelSettings.defaults();
      try (TextTokenizer tokenizer = Models.openTokenizer(settings);
          Scorer scorer = Models.openScorer(settings);
          PipelineRunner runner = PipelineRunner.start(props, tokenizer, scorer, EditConfig.defaults(),
              hooks.driftListener())) {
        hooks.started(runner, props, tokenizer, scorer);
        out.println("Model " + scorer.modelId() + " on " + scorer.device() + "; processing.guarantee="
            + PipelineRunner.streamsProperties(props).getProperty(StreamsConfig.PROCESSING_GUARANTEE_CONFIG));
        runner.printProgress(out, Duration.ofSeconds(2));
        long produced = produce(props, config, out);
        Summary summary = collect(props, config, produced, timeout, tokenizer, out);
        hooks.finished(summary);
        runner.close();
        return summary;
      }
    }
  }

  private static long produce(Properties props, PipelineConfig config, PrintWriter out) {
    Properties p = new Properties();
    p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, props.getProperty("bootstrap.servers"));
    p.setProperty(ProducerConfig.ACKS_CONFIG, "all");
    long n = 0;
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (String line : sampleLines()) {
        String id = com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(line).path("id").asText();
        producer.send(new ProducerRecord<>(config.inputTopic(), utf8(id), utf8(line)));
        n++;
      }
      for (Map.Entry<String, byte[]> bad : badRecords().entrySet()) {
        producer.send(new ProducerRecord<>(config.inputTopic(), utf8(bad.getKey()), bad.getValue()));
        n++;
      }
      producer.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the bundled sample " + SAMPLE, e);
    }
    out.println("Produced " + n + " records (" + badRecords().size() + " of them deliberately bad) to "
        + config.inputTopic());
    return n;
  }

  /** A few records the pipeline must dead-letter, keyed by a name that says why. */
  static Map<String, byte[]> badRecords() {
    Map<String, byte[]> bad = new TreeMap<>();
    bad.put("bad-malformed-json", utf8("{\"id\":\"bad-malformed-json\",\"text\":\"Es war einmal…"));
    bad.put("bad-empty-text", utf8("{\"id\":\"bad-empty-text\",\"text\":\"\"}"));
    bad.put("bad-text-not-a-string", utf8("{\"id\":\"bad-text-not-a-string\",\"text\":42}"));
    bad.put("bad-null-value", null);
    byte[] avro = AvroSerde.raw().encode(RawDocument.newBuilder().setId("bad-fingerprint").setText("猫").build());
    avro[3] ^= 0x33;
    bad.put("bad-unknown-fingerprint", avro);
    return bad;
  }

  private static Summary collect(Properties props, PipelineConfig config, long produced, Duration timeout,
      TextTokenizer tokenizer, PrintWriter out) {
    Properties c = new Properties();
    c.setProperty(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, props.getProperty("bootstrap.servers"));
    c.setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    Map<String, EditedDocument> edited = new HashMap<>();
    List<DeadLetter> dead = new ArrayList<>();
    AvroSerde<EditedDocument> editedSerde = AvroSerde.edited();
    AvroSerde<DeadLetter> dlqSerde = AvroSerde.deadLetter();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = new ArrayList<>();
      for (String topic : List.of(config.editedTopic(), config.deadLetterTopic())) {
        consumer.partitionsFor(topic, Duration.ofSeconds(30))
            .forEach(pi -> parts.add(new TopicPartition(pi.topic(), pi.partition())));
      }
      consumer.assign(parts);
      consumer.seekToBeginning(parts);
      while (edited.size() + dead.size() < produced && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.topic().equals(config.editedTopic())) {
            EditedDocument d = editedSerde.deserializer().deserialize(r.topic(), r.value());
            edited.put(d.getId(), d);
          } else {
            dead.add(dlqSerde.deserializer().deserialize(r.topic(), r.value()));
          }
        }
      }
    }
    long tokens = 0;
    long over = 0;
    long changed = 0;
    for (EditedDocument d : edited.values()) {
      tokens += d.getTokens();
      over += d.getOverThreshold();
      changed += d.getChanged();
    }
    Summary s = new Summary(produced, edited.size(), dead.size(), tokens, over, changed);
    out.println();
    out.println("Summary (read back from the output topics with isolation.level=read_committed)");
    out.printf(Locale.ROOT, "  records in      %d%n", s.produced());
    out.printf(Locale.ROOT, "  edited docs     %d%n", s.edited());
    out.printf(Locale.ROOT, "  dead letters    %d%n", s.deadLetters());
    out.printf(Locale.ROOT, "  in = edited + dead letters: %s%n", s.balanced() ? "yes" : "NO");
    out.printf(Locale.ROOT, "  tokens scored   %d%n", s.tokens());
    out.printf(Locale.ROOT, "  over threshold  %d (%.1f %%)%n", s.overThreshold(),
        100.0 * s.overThreshold() / Math.max(1, s.tokens()));
    out.printf(Locale.ROOT, "  tokens changed  %d%n", s.changed());
    dead.sort(Comparator.comparing(DeadLetter::getOffset));
    for (DeadLetter d : dead) {
      String key = d.getKey() == null ? "(null)" : StandardCharsets.UTF_8.decode(d.getKey().duplicate()).toString();
      out.printf(Locale.ROOT, "  dead letter %-24s stage=%s reason=%s%n", key, d.getStage(), d.getReason());
    }
    List<EditedDocument> withEdits = edited.values().stream().filter(d -> d.getChanged() > 0)
        .sorted(Comparator.comparing(EditedDocument::getId)).limit(2).toList();
    for (EditedDocument d : withEdits) {
      Edit e = d.getEdits().stream().filter(x -> x.getNewId() != x.getOriginalId()).findFirst().orElseThrow();
      out.println("  example edit in " + d.getId() + " (P(original) = "
          + String.format(Locale.ROOT, "%.4f", e.getProbOriginal()) + "):");
      out.println("    original: " + fragment(d.getOriginalText(), e, null, tokenizer));
      out.println("    edited:   " + fragment(d.getOriginalText(), e, e, tokenizer));
    }
    out.flush();
    return s;
  }

  /** About 40 characters around one edit, with the token (original or replacement) in brackets. */
  static String fragment(String original, Edit e, Edit replace, TextTokenizer tokenizer) {
    int from = Math.max(0, e.getCharStart() - 40);
    int to = Math.min(original.length(), e.getCharEnd() + 40);
    String middle = original.substring(e.getCharStart(), e.getCharEnd());
    if (replace != null) {
      String surface = replace.getNewId() < 0 ? "" : tokenizer.vocabulary().surface(replace.getNewId());
      middle = surface != null ? surface : replace.getNewPiece();
    }
    String text = (from > 0 ? "…" : "") + original.substring(from, e.getCharStart()) + "[" + middle + "]"
        + original.substring(e.getCharEnd(), to) + (to < original.length() ? "…" : "");
    return text.replace('\n', ' ');
  }

  static List<String> sampleLines() throws IOException {
    try (InputStream in = Demo.class.getClassLoader().getResourceAsStream(SAMPLE)) {
      if (in == null) {
        throw new IOException("Missing classpath resource " + SAMPLE);
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      return r.lines().filter(l -> !l.isBlank()).toList();
    }
  }

  /** Deletes a folder tree (best effort is not enough: a failure is reported). */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
