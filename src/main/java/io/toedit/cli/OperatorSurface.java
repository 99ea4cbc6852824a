package io.toedit.cli;

import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.toedit.model.Scorer;
import io.toedit.serve.DriftQueries;
import io.toedit.serve.OperatorServer;
import io.toedit.serve.PipelineMetrics;
import io.toedit.serve.StoreDriftQueries;
import io.toedit.serve.ThroughputHistory;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The operator HTTP server and metrics of a running pipeline: started before the pipeline (its
 * address becomes {@code application.server}), then {@link #attach attached} once Streams exists.
 */
final class OperatorSurface implements AutoCloseable {

  private final PipelineMetrics metrics = new PipelineMetrics();
  private final AtomicReference<DriftQueries> drift = new AtomicReference<>(DriftQueries.none());
  private final OperatorServer server;
  private final String host;
  private KafkaStreamsMetrics streamsMetrics;
  private volatile ThroughputHistory history;

  private OperatorSurface(String host, int port) {
    this.host = host;
    DriftQueries delegate = DriftQueries.deferred(drift::get);
    this.server = OperatorServer.start(host, port, metrics.registry(), delegate, this::status);
  }

  /** {@link PipelineMetrics#status} plus {@code history}: the counters sampled over the run. */
  private Map<String, Object> status() {
    Map<String, Object> status = metrics.status();
    ThroughputHistory h = history;
    status.put("historyColumns", List.of("timeMs", "documentsIn", "documentsOut", "deadLetters", "tokens"));
    status.put("history", h == null ? List.of() : h.rows());
    return status;
  }

  static OperatorSurface start(String host, int port) {
    return new OperatorSurface(host, port);
  }

  PipelineMetrics metrics() {
    return metrics;
  }

  int port() {
    return server.port();
  }

  /** Sets {@code application.server} to this server unless the user set it. */
  void advertise(Properties props) {
    String advertised = "0.0.0.0".equals(host) || "::".equals(host) ? hostName() : host;
    props.putIfAbsent(StreamsConfig.APPLICATION_SERVER_CONFIG, advertised + ":" + server.port());
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }

  /** Binds the pipeline's counters, Kafka Streams' own metrics and the drift stores. */
  void attach(PipelineRunner runner, Properties props, TextTokenizer tokenizer, Scorer scorer) {
    PipelineConfig config = PipelineConfig.fromProperties(props);
    metrics.bind(runner.stats(), config.batchMaxTokens());
    history = new ThroughputHistory(runner.stats()::snapshot, 1000, 600, System::currentTimeMillis).start();
    metrics.device(scorer.device());
    streamsMetrics = new KafkaStreamsMetrics(runner.streams());
    streamsMetrics.bindTo(metrics.registry());
    if (config.drift().enabled()) {
      drift.set(new StoreDriftQueries(runner.streams(), config.drift(), tokenizer.vocabulary(),
          StoreDriftQueries.applicationServer(PipelineRunner.streamsProperties(props))));
    }
  }

  @Override
  public void close() {
    server.close();
    if (history != null) {
      history.close();
    }
    if (streamsMetrics != null) {
      streamsMetrics.close();
    }
  }
}
