package io.toedit.cli;

import io.toedit.model.AttentionKernel;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Makes {@code java -jar toedit-streams.jar} work on Java 17 without extra flags.
 *
 * <p>DataSketches 7 (the last line for Java 17) reads and writes sketches through
 * datasketches-memory 4, which is built on Java 17's incubating foreign-memory API and needs
 * {@code --add-modules=jdk.incubator.foreign}. A jar manifest cannot add a module, so when the
 * module is missing the launcher starts the same command once more in a child JVM with the flag
 * (and the same JVM options and class path), forwards termination to it and exits with its code. The
 * child also gets {@code jdk.incubator.vector} and the JIT hints of the CPU attention kernel
 * ({@link AttentionKernel#JIT_FLAGS}); without the module scoring on a CPU falls back to the slower NDArray
 * attention.
 * The child stops by itself if this parent dies (even by {@code kill -9}), halting as abruptly as
 * the parent did so crash semantics are preserved.
 */
final class Relauncher {

  static final List<String> MODULES = List.of("jdk.incubator.foreign", AttentionKernel.VECTOR_MODULE);
  static final String PARENT_ENV = "TOEDIT_LAUNCHER_PID";

  /**
   * glibc malloc settings for the child (each only when not already set): keep freed memory in the heap
   * instead of returning it with munmap/trim, so the forward pass's multi-megabyte temporaries are not
   * page-faulted in afresh on every operation. Measured on 2 vCPUs: attention chunks of 1 Mi scores
   * took 2x less CPU per forward pass with these than without.
   */
  static final java.util.Map<String, String> MALLOC_TUNING = java.util.Map.of(
      "MALLOC_MMAP_THRESHOLD_", Integer.toString(256 << 20),
      "MALLOC_TRIM_THRESHOLD_", Integer.toString(1 << 30),
      "MALLOC_TOP_PAD_", Integer.toString(256 << 20));

  private Relauncher() {
  }

  static boolean moduleMissing() {
    return MODULES.stream().anyMatch(m -> ModuleLayer.boot().findModule(m).isEmpty());
  }

  /** Runs {@code args} in a child JVM with the module added; returns the child's exit code. */
  static int relaunch(String[] args) throws Exception {
    String java = ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.add("--add-modules=" + String.join(",", MODULES));
    cmd.addAll(AttentionKernel.JIT_FLAGS);
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().put(PARENT_ENV, Long.toString(ProcessHandle.current().pid()));
    MALLOC_TUNING.forEach(pb.environment()::putIfAbsent);
    Process child = pb.start();
    Thread forward = new Thread(() -> {
      if (child.isAlive()) {
        child.destroy();
        try {
          child.waitFor();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, "toedit-relaunch-forward");
    Runtime.getRuntime().addShutdownHook(forward);
    return child.waitFor();
  }

  /** In the child: halt when the launcher that started us is gone. */
  static void watchParent() {
    String pid = System.getenv(PARENT_ENV);
    if (pid == null || pid.isBlank()) {
      return;
    }
    Optional<ProcessHandle> parent = ProcessHandle.of(Long.parseLong(pid.trim()));
    if (parent.isEmpty()) {
      Runtime.getRuntime().halt(137);
    }
    parent.get().onExit().thenRun(() -> Runtime.getRuntime().halt(137));
  }
}
