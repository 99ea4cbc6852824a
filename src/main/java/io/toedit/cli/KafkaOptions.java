package io.toedit.cli;

import io.toedit.stream.KafkaConfigs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Kafka connection options shared by every command that talks to a cluster (picocli mixin). Order of
 * precedence: {@code -X} overrides, then {@code --bootstrap-servers}, then {@code --config-file}, then
 * the command's defaults. Security settings (SASL, SSL) pass straight through to the clients.
 */
public final class KafkaOptions {

  /** Where a broker started by {@code toedit broker} with its default port listens. */
  public static final String DEFAULT_BOOTSTRAP = "127.0.0.1:9092";

  @Option(names = {"-b", "--bootstrap-servers"}, paramLabel = "HOST:PORT[,...]",
      description = "Kafka bootstrap servers (default: the config file's bootstrap.servers, else "
          + DEFAULT_BOOTSTRAP + ").")
  String bootstrapServers;

  @Option(names = "--config-file", paramLabel = "FILE",
      description = "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...), read first.")
  Path configFile;

  @Option(names = {"-X", "--property"}, paramLabel = "KEY=VALUE",
      description = "Kafka client property, overrides the config file; repeatable, e.g. "
          + "-X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-256.")
  List<String> properties = new ArrayList<>();

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The merged client configuration without command defaults. */
  public Properties toProperties() {
    return toProperties(Map.of());
  }

  /** The merged client configuration; {@code defaults} only fill keys still absent. */
  public Properties toProperties(Map<String, String> defaults) {
    Map<String, String> overrides = new LinkedHashMap<>();
    if (bootstrapServers != null && !bootstrapServers.isBlank()) {
      overrides.put("bootstrap.servers", bootstrapServers.strip());
    }
    overrides.putAll(KafkaConfigs.parseOverrides(properties));
    Map<String, String> allDefaults = new LinkedHashMap<>(defaults);
    allDefaults.putIfAbsent("bootstrap.servers", DEFAULT_BOOTSTRAP);
    return KafkaConfigs.merge(configFile, overrides, allDefaults);
  }
}
