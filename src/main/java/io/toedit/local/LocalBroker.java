package io.toedit.local;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node KRaft Kafka broker (broker and controller in one process) for development,
 * {@code demo} and tests. It runs {@code kafka.Kafka server.properties} in a child JVM built from the
 * jars on this application's own classpath ({@code org.apache.kafka:kafka_2.13}), listening on
 * 127.0.0.1 only.
 *
 * <p>Lifecycle: {@link #start} formats the storage (first start only), launches the child, and returns
 * once the broker logs "Kafka Server started". {@link #close} stops the child (SIGTERM, then SIGKILL
 * after a grace period) and waits for it; it is idempotent and also runs from a shutdown hook. If this
 * JVM is killed with SIGKILL, the child notices that its stdin pipe closed and exits by itself (see
 * {@link BrokerLauncher}).
 *
 * <p>Files under {@code dataDir}: {@code server.properties}, {@code broker.log} (the child's output),
 * {@code kraft-logs/} (the topic data), {@code local-broker.properties} (cluster id and ports, so a
 * restart on the same directory reuses them).
 *
 * <p>Values of the extra server properties may contain {@code ${port}} and {@code ${controller.port}},
 * replaced by the chosen ports (needed to redefine {@code listeners} with a port chosen here). The
 * pseudo-property {@link #ADD_SCRAM} is not written to server.properties: each of its lines becomes
 * one {@code --add-scram} argument of the storage format step, e.g.
 * {@code SCRAM-SHA-256=[name=alice,password=alice-secret]}, which is how SCRAM credentials exist before
 * the first client connects.
 */
public final class LocalBroker implements AutoCloseable {

  /** Pseudo server property: SCRAM credentials created at format time, one per line. */
  public static final String ADD_SCRAM = "toedit.storage.add-scram";

  /** The log line the broker prints when it accepts clients. */
  static final String READY_LINE = "Kafka Server started";

  private static final Logger LOG = LoggerFactory.getLogger(LocalBroker.class);
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(
      Long.getLong("toedit.broker.startup-timeout-s", 90));
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);
  private static final int PORT_ATTEMPTS = 3;
  private static final String STATE_FILE = "local-broker.properties";

  private final Process process;
  private final Path dataDir;
  private final int port;
  private final Thread shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();

  private LocalBroker(Process process, Path dataDir, int port) {
    this.process = process;
    this.dataDir = dataDir;
    this.port = port;
    this.shutdownHook = new Thread(this::stopChild, "local-broker-shutdown-" + process.pid());
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Starts a broker with the default PLAINTEXT listener. {@code port} 0 picks a free port. */
  public static LocalBroker start(Path dataDir, int port) {
    return start(dataDir, port, Map.of());
  }

  /**
   * Starts a broker whose server.properties are the defaults overridden by {@code extraServerProps}
   * (for example a SASL listener). {@code port} 0 picks a free port. Blocks until the broker is ready.
   *
   * @throws IllegalStateException if the broker does not start; the message holds the log tail
   */
  public static LocalBroker start(Path dataDir, int port, Map<String, String> extraServerProps) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0 (pick a free one) or 1-65535: " + port);
    }
    Path dir = dataDir.toAbsolutePath().normalize();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the broker data directory " + dir, e);
    }
    IllegalStateException last = null;
    for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
      try {
        return startOnce(dir, port, extraServerProps);
      } catch (PortInUseException e) {
        last = e;
        if (port != 0 && attempt == 1) {
          break; // the caller asked for this port: do not silently take another
        }
        LOG.info("a chosen port was taken meanwhile, retrying ({}/{})", attempt, PORT_ATTEMPTS);
      }
    }
    throw last;
  }

  /** {@code 127.0.0.1:port}: the address clients connect to. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The client port. */
  public int port() {
    return port;
  }

  /** The PID of the child JVM running the broker. */
  public long pid() {
    return process.pid();
  }

  /** The data directory (absolute). */
  public Path dataDir() {
    return dataDir;
  }

  /** Whether the child JVM is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits until the child JVM exits (for a foreground {@code broker} command).
   *
   * @return the child's exit code
   */
  public int waitFor() throws InterruptedException {
    return process.waitFor();
  }

  /** Stops the broker and waits until its JVM has exited. Idempotent. */
  @Override
  public void close() {
    stopChild();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs (or ran) stopChild, which is idempotent
    }
  }

  private void stopChild() {
    if (!closed.compareAndSet(false, true)) {
      // another thread (e.g. the shutdown hook) is stopping it: still wait until it is gone
      try {
        process.waitFor(STOP_GRACE.toSeconds() + 10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    if (!process.isAlive()) {
      return;
    }
    process.destroy(); // SIGTERM: Kafka runs its own shutdown hook and stops cleanly
    try {
      if (!process.waitFor(STOP_GRACE.toSeconds(), TimeUnit.SECONDS)) {
        LOG.warn("broker pid {} did not stop within {} s, killing it", process.pid(), STOP_GRACE.toSeconds());
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      closeQuietly(process.getOutputStream());
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static LocalBroker startOnce(Path dir, int requestedPort, Map<String, String> extra) {
    Properties state = readState(dir);
    Path kraftLogs = dir.resolve("kraft-logs");
    boolean formatted = Files.exists(kraftLogs.resolve("meta.properties"));
    int port = requestedPort;
    int controllerPort;
    String clusterId;
    if (formatted && state.containsKey("controller.port")) {
      // The controller's endpoint is part of the formatted quorum: keep it across restarts.
      controllerPort = Integer.parseInt(state.getProperty("controller.port"));
      clusterId = state.getProperty("cluster.id");
      if (port == 0) {
        int previous = Integer.parseInt(state.getProperty("port", "0"));
        port = previous != 0 && isFree(previous) ? previous : freePort();
      }
    } else {
      formatted = false;
      controllerPort = freePort();
      clusterId = Uuid.randomUuid().toString();
      if (port == 0) {
        port = freePort();
      }
    }

    Map<String, String> props = serverProperties(kraftLogs, port, controllerPort);
    List<String> scram = new ArrayList<>();
    for (Map.Entry<String, String> e : extra.entrySet()) {
      String value = e.getValue().replace("${port}", Integer.toString(port))
          .replace("${controller.port}", Integer.toString(controllerPort));
      if (e.getKey().equals(ADD_SCRAM)) {
        value.lines().map(String::strip).filter(s -> !s.isEmpty()).forEach(scram::add);
      } else {
        props.put(e.getKey(), value);
      }
    }
    Path serverProperties = dir.resolve("server.properties");
    Path log = dir.resolve("broker.log");
    try {
      writeProperties(serverProperties, props, "single-node KRaft development broker (io.toedit.local.LocalBroker)");
      Properties newState = new Properties();
      newState.setProperty("cluster.id", clusterId);
      newState.setProperty("port", Integer.toString(port));
      newState.setProperty("controller.port", Integer.toString(controllerPort));
      writeProperties(dir.resolve(STATE_FILE), newState, "LocalBroker state: reused when restarting on this directory");
      Path log4j = writeLog4jConfig(dir);
      // The readiness check greps the log: an old log would match the previous run's line.
      Files.deleteIfExists(log);

      String classpath = childClasspath();
      if (!formatted) {
        format(dir, classpath, log4j, serverProperties, clusterId, scram);
      }
      List<String> cmd = javaCommand(classpath, log4j);
      cmd.add(BrokerLauncher.class.getName());
      cmd.add("kafka.Kafka");
      cmd.add(serverProperties.toString());
      ProcessBuilder pb = new ProcessBuilder(cmd)
          .directory(dir.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      // stdin stays a pipe: BrokerLauncher exits when it closes, i.e. when this JVM dies.
      Process process = pb.start();
      LocalBroker broker = new LocalBroker(process, dir, port);
      try {
        awaitReady(process, log, port);
      } catch (RuntimeException e) {
        broker.close();
        if (e instanceof PortInUseException && !formatted) {
          // The fresh storage recorded a controller port that could not be bound: start over.
          deleteRecursively(kraftLogs);
          Files.deleteIfExists(dir.resolve(STATE_FILE));
        }
        throw e;
      }
      LOG.info("Kafka broker ready at 127.0.0.1:{} (pid {}, data {})", port, process.pid(), dir);
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the local broker in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static Map<String, String> serverProperties(Path kraftLogs, int port, int controllerPort) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
    p.put("log.dirs", kraftLogs.toString());
    p.put("num.partitions", "1");
    // One node: every internal topic has one replica, or the coordinators never become available.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "10");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "10");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("min.insync.replicas", "1");
    p.put("default.replication.factor", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // A development broker shares its machine with the pipeline and builds: with the 9 s default a
    // CPU-starved single node can fence itself (its heartbeats to its own controller time out), and
    // producers then see NOT_LEADER_OR_FOLLOWER and lose sequence state.
    p.put("broker.session.timeout.ms", "60000");
    p.put("broker.heartbeat.interval.ms", "2000");
    p.put("auto.create.topics.enable", "true");
    return p;
  }

  private static void format(Path dir, String classpath, Path log4j, Path serverProperties, String clusterId,
      List<String> scram) throws IOException {
    List<String> cmd = javaCommand(classpath, log4j);
    cmd.addAll(List.of("kafka.tools.StorageTool", "format", "--standalone",
        "-c", serverProperties.toString(), "-t", clusterId));
    for (String s : scram) {
      cmd.add("--add-scram");
      cmd.add(s);
    }
    Path formatLog = dir.resolve("format.log");
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(formatLog.toFile()).start();
    closeQuietly(p.getOutputStream());
    try {
      if (!p.waitFor(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("formatting the broker storage timed out after "
            + STARTUP_TIMEOUT.toSeconds() + " s; " + tail(formatLog));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while formatting the broker storage", e);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("formatting the broker storage failed (exit " + p.exitValue()
          + "); delete " + dir + " if it holds a broken earlier run. " + tail(formatLog));
    }
  }

  private static void awaitReady(Process process, Path log, int port) {
    long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      String text = readLog(log);
      if (text.contains(READY_LINE)) {
        return;
      }
      if (!process.isAlive()) {
        if (text.contains("Address already in use") || text.contains("BindException")) {
          throw new PortInUseException("the broker could not bind its ports (127.0.0.1:" + port
              + " or the controller port): another process uses it. " + tail(log));
        }
        throw new IllegalStateException("the broker JVM exited with code " + process.exitValue()
            + " before it was ready. " + tail(log));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the broker to start", e);
      }
    }
    throw new IllegalStateException("the broker did not log '" + READY_LINE + "' within "
        + STARTUP_TIMEOUT.toSeconds() + " s (raise -Dtoedit.broker.startup-timeout-s on a slow machine). "
        + tail(log));
  }

  private static List<String> javaCommand(String classpath, Path log4j) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Djava.awt.headless=true");
    cmd.add("-Dlog4j2.configurationFile=" + log4j.toUri());
    cmd.add("-cp");
    cmd.add(classpath);
    return cmd;
  }

  private static Path writeLog4jConfig(Path dir) throws IOException {
    Path file = dir.resolve("broker-log4j2.xml");
    String xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Configuration status="WARN">
          <Appenders>
            <Console name="stdout" target="SYSTEM_OUT">
              <PatternLayout pattern="[%d{ISO8601}] %-5level %m (%c{1})%n"/>
            </Console>
          </Appenders>
          <Loggers>
            <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
            <Logger name="kafka.log.LogManager" level="WARN"/>
            <Logger name="org.apache.kafka.storage" level="WARN"/>
            <Logger name="org.apache.kafka.raft" level="WARN"/>
            <Root level="INFO"><AppenderRef ref="stdout"/></Root>
          </Loggers>
        </Configuration>
        """;
    Files.writeString(file, xml, StandardCharsets.UTF_8);
    return file;
  }

  /**
   * This JVM's classpath as a list of files. Manifest {@code Class-Path} entries of jars on it are
   * expanded relative to their jar: that is how {@code java -jar target/toedit-streams.jar} (and
   * Surefire's manifest-only booter jar) carry the real classpath.
   */
  static String childClasspath() {
    String cp = expandClasspath(System.getProperty("java.class.path", ""));
    if (!cp.contains("kafka_2.13")) {
      throw new IllegalStateException("the org.apache.kafka:kafka_2.13 jar is not on this application's "
          + "classpath, so no local broker can be started. Run from the packaged jar "
          + "(target/toedit-streams.jar with target/lib/) or from Maven.");
    }
    return cp;
  }

  /** Expands a classpath string: every jar's manifest Class-Path, recursively, relative to the jar. */
  static String expandClasspath(String classpath) {
    Set<String> out = new LinkedHashSet<>();
    for (String entry : classpath.split(File.pathSeparator)) {
      if (!entry.isBlank()) {
        expand(Paths.get(entry).toAbsolutePath().normalize(), out);
      }
    }
    return String.join(File.pathSeparator, out);
  }

  private static void expand(Path path, Set<String> out) {
    if (!out.add(path.toString())) {
      return;
    }
    if (!Files.isRegularFile(path) || !path.getFileName().toString().endsWith(".jar")) {
      return;
    }
    try (JarFile jar = new JarFile(path.toFile())) {
      Manifest manifest = jar.getManifest();
      String cp = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
      if (cp == null) {
        return;
      }
      URI base = path.getParent().toUri();
      for (String item : cp.trim().split("\\s+")) {
        if (item.isEmpty()) {
          continue;
        }
        try {
          URI uri = base.resolve(item);
          if ("file".equals(uri.getScheme())) {
            expand(Paths.get(uri).normalize(), out);
          }
        } catch (IllegalArgumentException e) {
          LOG.debug("ignoring class-path entry {} of {}", item, path, e);
        }
      }
    } catch (IOException e) {
      LOG.debug("cannot read the manifest of {}", path, e);
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
    }
  }

  private static Properties readState(Path dir) {
    Properties p = new Properties();
    Path file = dir.resolve(STATE_FILE);
    if (Files.isRegularFile(file)) {
      try (InputStream in = Files.newInputStream(file)) {
        p.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file, e);
      }
    }
    return p;
  }

  private static void writeProperties(Path file, Map<?, ?> values, String comment) throws IOException {
    StringBuilder sb = new StringBuilder("# ").append(comment).append('\n');
    for (Map.Entry<?, ?> e : new TreeMap<>(values).entrySet()) {
      sb.append(escape(e.getKey().toString())).append('=').append(escape(e.getValue().toString())).append('\n');
    }
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write(sb.toString());
    }
  }

  private static void writeProperties(Path file, Properties values, String comment) throws IOException {
    writeProperties(file, (Map<?, ?>) values, comment);
  }

  /** Escapes a value for a .properties file (backslashes, line breaks, leading spaces). */
  private static String escape(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (i == 0 && c == ' ') {
            sb.append("\\ ");
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.toString();
  }

  private static String readLog(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  /** The last lines of a log file, for error messages. */
  static String tail(Path log) {
    String text = readLog(log);
    List<String> lines = text.lines().toList();
    List<String> last = lines.subList(Math.max(0, lines.size() - 30), lines.size());
    return "Last lines of " + log + ":\n" + String.join("\n", last);
  }

  private static void closeQuietly(OutputStream out) {
    try {
      out.close();
    } catch (IOException e) {
      LOG.debug("closing the broker's stdin failed", e);
    }
  }

  /** The broker could not bind a port: with port 0, {@link #start} retries with fresh ports. */
  private static final class PortInUseException extends IllegalStateException {
    PortInUseException(String message) {
      super(message);
    }
  }
}
