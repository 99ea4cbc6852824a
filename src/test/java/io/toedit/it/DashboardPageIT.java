package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.toedit.serve.DriftQueries;
import io.toedit.serve.OperatorServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The dashboard page in headless Chromium against the real {@link OperatorServer} serving fixed
 * windows (no pipeline): the fields a running demo may not produce are rendered too, namely the
 * synthetic-fraction estimate with its interval (fields {@code syntheticFraction},
 * {@code syntheticFractionLow}, {@code syntheticFractionHigh}, {@code alert}) and a metric that
 * varies in its fourth decimal and a throughput sampled every second, whose tick labels must all
 * differ (they used to repeat, "0.114, 0.114, 0.113"). The screenshot is kept in {@code target/dashboard-page.png}.
 * {@link DashboardBrowserIT} covers the page with a running demo.
 */
class DashboardPageIT {

  private static final String SOURCE = "feed";
  private static final long T0 = 1_790_000_000_000L;
  private static final double[] TOP40 = {0.11412, 0.11391, 0.11364, 0.11342, 0.11325, 0.11311};
  private static final double[] SYNTHETIC = {0.02, 0.01, 0.03, 0.60, 0.90, 0.95};

  private static Map<String, Object> window(String stream, int k) {
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("source", SOURCE);
    w.put("stream", stream);
    w.put("start", T0 + k * 60_000L);
    w.put("end", T0 + (k + 1) * 60_000L);
    w.put("documents", 20);
    w.put("jsd", 0.05 + 0.01 * k);
    w.put("meanNll", k < 3 ? 1.3 : 0.86);
    w.put("contaminationScore", k - 1.5);
    w.put("top40BigramShare", TOP40[k] + (stream.equals("edited") ? 0.00002 : 0));
    w.put("distinct2", 0.3 + 0.001 * k);
    boolean flagged = stream.equals("raw") && k >= 4;
    w.put("contaminated", flagged);
    w.put("alert", flagged);
    if (stream.equals("raw")) {
      w.put("syntheticFraction", SYNTHETIC[k]);
      w.put("syntheticFractionLow", Math.max(0, SYNTHETIC[k] - 0.1));
      w.put("syntheticFractionHigh", Math.min(1, SYNTHETIC[k] + 0.05));
      w.put("probHistogram", List.of(20, 5, 4, 3, 3, 3, 3, 4, 5, 50));
    }
    w.put("topNgrams", List.of(Map.of("text", stream + "-gram one", "count", 9),
        Map.of("text", stream + "-gram two", "count", 7)));
    return w;
  }

  private static final DriftQueries FIXED = new DriftQueries() {
    @Override
    public List<Map<String, Object>> windows(String source, String stream, long fromMs, long toMs) {
      if (!source.equals(SOURCE)) {
        throw new NoSuchElementException("unknown source " + source);
      }
      List<Map<String, Object>> out = new ArrayList<>();
      for (int k = 0; k < TOP40.length; k++) {
        out.add(window(stream, k));
      }
      return out;
    }

    @Override
    public List<Map<String, Object>> latest() {
      return List.of(window("raw", TOP40.length - 1), window("edited", TOP40.length - 1));
    }
  };

  private static Map<String, Object> status() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("documentsOut", 120);
    s.put("deadLetters", 1);
    s.put("tokensPerSecond", 2500.0);
    s.put("history", List.of(new long[] {T0, 0, 0, 0, 0}, new long[] {T0 + 1000, 10, 9, 0, 3000},
        new long[] {T0 + 2000, 30, 28, 1, 9000}, new long[] {T0 + 3000, 50, 49, 1, 15000}));
    return s;
  }

  @Test
  void shouldDrawTheSyntheticFractionWithItsIntervalAndDistinctTickLabels() throws Exception {
    if (!Files.isExecutable(Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium")))) {
      if ("true".equals(System.getenv("CI"))) {
        fail("CI=true but chromium is missing: install Debian's chromium (.ci/run does)");
      }
      Assumptions.abort("headless Chromium not installed (apt-get install chromium)");
    }
    try (OperatorServer server = OperatorServer.start("127.0.0.1", 0,
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), FIXED, DashboardPageIT::status)) {
      String dom = DashboardBrowserIT.chromium(server.port(), "--dump-dom");
      Path shot = Path.of("target", "dashboard-page.png").toAbsolutePath();
      DashboardBrowserIT.chromium(server.port(), "--screenshot=" + shot, "--window-size=1400,2200");
      assertTrue(Files.size(shot) > 10_000, "screenshot " + shot);
      Map<String, String> points = attributeMap(dom, "data-points", ",", ":");
      assertEquals("6", points.get("plot-synthetic"), "one estimate per window: " + points);
      assertEquals("12", points.get("plot-jsd"), points.toString());
      assertEquals("3", points.get("plot-throughput"), "rates between 4 samples: " + points);
      assertEquals("4", points.get("ngrams"), "two n-grams per stream: " + points);

      Map<String, String> ticks = attributeMap(dom, "data-yticks", ";", "=");
      assertTrue(ticks.keySet().containsAll(List.of("plot-concentration", "plot-synthetic", "plot-jsd",
          "plot-throughput", "plot-throughput#2", "plot-throughput#x", "plot-jsd#x")), ticks.toString());
      for (Map.Entry<String, String> e : ticks.entrySet()) {
        List<String> labels = List.of(e.getValue().split("\\|"));
        assertTrue(labels.size() >= 2, e.toString());
        assertEquals(labels.size(), new HashSet<>(labels).size(), "repeated tick labels on " + e);
      }
      assertTrue(ticks.get("plot-synthetic").contains(" %"), "percent ticks: " + ticks.get("plot-synthetic"));

      Matcher banner = Pattern.compile("<div id=\"alert\" class=\"alert\">([^<]*)</div>").matcher(dom);
      assertTrue(banner.find(), "a visible alert banner");
      assertTrue(banner.group(1).contains("2 of 12 windows flagged"), banner.group(1));
      assertTrue(banner.group(1).contains("synthetic fraction 95 % [85, 100]"), banner.group(1));
      // Spaces are shown as U+2423 in the tables.
      assertTrue(dom.contains("raw-gram\u2423one") && dom.contains("edited-gram\u2423one"), "both n-gram tables");
    }
  }

  /** {@code name="k1:v1,k2:v2"} on the body, as a map. */
  private static Map<String, String> attributeMap(String dom, String name, String entries, String kv) {
    Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(dom);
    assertTrue(m.find(), name + " not set:\n" + dom.substring(0, Math.min(2000, dom.length())));
    Map<String, String> out = new LinkedHashMap<>();
    for (String e : m.group(1).split(entries)) {
      int i = e.indexOf(kv);
      out.put(e.substring(0, i), e.substring(i + kv.length()));
    }
    return out;
  }
}
