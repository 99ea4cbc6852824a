package io.toedit.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline's {@code run} command in a child JVM, started from this test JVM's classpath (which
 * holds the application classes and every dependency), with its output appended to a log file.
 */
final class PipelineProcess implements AutoCloseable {

  private final Process process;
  private final Path log;

  private PipelineProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code java ... io.toedit.cli.Main run --bootstrap-servers B -X k=v ...}.
   *
   * @param properties every {@code -X} property (application id, state dir, topics, ...)
   */
  static PipelineProcess start(String bootstrap, Map<String, String> properties, Path log) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    cmd.add("--add-modules=jdk.incubator.foreign,jdk.incubator.vector");
    cmd.addAll(io.toedit.model.AttentionKernel.JIT_FLAGS);
    cmd.add("-Dai.djl.offline=true");
    cmd.add("-Dai.djl.default_engine=PyTorch");
    cmd.add("-Dai.djl.pytorch.num_threads=1");
    cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.toedit.cli.Main");
    cmd.add("run");
    cmd.add("--bootstrap-servers");
    cmd.add(bootstrap);
    cmd.add("--workers");
    cmd.add("1");
    cmd.add("--progress-interval-s");
    cmd.add("2");
    cmd.add("--http-port");
    cmd.add("0");
    properties.forEach((k, v) -> {
      cmd.add("-X");
      cmd.add(k + "=" + v);
    });
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    if (System.getenv("DJL_CACHE_DIR") == null) {
      pb.environment().put("DJL_CACHE_DIR", Paths.get("target", "djl-cache").toAbsolutePath().toString());
    }
    try {
      Files.writeString(log, "\n=== start " + String.join(" ", cmd.subList(cmd.indexOf("run"), cmd.size())) + "\n",
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      return new PipelineProcess(pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the pipeline process", e);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL, like a crashed machine: no shutdown hook, no commit of the open transaction. */
  void kill9() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("pid " + process.pid() + " survived SIGKILL for 30 s");
    }
  }

  /** The last {@code chars} characters of the log, for failure messages. */
  String logTail(int chars) {
    try {
      String s = Files.readString(log, StandardCharsets.UTF_8);
      return s.substring(Math.max(0, s.length() - chars));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** SIGTERM (clean shutdown) and its exit status; SIGKILL (and -1) if it takes more than 60 s. */
  int stop() throws InterruptedException {
    process.destroy();
    if (process.waitFor(60, TimeUnit.SECONDS)) {
      return process.exitValue();
    }
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    return -1;
  }

  /** SIGTERM (clean shutdown), then SIGKILL if it takes more than 60 s. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    try {
      stop();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
