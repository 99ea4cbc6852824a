package io.toedit.local;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DriftAlert;
import io.toedit.avro.DriftWindow;
import io.toedit.avro.EditedDocument;
import io.toedit.stream.AvroSerde;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.MissingSchemaException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Copies a topic into rolling JSONL shards for trainers: {@code <prefix>-00000.jsonl},
 * {@code <prefix>-00001.jsonl}, ... with at most {@code shardRecords} records each, one JSON object
 * per line.
 *
 * <p>Delivery: at least once, and a shard is complete when it has its final name. A shard is written
 * as {@code <name>.jsonl.tmp}; it is fsynced and renamed when full (or when the run stops or the
 * group rebalances), and only then are its records' offsets committed. So a crash leaves at most a
 * {@code .tmp} file whose records were not committed: the next run with the same group deletes it
 * and reads them again. One output directory belongs to one consumer process.
 *
 * <p>Values: {@link Format#AVRO} decodes an {@link EditedDocument}, a {@code DeadLetter}, a
 * {@code ScoredDocument}, a {@code DriftWindow} or a {@code DriftAlert} (Avro single-object encoding, told apart by
 * their schema fingerprints) into JSON (see
 * {@link AvroJson}); {@link Format#JSON} takes each value as a JSON document and writes it on
 * one line. A value that cannot be decoded is skipped with a warning (and counted).
 */
public final class ShardExporter {

  /** The value format of the topic. */
  public enum Format { AVRO, JSON }

  /** What a run did. */
  public record Result(long records, long skipped, int shards) {
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SHARD = Pattern.compile("-(\\d{5,})\\.jsonl(\\.tmp)?$");

  private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
  private final String topic;
  private final Path outputDir;
  private final String prefix;
  private final long shardRecords;
  private final Format format;
  private final Consumer<String> warnings;

  private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
  private int nextShard;
  private Path currentTmp;
  private OutputStream currentStream;
  private Writer current;
  private long inCurrent;
  private int shardsWritten;

  public ShardExporter(org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer, String topic,
      Path outputDir, String prefix, long shardRecords, Format format, Consumer<String> warnings) {
    if (shardRecords < 1) {
      throw new IllegalArgumentException("records per shard must be at least 1: " + shardRecords);
    }
    this.consumer = Objects.requireNonNull(consumer);
    this.topic = Objects.requireNonNull(topic);
    this.outputDir = Objects.requireNonNull(outputDir);
    this.prefix = Objects.requireNonNull(prefix);
    this.shardRecords = shardRecords;
    this.format = Objects.requireNonNull(format);
    this.warnings = Objects.requireNonNull(warnings);
  }

  /**
   * Consumes until {@code maxRecords} records are written (0 = no limit), no record arrived for
   * {@code idleTimeout} (null = no limit), or {@link #wakeup()} is called from another thread.
   * Closes the last shard and commits before returning. Does not close the consumer.
   */
  public Result run(long maxRecords, Duration idleTimeout) throws IOException {
    Files.createDirectories(outputDir);
    nextShard = prepareDirectory();
    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        try {
          rollAndCommit(); // another member takes these partitions: hand over what is written
        } catch (IOException e) {
          throw new UncheckedIOException("cannot close the current shard on rebalance", e);
        }
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      }
    });
    long written = 0;
    long skipped = 0;
    long lastRecord = System.nanoTime();
    Duration poll = Duration.ofMillis(200);
    try {
      loop:
      while (maxRecords <= 0 || written < maxRecords) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(poll);
        if (records.isEmpty()) {
          if (idleTimeout != null && System.nanoTime() - lastRecord >= idleTimeout.toNanos()) {
            break;
          }
          continue;
        }
        lastRecord = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> record : records) {
          if (maxRecords > 0 && written >= maxRecords) {
            break loop;
          }
          TopicPartition tp = new TopicPartition(record.topic(), record.partition());
          String line = toLine(record);
          if (line == null) {
            skipped++;
          } else {
            write(line);
            written++;
          }
          pending.put(tp, new OffsetAndMetadata(record.offset() + 1));
        }
        if (current != null) {
          current.flush();
        }
      }
    } catch (WakeupException e) {
      // stop requested (Ctrl-C): close what we have
    }
    rollAndCommit();
    return new Result(written, skipped, shardsWritten);
  }

  /** Makes {@link #run} stop soon; safe from another thread (e.g. a shutdown hook). */
  public void wakeup() {
    consumer.wakeup();
  }

  /** One of the application's Avro record types, by its schema name. */
  private record AvroRecord(String name, AvroSerde<? extends GenericRecord> serde) {
  }

  /**
   * The application's Avro records, tried in this order by the schema fingerprint of the value's single-object
   * header: edited documents, dead letters, scored documents, drift windows and drift alerts (each with its older
   * schema versions), so that {@code consume --topic toedit.dlq} (or {@code toedit.scored}, {@code toedit.drift},
   * {@code toedit.alerts}) writes what the pipeline wrote there.
   */
  private static final List<AvroRecord> AVRO_RECORDS = List.of(
      new AvroRecord("EditedDocument", AvroSerde.edited()), new AvroRecord("DeadLetter", AvroSerde.deadLetter()),
      new AvroRecord("ScoredDocument", AvroSerde.scored()),
      new AvroRecord("DriftWindow", AvroSerde.of(DriftWindow.class)),
      new AvroRecord("DriftAlert", AvroSerde.of(DriftAlert.class)));

  /** "EditedDocument, ..., DriftWindow or DriftAlert", for warnings. */
  private static final String AVRO_NAMES = String.join(", ", AVRO_RECORDS.subList(0, AVRO_RECORDS.size() - 1)
      .stream().map(AvroRecord::name).toList()) + " or " + AVRO_RECORDS.get(AVRO_RECORDS.size() - 1).name();

  private static GenericRecord decodeAvro(byte[] value) throws IOException {
    MissingSchemaException last = null;
    for (AvroRecord type : AVRO_RECORDS) {
      try {
        return type.serde().decode(value);
      } catch (MissingSchemaException e) {                               // another record type: try the next
        last = e;
      }
    }
    throw last;
  }

  private String toLine(ConsumerRecord<byte[], byte[]> record) {
    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
    if (record.value() == null) {
      warnings.accept("skipped " + where + ": null value");
      return null;
    }
    try {
      if (format == Format.AVRO) {
        return JSON.writeValueAsString(AvroJson.toJson(decodeAvro(record.value())));
      }
      JsonNode node = JSON.readTree(new String(record.value(), StandardCharsets.UTF_8));
      if (node == null) {
        throw new IOException("empty value");
      }
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      warnings.accept("skipped " + where + ": not JSON: " + e.getOriginalMessage());
      return null;
    } catch (IOException | RuntimeException e) {
      warnings.accept("skipped " + where + ": cannot decode " + format
          + (format == Format.AVRO ? " " + AVRO_NAMES + ": " : ": ") + e);
      return null;
    }
  }

  private void write(String line) throws IOException {
    if (current == null) {
      String name = String.format(java.util.Locale.ROOT, "%s-%05d.jsonl.tmp", prefix, nextShard);
      currentTmp = outputDir.resolve(name);
      currentStream = Files.newOutputStream(currentTmp);
      current = new BufferedWriter(new OutputStreamWriter(currentStream, StandardCharsets.UTF_8), 1 << 16);
      inCurrent = 0;
    }
    current.write(line);
    current.write('\n');
    inCurrent++;
    if (inCurrent >= shardRecords) {
      rollAndCommit();
    }
  }

  /** Closes the open shard (fsync, rename to its final name), then commits what it holds. */
  private void rollAndCommit() throws IOException {
    if (current != null) {
      current.flush();
      current.close();
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(currentTmp,
          java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      String fileName = currentTmp.getFileName().toString();
      Path done = currentTmp.resolveSibling(fileName.substring(0, fileName.length() - ".tmp".length()));
      Files.move(currentTmp, done, StandardCopyOption.ATOMIC_MOVE);
      current = null;
      currentStream = null;
      currentTmp = null;
      nextShard++;
      shardsWritten++;
    }
    if (!pending.isEmpty()) {
      consumer.commitSync(Map.copyOf(pending));
      pending.clear();
    }
  }

  /** Deletes leftover {@code .tmp} shards of a crashed run; returns the next free shard number. */
  private int prepareDirectory() throws IOException {
    int next = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(outputDir, prefix + "-*.jsonl*")) {
      for (Path f : files) {
        Matcher m = SHARD.matcher(f.getFileName().toString());
        if (!m.find()) {
          continue;
        }
        if (m.group(2) != null) {
          warnings.accept("deleting " + f.getFileName() + ": an unfinished shard of an earlier run "
              + "(its records were not committed and are read again)");
          Files.delete(f);
        } else {
          next = Math.max(next, Integer.parseInt(m.group(1)) + 1);
        }
      }
    }
    return next;
  }
}
