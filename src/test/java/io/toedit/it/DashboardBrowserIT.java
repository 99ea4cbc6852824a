package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in real headless Chromium, with data from a running {@code demo}: the page loads,
 * every plot renders, the n-gram table fills, and a screenshot lands in
 * {@code target/dashboard.png}. Chromium is Debian's {@code chromium} ({@code .ci/run} installs
 * it); without it the test is skipped, except under {@code CI=true}, where it fails.
 */
class DashboardBrowserIT {

  private static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
  private static final List<String> PLOTS = List.of("ngrams", "plot-concentration", "plot-distinct", "plot-hist",
      "plot-jsd", "plot-nll", "plot-throughput");

  @Test
  void shouldRenderEveryPlotWithDataFromARunningDemo() throws Exception {
    if (!Files.isExecutable(CHROMIUM)) {
      if ("true".equals(System.getenv("CI"))) {
        fail("CI=true but " + CHROMIUM + " is missing: install Debian's chromium (.ci/run does)");
      }
      Assumptions.abort("headless Chromium not installed at " + CHROMIUM + " (apt-get install chromium)");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    StringWriter out = new StringWriter();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread demo = new Thread(() -> exit.set(Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(out, true))
        .execute("demo", "--http-port", Integer.toString(port), "--linger-s", "300")), "demo");
    demo.start();
    try {
      awaitEdited(port, 120, out, demo);
      Path shot = Path.of("target", "dashboard.png").toAbsolutePath();
      Files.deleteIfExists(shot);
      String dom = chromium(port, "--dump-dom");
      chromium(port, "--screenshot=" + shot, "--window-size=1400,1800");
      Matcher rendered = Pattern.compile("data-plots=\"([^\"]*)\"").matcher(dom);
      assertTrue(rendered.find(), "the dashboard script never marked a plot as rendered:\n"
          + dom.substring(0, Math.min(2000, dom.length())));
      assertEquals(PLOTS, List.of(rendered.group(1).split(",")), "rendered plots");
      assertTrue(dom.contains("<canvas"), "uPlot draws on canvases");
      assertTrue(Pattern.compile("<td>edited</td>|<td>raw</td>").matcher(dom).find(), "top n-gram rows");
      assertTrue(dom.contains(" edited · "), "status line with live counters");
      assertTrue(Files.size(shot) > 10_000, "screenshot " + shot);
    } finally {
      demo.interrupt();
      demo.join(TimeUnit.SECONDS.toMillis(120));
    }
    assertEquals(false, demo.isAlive(), "demo did not stop:\n" + out);
  }

  private static void awaitEdited(int port, long documents, StringWriter out, Thread demo) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
    while (System.nanoTime() < deadline) {
      if (!demo.isAlive()) {
        fail("demo stopped early:\n" + out);
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/api/windows/latest")).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode status = new ObjectMapper().readTree(http.send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + port + "/api/status")).build(), HttpResponse.BodyHandlers.ofString()).body());
        if (r.statusCode() == 200 && r.body().contains("\"edited\"") && status.path("documentsOut").asLong() >= documents) {
          return;
        }
      } catch (IOException e) {
        // not up yet
      }
      Thread.sleep(1000);
    }
    fail("no drift windows with " + documents + " edited documents within 600 s:\n" + out);
  }

  private static String chromium(int port, String... extra) throws Exception {
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
