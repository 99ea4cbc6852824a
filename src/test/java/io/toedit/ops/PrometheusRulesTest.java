package io.toedit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus files checked by Prometheus itself: {@code promtool check config},
 * {@code promtool check rules} and {@code promtool test rules} with the unit tests in
 * {@code ops/prometheus/tests/}, which must cover every alert both firing (its condition held for
 * its {@code for:} duration) and quiet. promtool comes with Debian's {@code prometheus} package
 * ({@code .ci/run} installs it); without it the test is skipped, except under {@code CI=true},
 * where it fails.
 */
class PrometheusRulesTest {

  private static final Path OPS = Path.of("ops", "prometheus");
  private static final Path ALERTS = OPS.resolve("alerts.yml");
  private static final Path RULE_TESTS = OPS.resolve("tests").resolve("alerts_test.yml");
  private static final YAMLMapper YAML = new YAMLMapper();

  /** The promtool binary on the PATH (or {@code $PROMTOOL}); aborts or fails (CI) when absent. */
  static Path promtool() {
    String explicit = System.getenv("PROMTOOL");
    if (explicit != null && Files.isExecutable(Path.of(explicit))) {
      return Path.of(explicit);
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, "promtool");
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    if ("true".equals(System.getenv("CI"))) {
      fail("CI=true but promtool is not installed: apt-get install prometheus (.ci/run does)");
    }
    Assumptions.abort("promtool not installed (apt-get install prometheus)");
    return null;
  }

  record Result(int code, String output) {
  }

  static Result run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(command + " did not finish within 120 s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private static Result promtool(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(promtool().toString());
    cmd.addAll(List.of(args));
    return run(cmd);
  }

  @Test
  void prometheusConfigShouldPassPromtoolAndFindTheAlertRules() throws Exception {
    Result r = promtool("check", "config", OPS.resolve("prometheus.yml").toString());
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().contains("1 rule files found"), r.output());
  }

  @Test
  void alertRulesShouldPassPromtool() throws Exception {
    Result r = promtool("check", "rules", ALERTS.toString());
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().contains(alertNames().size() + " rules found"), r.output());
  }

  @Test
  void everyAlertShouldFireAndStayQuietInPrometheusOwnRuleEngine() throws Exception {
    Result r = promtool("test", "rules", RULE_TESTS.toString());
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().contains("SUCCESS"), r.output());
  }

  @Test
  void everyAlertShouldHaveAFiringAndAQuietUnitTest() throws Exception {
    Set<String> firing = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    JsonNode tests = YAML.readTree(RULE_TESTS.toFile());
    assertEquals("../alerts.yml", tests.path("rule_files").get(0).asText());
    for (JsonNode t : tests.path("tests")) {
      for (JsonNode a : t.path("alert_rule_test")) {
        (a.path("exp_alerts").isEmpty() ? quiet : firing).add(a.path("alertname").asText());
      }
    }
    assertEquals(alertNames(), firing, "alerts with a test where they fire");
    assertEquals(alertNames(), quiet, "alerts with a test where they stay quiet");
  }

  @Test
  void promtoolShouldFailAWrongExpectation(@TempDir Path dir) throws Exception {
    // The harness can fail: expecting the stalled alert on a pipeline that writes as fast as it reads.
    Files.copy(ALERTS, dir.resolve("alerts.yml"));
    Path wrong = dir.resolve("wrong_test.yml");
    Files.writeString(wrong, """
        rule_files: [alerts.yml]
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'toedit_documents_in_total'
                values: '0+60x30'
              - series: 'toedit_documents_out_total'
                values: '0+60x30'
            alert_rule_test:
              - eval_time: 25m
                alertname: ToEditStalled
                exp_alerts:
                  - exp_labels: {severity: critical}
                    exp_annotations: {summary: "Documents come in but none are written"}
        """);
    Result r = promtool("test", "rules", wrong.toString());
    assertNotEquals(0, r.code(), r.output());
    assertTrue(r.output().contains("ToEditStalled"), r.output());
  }

  /** The alert names of ops/prometheus/alerts.yml. */
  static Set<String> alertNames() throws Exception {
    Set<String> names = new TreeSet<>();
    for (JsonNode group : YAML.readTree(ALERTS.toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        if (rule.has("alert")) {
          names.add(rule.path("alert").asText());
        }
      }
    }
    assertFalse(names.isEmpty());
    return names;
  }
}
