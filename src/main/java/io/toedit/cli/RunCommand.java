package io.toedit.cli;

import io.toedit.edit.EditConfig;
import io.toedit.edit.Strategy;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.stream.KafkaConfigs;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run the streaming pipeline against a Kafka cluster until SIGTERM / Ctrl-C.",
        "Pipeline settings (toedit.*), Kafka client and Streams properties all go through --config-file and -X,"
            + " e.g. -X toedit.scored.enabled=true -X num.stream.threads=2 -X state.dir=/var/lib/toedit."})
public final class RunCommand implements Callable<Integer> {

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Mixin
  KafkaOptions kafka;

  @Mixin
  ModelOptions model;

  @Option(names = "--strategy", defaultValue = "up_revise",
      description = "up_revise, low_drop_up_revise or filtering (default: ${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = "--threshold", defaultValue = "0.99", description = "Revise tokens with P above this (default: ${DEFAULT-VALUE}).")
  double threshold;

  @Option(names = "--beta", description = "Sampling temperature (default: the strategy's, 1.5 for up_revise).")
  Double beta;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the per-(document, position) draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--create-topics", defaultValue = "false", negatable = true, fallbackValue = "true",
      description = "Create missing pipeline topics (input, edited, dead-letter, scored) at start (default: "
          + "${DEFAULT-VALUE}: they must exist).")
  boolean createTopics;

  @Option(names = "--partitions", description = "Partitions of topics created by --create-topics (default: the "
      + "cluster's num.partitions).")
  Integer partitions;

  @Option(names = "--replication-factor",
      description = "Replication factor of topics created by --create-topics (default: the cluster's "
          + "default.replication.factor).")
  Short replication;

  @Option(names = "--progress-interval-s", defaultValue = "10",
      description = "Seconds between progress lines (default: ${DEFAULT-VALUE}).")
  long progressSeconds;

  @Option(names = "--http-host", defaultValue = "127.0.0.1",
      description = "Interface of the read-only HTTP server (dashboard, /metrics, /api); 0.0.0.0 only on purpose"
          + " (default: ${DEFAULT-VALUE}).")
  String httpHost;

  @Option(names = "--http-port", defaultValue = "8080",
      description = "Port of the HTTP server; 0 picks a free one, -1 turns it off (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Kafka Streams state directory (RocksDB stores); same as -X state.dir=DIR.")
  java.nio.file.Path stateDir;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Properties props = kafka.toProperties();
    if (stateDir != null) {
      props.setProperty(org.apache.kafka.streams.StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    }
    PipelineConfig config = PipelineConfig.fromProperties(props);
    ModelSettings settings = model.toSettings();
    EditConfig edit = editConfig(settings.topK());
    out.println("Kafka: " + KafkaConfigs.describe(PipelineRunner.streamsProperties(props)));
    if (createTopics) {
      out.println("Created topics: " + PipelineRunner.createTopics(props, config, partitions, replication));
    }
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings);
        OperatorSurface surface = httpPort < 0 ? null : OperatorSurface.start(httpHost, httpPort)) {
      if (surface != null) {
        surface.advertise(props);
      }
      out.println("Model " + scorer.modelId() + " on " + scorer.device() + " (context token "
          + tokenizer.contextToken().describe() + "); " + config.inputTopic() + " → "
          + config.editedTopic() + (config.scoredEnabled() ? " + " + config.scoredTopic() : "") + " | dead letters → "
          + config.deadLetterTopic());
      PipelineRunner runner = PipelineRunner.start(props, tokenizer, scorer, edit,
          surface == null ? io.toedit.stream.drift.DriftListener.none() : surface.metrics());
      if (surface != null) {
        surface.attach(runner, props, tokenizer, scorer);
        out.println("HTTP: http://" + httpHost + ":" + surface.port() + "/ (dashboard), /metrics, /api/drift, /api/windows/latest");
      }
      long startNanos = System.nanoTime();
      // SIGTERM / Ctrl-C: commit the open transaction, then exit 0 (a signal-initiated shutdown would otherwise
      // end with status 143 and cut the main thread's last line: a clean stop is not a failure)
      Thread hook = new Thread(() -> {
        out.println("Stopping (committing the open transaction)...");
        out.flush();
        runner.close();
        out.println(PipelineRunner.progressLine(runner.stats().snapshot(), "stopped",
            (System.nanoTime() - startNanos) / 1e9));
        out.flush();
        Runtime.getRuntime().halt(ExitCodes.OK);
      }, "toedit-run-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      runner.printProgress(out, Duration.ofSeconds(progressSeconds));
      runner.awaitStopped(Duration.ofDays(365_000));
      if (runner.failure() != null) {
        Runtime.getRuntime().removeShutdownHook(hook);
        runner.close();
        spec.commandLine().getErr().println("error: the pipeline stopped: " + runner.failure());
        runner.failure().printStackTrace(spec.commandLine().getErr());
        return ExitCodes.FAILURE;
      }
      new CountDownLatch(1).await();          // stopped by the shutdown hook, which ends the process (status 0)
      return ExitCodes.OK;
    }
  }

  /** The edit rule; its candidate count is the model's {@code --top-k}. */
  private EditConfig editConfig(int topK) {
    EditConfig c = EditConfig.defaults().withStrategy(Strategy.fromWireName(strategy))
        .withThreshold(threshold, false).withCandidates(topK, 0.0).withSeed(seed);
    return beta == null ? c : c.withBeta(beta);
  }
}
