package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.toedit.local.Demo;
import java.io.File;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus (Debian's {@code prometheus} 2.42; {@code .ci/run} installs it) on 127.0.0.1,
 * with a temporary storage folder, scraping a running {@code demo}'s {@code /metrics} every second
 * and evaluating {@code ops/prometheus/alerts.yml}. Its HTTP API must answer the pipeline counters
 * (the demo's exact totals) and the drift gauges as the story left them; every metric and label that
 * an alert rule or a panel of the Grafana dashboard ({@code ops/grafana/dashboards/toedit.json}; no
 * Grafana server here) uses must be among the series Prometheus scraped, every panel query must
 * return data, and every alert rule must evaluate without error. Without the binary the test is
 * skipped, except under {@code CI=true}, where it fails.
 */
class PrometheusScrapeIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ALERTS = Path.of("ops", "prometheus", "alerts.yml");
  private static final Path DASHBOARD = Path.of("ops", "grafana", "dashboards", "toedit.json");
  /** Metric names in PromQL: ours and Kafka's (other identifiers are functions and keywords). */
  private static final Pattern METRIC = Pattern.compile("\\b(?:toedit|kafka)_[a-z0-9_]+\\b");
  private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
  private static final Pattern MATCHER_LABEL = Pattern.compile("[{,]\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
  private static final Pattern TEMPLATE_LABEL = Pattern.compile("\\{\\{\\s*(?:\\$labels\\.)?([a-zA-Z_][a-zA-Z0-9_]*)\\s*}}");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Path binary(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    if ("true".equals(System.getenv("CI"))) {
      fail("CI=true but " + name + " is not installed: apt-get install prometheus (.ci/run does)");
    }
    Assumptions.abort(name + " not installed (apt-get install prometheus)");
    return null;
  }

  /** A PromQL expression and what it comes with: the labels its legend or annotations print. */
  record Query(String where, String expr, Set<String> templateLabels) {
  }

  @Test
  void shouldScrapeTheDemoAndFindEveryMetricThatAlertsAndDashboardsUse(@TempDir Path dir) throws Exception {
    Path prometheus = binary("prometheus");
    try (RunningDemo demo = RunningDemo.start()) {
      int promPort = RunningDemo.freePort();
      Files.copy(ALERTS, dir.resolve("alerts.yml"));
      Files.writeString(dir.resolve("prometheus.yml"), """
          global:
            scrape_interval: 1s
            evaluation_interval: 1s
          rule_files: [alerts.yml]
          scrape_configs:
            - job_name: toedit
              metrics_path: /metrics
              static_configs:
                - targets: ["127.0.0.1:%d"]
          """.formatted(demo.port()));
      Path log = dir.resolve("prometheus.log");
      Process p = new ProcessBuilder(prometheus.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
          "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort)
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      String api = "http://127.0.0.1:" + promPort;
      try {
        awaitReady(api, p, log);
        demo.awaitSummary(600);
        // Two more scrapes after the summary, so the final totals are in.
        Thread.sleep(3000);
        String out = demo.output();

        JsonNode targets = get(api + "/api/v1/targets").path("data").path("activeTargets");
        assertEquals(1, targets.size(), targets.toString());
        assertEquals("up", targets.get(0).path("health").asText(), targets.toString());

        // The pipeline counters, as Prometheus stored them, are the demo's totals.
        assertEquals(number(out, "records in\\s+(\\d+)"), scalar(api, "sum(toedit_documents_in_total)"), 0.0);
        assertEquals(number(out, "edited docs\\s+(\\d+)"), scalar(api, "sum(toedit_documents_out_total)"), 0.0);
        assertEquals(number(out, "dead letters\\s+(\\d+)"), scalar(api, "sum(toedit_dead_letters_total)"), 0.0);
        assertEquals(number(out, "tokens scored\\s+(\\d+)"), scalar(api, "sum(toedit_tokens_in_total)"), 0.0);

        // The drift gauges hold the newest closed window (a gauge is set when a window closes): the
        // same numbers the demo read back from the drift topic for its last closed window, generated
        // text. (Not their history: several windows can close between two scrapes.)
        String raw = "{source=\"" + Demo.SOURCE + "\",stream=\"raw\"}";
        assertEquals(2, query(api, "toedit_drift_jsd{source=\"" + Demo.SOURCE + "\"}").size());
        Matcher row = Pattern.compile("(?m)^  \\d\\d:\\d\\d:\\d\\d  (\\w+)\\s+\\d+\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)"
            + "\\s+(\\S+)\\s+(\\S+)\\s.*\\s(YES|no)$").matcher(out);
        String[] last = null;
        while (row.find()) {
          last = new String[] {row.group(1), row.group(2), row.group(3), row.group(4), row.group(5), row.group(6),
              row.group(7)};
        }
        assertTrue(last != null, "no drift window rows in the demo summary:\n" + out);
        assertEquals("generated", last[0], "newest closed window:\n" + out);
        assertEquals(Double.parseDouble(last[1]), scalar(api, "toedit_drift_jsd" + raw), 5e-5, "raw JSD");
        assertEquals(Double.parseDouble(last[3]), scalar(api, "toedit_drift_mean_nll" + raw), 5e-5, "mean NLL");
        assertEquals(Double.parseDouble(last[4]), scalar(api, "toedit_drift_top40_bigram_share" + raw), 5e-5);
        assertEquals(Double.parseDouble(last[5]), scalar(api, "toedit_drift_contamination_score" + raw), 5e-3);
        assertEquals(last[6].equals("YES") ? 1.0 : 0.0, scalar(api, "toedit_drift_contaminated" + raw), 0.0);

        // Every metric and label that an alert or a dashboard panel uses, against the scraped series.
        List<Query> queries = new ArrayList<>(alertQueries());
        queries.addAll(dashboardQueries());
        Map<String, List<JsonNode>> seriesByMetric = new LinkedHashMap<>();
        for (Query q : queries) {
          Set<String> metrics = metrics(q.expr());
          assertFalse(metrics.isEmpty(), q.where() + ": no metric in " + q.expr());
          Set<String> labels = new TreeSet<>(q.templateLabels());
          labels.addAll(labels(q.expr()));
          for (String metric : metrics) {
            List<JsonNode> series = seriesByMetric.computeIfAbsent(metric, m -> series(api, m));
            assertFalse(series.isEmpty(), q.where() + " uses " + metric + ", which Prometheus never scraped");
            for (String label : labels) {
              for (JsonNode s : series) {
                assertTrue(s.has(label), q.where() + " uses label '" + label + "' but the scraped " + s + " lacks it");
              }
            }
          }
        }
        for (Query q : dashboardQueries()) {
          assertFalse(query(api, q.expr()).isEmpty(), q.where() + ": " + q.expr() + " returned no data");
        }

        // Prometheus loaded and evaluated every alert rule without error.
        List<String> evaluated = new ArrayList<>();
        for (JsonNode group : get(api + "/api/v1/rules").path("data").path("groups")) {
          for (JsonNode rule : group.path("rules")) {
            assertEquals("ok", rule.path("health").asText(), rule.toString());
            evaluated.add(rule.path("name").asText());
          }
        }
        assertEquals(alertQueries().size(), evaluated.size(), evaluated.toString());
      } finally {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  private void awaitReady(String api, Process p, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        fail("prometheus exited with " + p.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(api + "/-/ready")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (java.io.IOException e) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    fail("prometheus not ready within 60 s:\n" + Files.readString(log));
  }

  private JsonNode get(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode body = JSON.readTree(r.body());
      assertEquals("success", body.path("status").asText(), url + " -> " + r.body());
      return body;
    } catch (Exception e) {
      throw new AssertionError("GET " + url + " failed: " + e, e);
    }
  }

  private JsonNode query(String api, String promql) {
    return get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8))
        .path("data").path("result");
  }

  private double scalar(String api, String promql) {
    JsonNode result = query(api, promql);
    assertEquals(1, result.size(), promql + " -> " + result);
    return Double.parseDouble(result.get(0).path("value").get(1).asText());
  }

  /** The label sets of every series of {@code metric} Prometheus stored in the last hour. */
  private List<JsonNode> series(String api, String metric) {
    long now = System.currentTimeMillis() / 1000;
    List<JsonNode> out = new ArrayList<>();
    get(api + "/api/v1/series?match[]=" + URLEncoder.encode(metric, StandardCharsets.UTF_8) + "&start=" + (now - 3600)
        + "&end=" + now).path("data").forEach(out::add);
    return out;
  }

  static Set<String> metrics(String expr) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  static Set<String> labels(String expr) {
    Set<String> out = new TreeSet<>();
    Matcher g = GROUPING.matcher(expr);
    while (g.find()) {
      for (String l : g.group(1).split(",")) {
        if (!l.isBlank()) {
          out.add(l.strip());
        }
      }
    }
    Matcher m = MATCHER_LABEL.matcher(expr);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  static Set<String> templateLabels(String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = TEMPLATE_LABEL.matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  static List<Query> alertQueries() throws Exception {
    List<Query> out = new ArrayList<>();
    for (JsonNode group : new YAMLMapper().readTree(ALERTS.toFile()).path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        out.add(new Query("alert " + rule.path("alert").asText(), rule.path("expr").asText(),
            templateLabels(rule.path("annotations").toString())));
      }
    }
    return out;
  }

  static List<Query> dashboardQueries() throws Exception {
    List<Query> out = new ArrayList<>();
    for (JsonNode panel : JSON.readTree(DASHBOARD.toFile()).path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        out.add(new Query("panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
            target.path("expr").asText(), templateLabels(target.path("legendFormat").asText())));
      }
    }
    return out;
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "no match for " + regex + " in\n" + text);
    return Long.parseLong(m.group(1));
  }
}
