package io.toedit.local;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Failure paths of the broker process: a taken port, and a parent killed with SIGKILL. */
class LocalBrokerProcessIT {

  @Test
  void shouldFailWithLogTailWhenRequestedPortIsTaken(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> LocalBroker.start(dir.resolve("kafka"), taken.getLocalPort()).close());
      assertTrue(e.getMessage().contains("another process uses it"), e.getMessage());
      assertTrue(e.getMessage().contains("Last lines of"), e.getMessage());
    }
  }

  @Test
  void shouldStopBrokerJvmWhenBrokerCommandIsKilledHard(@TempDir Path dir) throws Exception {
    Path pidFile = dir.resolve("broker.pid");
    Path out = dir.resolve("broker-command.out");
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    Process command = new ProcessBuilder(java, "-Xmx256m", "-cp", LocalBroker.childClasspath(),
        "io.toedit.cli.Main", "broker", "--port", "0", "--data-dir", dir.resolve("kafka").toString(),
        "--pid-file", pidFile.toString())
        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
    long brokerPid = -1;
    try {
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (!Files.exists(pidFile) && System.nanoTime() < deadline && command.isAlive()) {
        Thread.sleep(200);
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      assertTrue(Files.exists(pidFile), "the broker command did not get ready: " + text);
      Matcher m = Pattern.compile("broker pid=(\\d+)").matcher(text);
      assertTrue(m.find(), text);
      brokerPid = Long.parseLong(m.group(1));
      Optional<ProcessHandle> broker = ProcessHandle.of(brokerPid);
      assertTrue(broker.map(ProcessHandle::isAlive).orElse(false), "broker JVM runs");

      command.destroyForcibly(); // SIGKILL: no shutdown hook runs in the broker command
      command.waitFor();
      long stopDeadline = System.nanoTime() + 60_000_000_000L;
      while (broker.get().isAlive() && System.nanoTime() < stopDeadline) {
        Thread.sleep(200);
      }
      assertFalse(broker.get().isAlive(), "the broker JVM must not outlive its parent");
    } finally {
      command.destroyForcibly();
      if (brokerPid > 0) {
        ProcessHandle.of(brokerPid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }
}
