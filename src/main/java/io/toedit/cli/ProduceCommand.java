package io.toedit.cli;

import io.toedit.local.JsonlProducer;
import io.toedit.stream.KafkaConfigs;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "produce", mixinStandardHelpOptions = true,
    description = {"Produce JSONL documents into the input topic, one record per line, keyed by document id.",
        "Input lines: {\"id\": ..., \"text\": ..., \"source\": ..., \"metadata\": {...}, \"timestamp\": <epoch ms>}; "
            + "gzip input is detected from its content."})
public final class ProduceCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Mixin
  KafkaOptions kafka;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "JSONL or JSONL.gz files; '-' reads stdin.")
  List<Path> files;

  @Option(names = {"-t", "--topic"}, defaultValue = "toedit.raw", description = "Topic (default: ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--format", defaultValue = "avro",
      description = "Value format: avro (RawDocument, Avro single-object encoding) or json (the line as is). "
          + "Default: ${DEFAULT-VALUE}.")
  JsonlProducer.Format format;

  @Option(names = "--source", description = "Source for documents that have none.")
  String source;

  @Option(names = "--limit", defaultValue = "0", description = "Send at most this many records (0 = all).")
  long limit;

  @Option(names = "--skip-invalid",
      description = "Skip lines that are not valid documents (with a warning) instead of stopping; exit code 3.")
  boolean skipInvalid;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    for (Path f : files) {
      if (!f.toString().equals("-") && !Files.isRegularFile(f)) {
        throw new IllegalArgumentException("input file not found: " + f);
      }
    }
    Properties props = kafka.toProperties(Map.of(
        "acks", "all",
        "enable.idempotence", "true",
        "linger.ms", "20",
        "compression.type", "lz4",
        "client.id", "toedit-produce"));
    err.println("kafka: " + KafkaConfigs.describe(props));
    JsonlProducer.Result result;
    try (KafkaProducer<String, byte[]> producer =
             new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
      result = new JsonlProducer(producer, topic, format, source, skipInvalid, err::println).produce(files, limit);
    }
    out.println("produced " + result.sent() + " records to " + topic
        + (result.skipped() > 0 ? " (" + result.skipped() + " invalid lines skipped)" : ""));
    return result.skipped() > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
  }
}
