package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.local.Demo;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in real headless Chromium, with data from a running {@code demo} after its story
 * (human windows, then generated ones): the page loads, every plot renders with more than one point
 * (history, not one instant), the JSD plot holds every window of both streams, the contamination
 * alert banner shows, the raw and edited n-gram tables fill, and a screenshot lands in
 * {@code target/dashboard.png}. Chromium is Debian's {@code chromium} ({@code .ci/run} installs
 * it); without it the test is skipped, except under {@code CI=true}, where it fails.
 */
class DashboardBrowserIT {

  private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
  private static final List<String> PLOTS = List.of("ngrams", "plot-concentration", "plot-distinct", "plot-hist",
      "plot-jsd", "plot-nll", "plot-score", "plot-throughput");

  @Test
  void shouldShowTheDriftStoryOfARunningDemo() throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      if ("true".equals(System.getenv("CI"))) {
        fail("CI=true but " + CHROMIUM + " is missing: install Debian's chromium (.ci/run does)");
      }
      Assumptions.abort("headless Chromium not installed at " + CHROMIUM + " (apt-get install chromium)");
    }
    try (RunningDemo demo = RunningDemo.start()) {
      demo.awaitSummary(600);
      int port = demo.port();
      // Every window of the story: 9 per stream (the newest one open).
      JsonNode raw = new ObjectMapper().readTree(get(port, "/api/drift?source=" + Demo.SOURCE + "&stream=raw"));
      assertEquals(9, raw.size(), raw.toString());
      boolean estimate = false;
      for (JsonNode w : raw) {
        estimate |= w.hasNonNull("syntheticFraction");
      }
      Path shot = Path.of("target", "dashboard.png").toAbsolutePath();
      Files.deleteIfExists(shot);
      String dom = chromium(port, "--dump-dom");
      chromium(port, "--screenshot=" + shot, "--window-size=1400,2200");
      Matcher rendered = Pattern.compile("data-plots=\"([^\"]*)\"").matcher(dom);
      assertTrue(rendered.find(), "the dashboard script never marked a plot as rendered:\n"
          + dom.substring(0, Math.min(2000, dom.length())));
      List<String> expected = new ArrayList<>(PLOTS);
      if (estimate) {
        expected.add("plot-synthetic");
        expected.sort(null);
      }
      assertEquals(expected, List.of(rendered.group(1).split(",")), "rendered plots");
      Matcher pointsAttr = Pattern.compile("data-points=\"([^\"]*)\"").matcher(dom);
      assertTrue(pointsAttr.find(), "points per plot");
      Map<String, Integer> points = new TreeMap<>();
      for (String kv : pointsAttr.group(1).split(",")) {
        points.put(kv.substring(0, kv.indexOf(':')), Integer.parseInt(kv.substring(kv.indexOf(':') + 1)));
      }
      for (Map.Entry<String, Integer> e : points.entrySet()) {
        assertTrue(e.getValue() > 1, e.getKey() + " holds " + e.getValue() + " point(s): " + points);
      }
      assertEquals(18, points.get("plot-jsd"), "JSD of 9 windows, raw and edited: " + points);
      assertTrue(dom.contains("<canvas"), "uPlot draws on canvases");
      Matcher banner = Pattern.compile("<div id=\"alert\" class=\"alert\"( hidden(=\"\")?)?>([^<]*)</div>").matcher(dom);
      assertTrue(banner.find(), "alert banner element");
      assertEquals(null, banner.group(1), "the alert banner is hidden: " + banner.group());
      assertTrue(banner.group(3).contains("Contamination alert on source \"" + Demo.SOURCE + "\"")
          || banner.group(3).contains("Contamination alert on source &quot;" + Demo.SOURCE), banner.group(3));
      assertTrue(dom.contains("data-alert=\""), "body marked as alerting");
      for (String stream : List.of("raw", "edited")) {
        Matcher table = Pattern.compile("<table id=\"ngrams-" + stream + "\">.*?<tbody>(.*?)</tbody>", Pattern.DOTALL)
            .matcher(dom);
        assertTrue(table.find() && table.group(1).contains("<td>"), stream + " n-gram table is empty");
      }
      assertTrue(dom.contains(" edited · "), "status line with live counters");
      assertTrue(Files.size(shot) > 10_000, "screenshot " + shot);
    }
  }

  private static String get(int port, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return r.body();
  }

  static String chromium(int port, String... extra) throws Exception {
    Path profile = Files.createTempDirectory("toedit-chromium-");
    List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=15000"));
    cmd.addAll(List.of(extra));
    cmd.add("http://127.0.0.1:" + port + "/");
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] stdout = p.getInputStream().readAllBytes();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("chromium did not finish within 120 s");
    }
    return new String(stdout, StandardCharsets.UTF_8);
  }
}
