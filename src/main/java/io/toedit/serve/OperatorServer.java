package io.toedit.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator HTTP surface: read-only, bound to 127.0.0.1 unless told otherwise.
 *
 * <ul>
 *   <li>{@code GET /} the live dashboard (static files from the jar; nothing loads from a CDN)
 *   <li>{@code GET /metrics} Prometheus text format
 *   <li>{@code GET /api/status} pipeline counters and rates
 *   <li>{@code GET /api/drift?source=&stream=&from=&to=} drift windows (404 for an unknown pair)
 *   <li>{@code GET /api/windows/latest} the newest window of every (source, stream)
 * </ul>
 *
 * Any method other than GET or HEAD is answered 405.
 */
public final class OperatorServer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(OperatorServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, String> CONTENT_TYPES = Map.of(
      "html", "text/html; charset=utf-8",
      "js", "text/javascript; charset=utf-8",
      "css", "text/css; charset=utf-8",
      "txt", "text/plain; charset=utf-8");

  private final HttpServer server;
  private final ExecutorService executor;

  private OperatorServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Starts the server.
   *
   * @param host interface to bind; {@code 127.0.0.1} by default, {@code 0.0.0.0} only on purpose
   * @param port 0 picks a free port
   * @param registry the Prometheus registry scraped at {@code /metrics}
   * @param drift drift queries
   * @param status supplier of the {@code /api/status} document
   */
  public static OperatorServer start(String host, int port, PrometheusMeterRegistry registry, DriftQueries drift,
      Supplier<Map<String, Object>> status) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
      ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "toedit-http");
        t.setDaemon(true);
        return t;
      });
      server.setExecutor(executor);
      server.createContext("/", ex -> handle(ex, () -> serveStatic(ex)));
      server.createContext("/metrics", ex -> handle(ex, () ->
          respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape())));
      server.createContext("/api/status", ex -> handle(ex, () -> respondJson(ex, 200, status.get())));
      server.createContext("/api/windows/latest", ex -> handle(ex, () -> respondJson(ex, 200,
          "true".equals(query(ex.getRequestURI()).get("local")) ? drift.localLatest() : drift.latest())));
      server.createContext("/api/drift", ex -> handle(ex, () -> {
        Map<String, String> q = query(ex.getRequestURI());
        String source = q.get("source");
        String stream = q.getOrDefault("stream", "raw");
        if (source == null || source.isBlank()) {
          respondJson(ex, 400, Map.of("error", "query parameter 'source' is required, e.g. /api/drift?source=web&stream=raw"));
          return;
        }
        long from = parseLong(q.get("from"), 0L, "from");
        long to = parseLong(q.get("to"), Long.MAX_VALUE, "to");
        String s = stream.toLowerCase(Locale.ROOT);
        respondJson(ex, 200, "true".equals(q.get("local")) ? drift.localWindows(source, s, from, to)
            : drift.windows(source, s, from, to));
      }));
      server.start();
      LOG.info("Operator HTTP server on http://{}:{}/ (dashboard, /metrics, /api)", host,
          server.getAddress().getPort());
      return new OperatorServer(server, executor);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot bind the HTTP server to " + host + ":" + port
          + " (is the port in use? choose another with --http-port)", e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private interface Handler {
    void run() throws IOException;
  }

  private static void handle(HttpExchange ex, Handler handler) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      if (!"GET".equals(method) && !"HEAD".equals(method)) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        respondJson(ex, 405, Map.of("error", "read-only endpoint: use GET"));
        return;
      }
      try {
        handler.run();
      } catch (NoSuchElementException e) {
        respondJson(ex, 404, Map.of("error", e.getMessage()));
      } catch (IllegalArgumentException e) {
        respondJson(ex, 400, Map.of("error", e.getMessage()));
      } catch (RuntimeException e) {
        LOG.warn("HTTP {} failed", ex.getRequestURI(), e);
        respondJson(ex, 500, Map.of("error", e.toString()));
      }
    }
  }

  private static void serveStatic(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (path.equals("/")) {
      path = "/index.html";
    }
    if (path.contains("..") || !path.matches("/[A-Za-z0-9._/-]+")) {
      respondJson(ex, 404, Map.of("error", "not found: " + path));
      return;
    }
    try (InputStream in = OperatorServer.class.getResourceAsStream("/web" + path)) {
      if (in == null) {
        respondJson(ex, 404, Map.of("error", "not found: " + path));
        return;
      }
      String ext = path.substring(path.lastIndexOf('.') + 1);
      respond(ex, 200, CONTENT_TYPES.getOrDefault(ext, "application/octet-stream"), in.readAllBytes());
    }
  }

  private static long parseLong(String v, long dflt, String name) {
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("query parameter '" + name + "' must be epoch milliseconds, got '" + v + "'", e);
    }
  }

  static Map<String, String> query(URI uri) {
    Map<String, String> out = new HashMap<>();
    String raw = uri.getRawQuery();
    if (raw == null) {
      return out;
    }
    for (String part : raw.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      String v = eq < 0 ? "" : part.substring(eq + 1);
      out.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  private static void respondJson(HttpExchange ex, int code, Object body) throws IOException {
    respond(ex, code, "application/json; charset=utf-8", JSON.writeValueAsBytes(body));
  }

  private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
    respond(ex, code, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void respond(HttpExchange ex, int code, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    boolean head = "HEAD".equals(ex.getRequestMethod());
    ex.sendResponseHeaders(code, head ? -1 : body.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
