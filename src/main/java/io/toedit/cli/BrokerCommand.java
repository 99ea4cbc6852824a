package io.toedit.cli;

import io.toedit.local.LocalBroker;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "broker", mixinStandardHelpOptions = true,
    description = {
        "Start a local single-node KRaft development broker (a child JVM running kafka.Kafka from the "
            + "jars on this application's classpath) on 127.0.0.1, and keep it running until Ctrl-C "
            + "(or SIGTERM to this process).",
        "Not for production: one node, replication factor 1, no security."})
public final class BrokerCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--port", defaultValue = "9092",
      description = "Client port on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--data-dir", defaultValue = ".kafka",
      description = "Broker data directory, kept between runs (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--pid-file", paramLabel = "FILE",
      description = "Write the PID of this process here once the broker is ready; SIGTERM to it stops "
          + "the broker and waits for it. Deleted on exit.")
  Path pidFile;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (pidFile != null) {
      Files.deleteIfExists(pidFile); // a stale file must not look like a ready broker
    }
    try (LocalBroker broker = LocalBroker.start(dataDir, port)) {
      out.println("bootstrap.servers=" + broker.bootstrapServers());
      out.println("broker pid=" + broker.pid() + " (this process: " + ProcessHandle.current().pid() + ")");
      out.println("data dir=" + broker.dataDir() + " (log: " + broker.dataDir().resolve("broker.log") + ")");
      out.println("Press Ctrl-C to stop.");
      out.flush();
      if (pidFile != null) {
        Path parent = pidFile.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Path written = pidFile;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(written), "pid-file-cleanup"));
        Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
      }
      // Ctrl-C / SIGTERM: LocalBroker's shutdown hook stops the child before this JVM exits.
      int code = broker.waitFor();
      spec.commandLine().getErr().println("error: the broker exited by itself with code " + code
          + "; see " + broker.dataDir().resolve("broker.log"));
      return ExitCodes.FAILURE;
    } finally {
      if (pidFile != null) {
        Files.deleteIfExists(pidFile);
      }
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (java.io.IOException e) {
      System.err.println("could not delete the pid file " + file + ": " + e);
    }
  }
}
