package io.toedit.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OperatorServerTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private PipelineMetrics metrics;
  private OperatorServer server;

  @BeforeEach
  void start() {
    metrics = new PipelineMetrics();
    DriftQueries drift = new DriftQueries() {
      @Override
      public List<Map<String, Object>> windows(String source, String stream, long from, long to) {
        if (!source.equals("tinystories")) {
          throw new NoSuchElementException("unknown source " + source);
        }
        return List.of(Map.of("source", source, "stream", stream, "start", from, "jsd", 0.25));
      }

      @Override
      public List<Map<String, Object>> latest() {
        return List.of(Map.of("source", "tinystories", "stream", "raw"));
      }
    };
    server = OperatorServer.start("127.0.0.1", 0, metrics.registry(), drift, metrics::status);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldExposePipelineMetricsInPrometheusFormat() throws Exception {
    metrics.bind(() -> new io.toedit.stream.PipelineStats.Snapshot(3, 1, 1, 100, 20, 1, 2, 1, 0), 4096);
    metrics.device("cpu");
    metrics.batch(4, 400, 3_000_000L);
    metrics.drift("tinystories", "raw", "jsd", 0.125);
    HttpResponse<String> r = get("/metrics");
    assertEquals(200, r.statusCode());
    String body = r.body();
    assertTrue(body.contains("toedit_documents_out_total 1.0"), body);
    assertTrue(body.contains("toedit_tokens_in_total 100.0"), body);
    assertTrue(body.contains("toedit_tokens_out_total 98.0"), body);
    assertTrue(body.contains("toedit_documents_in_total 3.0"), body);
    assertTrue(body.contains("toedit_dead_letters_total 1.0"), body);
    assertTrue(body.contains("toedit_edit_rate 0.01"), body);
    assertTrue(body.contains("toedit_batch_fill_ratio_sum 0.09765625"), body);
    assertTrue(body.contains("toedit_device_info{device=\"cpu\"} 1"), body);
    assertTrue(body.contains("toedit_drift_jsd{source=\"tinystories\",stream=\"raw\"} 0.125"), body);
    assertTrue(body.contains("toedit_scoring_seconds_bucket"), body);
  }

  @Test
  void shouldAnswerDriftQueriesAndMapUnknownKeysTo404() throws Exception {
    HttpResponse<String> ok = get("/api/drift?source=tinystories&stream=edited&from=5");
    assertEquals(200, ok.statusCode());
    assertTrue(ok.body().contains("\"stream\":\"edited\"") && ok.body().contains("\"start\":5"), ok.body());
    assertEquals(404, get("/api/drift?source=nope").statusCode());
    assertEquals(400, get("/api/drift").statusCode());
    assertEquals(400, get("/api/drift?source=tinystories&from=yesterday").statusCode());
    assertEquals(200, get("/api/windows/latest").statusCode());
  }

  @Test
  void shouldBeReadOnly() throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/status"))
        .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, r.statusCode());
    assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(""));
  }

  @Test
  void shouldServeTheDashboardAndItsVendoredChartLibraryFromTheJar() throws Exception {
    HttpResponse<String> page = get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("/vendor/uPlot.iife.min.js"));
    assertTrue(!page.body().contains("http://") && !page.body().contains("https://"), "no CDN");
    assertEquals(200, get("/vendor/uPlot.iife.min.js").statusCode());
    assertEquals(200, get("/dashboard.js").statusCode());
    assertEquals(404, get("/../pom.xml").statusCode());
    assertEquals(404, get("/nope.js").statusCode());
  }
}
