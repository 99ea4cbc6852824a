package io.toedit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.toedit.cli.Main;
import io.toedit.serve.PipelineMetrics;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineStats;
import io.toedit.stream.drift.DriftGauges;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.utils.internals.AppInfoParser;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * There is no Docker engine here, so docker-compose.yml, ops/ and the Kubernetes example are checked
 * by parsing them against the application itself: every flag must parse, topics must be the app's,
 * ports must line up, and every metric a dashboard or alert uses must exist.
 */
class DeploymentConfigTest {

  private static final ObjectMapper YAML = new YAMLMapper();

  private static JsonNode compose() throws Exception {
    return YAML.readTree(Path.of("docker-compose.yml").toFile());
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** Parses {@code args} with the real command tree; fails on any unknown flag or bad value. */
  private static CommandLine.ParseResult parse(List<String> args) {
    CommandLine cl = Main.newCommandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    return cl.parseArgs(args.toArray(String[]::new));
  }

  private static Properties overrides(CommandLine.ParseResult run) {
    Properties p = new Properties();
    for (String kv : run.subcommand().matchedOptionValue("-X", List.<String>of())) {
      int eq = kv.indexOf('=');
      p.setProperty(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return p;
  }

  @Test
  void composeShouldRunTheBrokerVersionTheAppIsBuiltWith() throws Exception {
    JsonNode kafka = compose().path("services").path("kafka");
    assertEquals("apache/kafka:" + AppInfoParser.getVersion(), kafka.path("image").asText());
    assertEquals("broker,controller", kafka.path("environment").path("KAFKA_PROCESS_ROLES").asText(), "KRaft");
    assertEquals("1", kafka.path("environment").path("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR").asText(),
        "exactly-once on a single broker needs a replication factor of 1 for the transaction log");
  }

  @Test
  void composeAppCommandsShouldParseAndUseTheAppsTopics() throws Exception {
    PipelineConfig defaults = PipelineConfig.defaults();
    for (String service : List.of("toedit", "toedit-gpu")) {
      List<String> args = strings(compose().path("services").path(service).path("command"));
      CommandLine.ParseResult r = parse(args);
      assertEquals("run", r.subcommand().commandSpec().name(), service);
      PipelineConfig cfg = PipelineConfig.fromProperties(overrides(r));
      assertEquals(defaults.inputTopic(), cfg.inputTopic(), service);
      assertEquals(defaults.editedTopic(), cfg.editedTopic(), service);
      assertEquals(defaults.deadLetterTopic(), cfg.deadLetterTopic(), service);
      assertEquals("kafka:9092", r.subcommand().matchedOptionValue("--bootstrap-servers", ""), service);
      int httpPort = r.subcommand().matchedOptionValue("--http-port", -1);
      String published = compose().path("services").path(service).path("ports").get(0).asText();
      assertTrue(published.startsWith("127.0.0.1:") && published.endsWith(":" + httpPort),
          service + " publishes " + published + " but serves on " + httpPort);
    }
    assertEquals("gpu", parse(strings(compose().path("services").path("toedit-gpu").path("command")))
        .subcommand().matchedOptionValue("--device", ""));
    assertEquals("cuda", compose().path("services").path("toedit-gpu").path("build").path("args")
        .path("MAVEN_PROFILES").asText(), "the GPU service builds the CUDA Maven profile");
  }

  @Test
  void prometheusShouldScrapeTheAppsMetricsEndpoint() throws Exception {
    JsonNode prom = YAML.readTree(Path.of("ops/prometheus/prometheus.yml").toFile());
    JsonNode job = prom.path("scrape_configs").get(0);
    assertEquals("/metrics", job.path("metrics_path").asText());
    List<String> args = strings(compose().path("services").path("toedit").path("command"));
    int httpPort = parse(args).subcommand().matchedOptionValue("--http-port", -1);
    assertEquals("toedit:" + httpPort, job.path("static_configs").get(0).path("targets").get(0).asText());
    assertTrue(compose().path("services").path("prometheus").path("volumes").toString().contains("alerts.yml"));
  }

  @Test
  void everyMetricUsedByAlertsAndDashboardsShouldExist() throws Exception {
    PipelineMetrics metrics = new PipelineMetrics();
    metrics.bind(() -> new PipelineStats.Snapshot(1, 1, 0, 10, 2, 1, 0, 1, 0), 100);
    metrics.batch(1, 10, 1_000_000L);
    for (String name : DriftGauges.GAUGES) {
      metrics.drift("tinystories", "raw", name, 0.5);
    }
    String scrape = metrics.registry().scrape();
    Set<String> used = new TreeSet<>();
    Pattern metric = Pattern.compile("\\btoedit_[a-z0-9_]+");
    for (String file : List.of("ops/prometheus/alerts.yml", "ops/grafana/dashboards/toedit.json")) {
      Matcher m = metric.matcher(Files.readString(Path.of(file)));
      while (m.find()) {
        used.add(m.group());
      }
    }
    assertFalse(used.isEmpty());
    for (String name : used) {
      assertTrue(scrape.contains("\n" + name + " ") || scrape.contains("\n" + name + "{"),
          name + " is used by ops/ but the app does not export it");
    }
  }

  @Test
  void grafanaShouldProvisionTheDashboardFromOps() throws Exception {
    JsonNode dash = new ObjectMapper().readTree(Path.of("ops/grafana/dashboards/toedit.json").toFile());
    assertTrue(dash.path("panels").size() >= 8);
    JsonNode grafana = compose().path("services").path("grafana");
    assertTrue(grafana.path("volumes").toString().contains("./ops/grafana/dashboards"));
    JsonNode provider = YAML.readTree(Path.of("ops/grafana/provisioning/dashboards/toedit.yml").toFile());
    assertEquals("/var/lib/grafana/dashboards", provider.path("providers").get(0).path("options").path("path").asText());
  }

  @Test
  void kubernetesExampleShouldParseAndRequestAGpuAndAStateVolume() throws Exception {
    List<JsonNode> docs = new ArrayList<>();
    try (var parser = new YAMLFactory().createParser(Path.of("ops/k8s/toedit-statefulset.yaml").toFile())) {
      YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
    }
    JsonNode sts = docs.stream().filter(d -> d.path("kind").asText().equals("StatefulSet")).findFirst().orElseThrow();
    JsonNode container = sts.path("spec").path("template").path("spec").path("containers").get(0);
    List<String> args = strings(container.path("args"));
    CommandLine.ParseResult r = parse(args);
    assertEquals("run", r.subcommand().commandSpec().name());
    assertEquals("1", container.path("resources").path("limits").path("nvidia.com/gpu").asText());
    String mount = container.path("volumeMounts").get(0).path("mountPath").asText();
    assertTrue(r.subcommand().matchedOptionValue("--state-dir", Path.of("")).startsWith(mount));
    assertEquals("state", sts.path("spec").path("volumeClaimTemplates").get(0).path("metadata").path("name").asText());
  }

  @Test
  void dockerfileShouldRunTheAppAsNonRootWithTheJava17ModuleFlag() throws Exception {
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    assertTrue(dockerfile.contains("FROM maven:") && dockerfile.contains("AS build"), "multi-stage");
    assertTrue(dockerfile.contains("USER toedit"), "non-root");
    assertTrue(dockerfile.contains("--add-modules=jdk.incubator.foreign,jdk.incubator.vector"));
    for (String flag : io.toedit.model.AttentionKernel.JIT_FLAGS) {
      assertTrue(dockerfile.contains(flag), "Dockerfile JDK_JAVA_OPTIONS lacks " + flag);
    }
    assertTrue(dockerfile.contains("toedit-streams.jar"));
  }
}
