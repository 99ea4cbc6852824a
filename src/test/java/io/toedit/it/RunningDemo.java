package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import io.toedit.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@code toedit demo} running in this JVM with its dashboard, {@code /metrics} and {@code /api} on
 * a free port of 127.0.0.1, kept up after its summary ({@code --linger-s}) until {@link #close}.
 */
final class RunningDemo implements AutoCloseable {

  private final int port;
  private final StringWriter out = new StringWriter();
  private final AtomicInteger exit = new AtomicInteger(-1);
  private final Thread thread;

  private RunningDemo(int port) {
    this.port = port;
    this.thread = new Thread(() -> exit.set(Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(out, true))
        .execute("demo", "--http-port", Integer.toString(port), "--linger-s", "600")), "demo");
  }

  static RunningDemo start() throws IOException {
    RunningDemo demo = new RunningDemo(freePort());
    demo.thread.start();
    return demo;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  int port() {
    return port;
  }

  String output() {
    return out.toString();
  }

  /** Waits until the demo printed its summary (every record and closed window read back). */
  void awaitSummary(long timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < deadline) {
      if (output().contains("Drift alerts (")) {
        return;
      }
      if (!thread.isAlive()) {
        fail("demo stopped early (exit " + exit.get() + "):\n" + output());
      }
      Thread.sleep(500);
    }
    fail("demo printed no summary within " + timeoutSeconds + " s:\n" + output());
  }

  @Override
  public void close() throws InterruptedException {
    thread.interrupt();
    thread.join(TimeUnit.SECONDS.toMillis(120));
    assertFalse(thread.isAlive(), "demo did not stop:\n" + output());
  }
}
