package io.toedit.cli;

import io.toedit.local.ShardExporter;
import io.toedit.stream.KafkaConfigs;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "consume", mixinStandardHelpOptions = true,
    description = {"Consume edited documents into rolling JSONL shards (<prefix>-00000.jsonl, ...) for trainers.",
        "Reads committed records only (isolation.level=read_committed). A shard gets its final name when "
            + "full or when the command stops; offsets are committed after that (at-least-once).",
        "Runs until Ctrl-C unless --max-records or --idle-timeout is given."})
public final class ConsumeCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Mixin
  KafkaOptions kafka;

  @Option(names = {"-t", "--topic"}, defaultValue = "toedit.edited", description = "Topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = {"-o", "--output-dir"}, required = true, description = "Directory for the shards.")
  Path outputDir;

  @Option(names = "--shard-records", defaultValue = "10000",
      description = "Records per shard (default: ${DEFAULT-VALUE}).")
  long shardRecords;

  @Option(names = "--shard-prefix", defaultValue = "edited", description = "Shard file prefix (default: ${DEFAULT-VALUE}).")
  String prefix;

  @Option(names = {"-g", "--group"}, defaultValue = "toedit-consume",
      description = "Consumer group; a later run with the same group continues where this one stopped "
          + "(default: ${DEFAULT-VALUE}).")
  String group;

  @Option(names = "--from-beginning",
      description = "Without committed offsets, start at the beginning of the topic (default: only new records).")
  boolean fromBeginning;

  @Option(names = "--format", defaultValue = "avro",
      description = "Value format: avro (EditedDocument, single-object encoding) or json. Default: ${DEFAULT-VALUE}.")
  ShardExporter.Format format;

  @Option(names = "--max-records", defaultValue = "0", description = "Stop after this many records (0 = no limit).")
  long maxRecords;

  @Option(names = "--idle-timeout", paramLabel = "DURATION",
      description = "Stop when no record arrived for this long, e.g. 30s, 5m, PT10S (default: never).")
  String idleTimeout;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Duration idle = idleTimeout == null ? null : parseDuration(idleTimeout, "--idle-timeout");
    Properties props = kafka.toProperties(Map.of(
        "group.id", group,
        "auto.offset.reset", fromBeginning ? "earliest" : "latest",
        "isolation.level", "read_committed",
        "enable.auto.commit", "false",
        "client.id", "toedit-consume"));
    err.println("kafka: " + KafkaConfigs.describe(props));
    ShardExporter.Result result;
    CountDownLatch done = new CountDownLatch(1);
    try (KafkaConsumer<byte[], byte[]> consumer =
             new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      ShardExporter exporter = new ShardExporter(consumer, topic, outputDir, prefix, shardRecords, format, err::println);
      Thread hook = new Thread(() -> {
        exporter.wakeup();
        try {
          done.await(); // let the last shard close and its offsets commit before the JVM exits
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "consume-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        result = exporter.run(maxRecords, idle);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // already shutting down: the hook waits for 'done'
        }
      }
    } finally {
      done.countDown(); // after the consumer closed (left its group)
    }
    out.println("consumed " + result.records() + " records from " + topic + " into " + result.shards()
        + " shards in " + outputDir + (result.skipped() > 0 ? " (" + result.skipped() + " undecodable skipped)" : ""));
    return result.skipped() > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
  }

  /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT10S}). */
  static Duration parseDuration(String text, String option) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    try {
      if (s.startsWith("p")) {
        return Duration.parse(s.toUpperCase(Locale.ROOT));
      }
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      long n = Long.parseLong(s.substring(0, s.length() - 1));
      switch (s.charAt(s.length() - 1)) {
        case 's': return Duration.ofSeconds(n);
        case 'm': return Duration.ofMinutes(n);
        case 'h': return Duration.ofHours(n);
        default: break;
      }
    } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
      throw new IllegalArgumentException(option + ": not a duration: '" + text + "' (use e.g. 30s, 5m, 500ms, PT10S)", e);
    }
    throw new IllegalArgumentException(option + ": not a duration: '" + text + "' (use e.g. 30s, 5m, 500ms, PT10S)");
  }
}
