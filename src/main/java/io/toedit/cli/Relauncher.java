package io.toedit.cli;

import io.toedit.model.AttentionKernel;
import io.toedit.model.Models;
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

  /** {@link Models#LARGE_MODEL_BYTES}: from there a checkpoint gets {@link #LARGE_MODEL_MALLOC} and a heap from {@link #heapFor}. */
  static final long LARGE_MODEL_BYTES = Models.LARGE_MODEL_BYTES;

  /**
   * glibc malloc settings for a large checkpoint (each when not already set): at most two malloc arenas, so freed
   * pass temporaries of one thread are reused by the next instead of piling up in per-thread arenas; and a
   * fixed mmap threshold of 4 MiB, so every pass temporary of 4 MiB or more (a layer's activations, the MLP and
   * head chunks) is its own mapping, returned to the system when freed. glibc's default threshold is dynamic: it
   * rises to 32 MiB after the first large block is freed, and from then on those temporaries come from the
   * arenas, which fragment and keep the pages (the RSS creep of the first passes). Measured on 2 vCPUs at the
   * Llama-3.2-1B shape, two 1,000-token passes: peak RSS 6.56 GB without the threshold, 5.86 GB with 4 MiB and
   * 5.84 GB with 1 MiB, 44 / 42 / 41 scored tokens per CPU-second (docs/performance.md).
   */
  static final java.util.Map<String, String> LARGE_MODEL_MALLOC = java.util.Map.of("MALLOC_ARENA_MAX", "2",
      "MALLOC_MMAP_THRESHOLD_", String.valueOf(4 << 20));

  /** The malloc environment the child gets (each variable only when not already set) for these weights. */
  static java.util.Map<String, String> mallocEnv(long f32Bytes) {
    return f32Bytes < LARGE_MODEL_BYTES ? MALLOC_TUNING : LARGE_MODEL_MALLOC;
  }

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
    List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
    cmd.addAll(memoryFlags(modelDir(args), jvmArgs, physicalMemory()));
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Main.class.getName());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
    pb.environment().put(PARENT_ENV, Long.toString(ProcessHandle.current().pid()));
    mallocEnv(float32WeightBytes(modelDir(args))).forEach(pb.environment()::putIfAbsent);
    Process child = pb.start();
    // a signal to this launcher goes to the child, and the launcher then exits with the child's status (0 for
    // run's clean stop), not the JVM's 143 for a signal-initiated shutdown
    Thread forward = new Thread(() -> {
      if (child.isAlive()) {
        child.destroy();
        try {
          Runtime.getRuntime().halt(child.waitFor());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, "toedit-relaunch-forward");
    Runtime.getRuntime().addShutdownHook(forward);
    return child.waitFor();
  }

  /**
   * Java heap for a checkpoint of {@code f32Bytes} weights (as float32): 512 MiB below {@link #LARGE_MODEL_BYTES};
   * above, clamp(128 MiB + weights / 64, 256 MiB, 1 GiB) (256 MiB at the 1B shape). The weights live in libtorch's
   * memory; the heap holds a pass's host copies (attention inputs and outputs of one layer, the top-k results) and
   * the loader's conversion blocks, and a larger limit only lets garbage stay resident: at the 1B shape (1 worker x
   * 2 threads, single runs) peak RSS was 6.46 GB with {@code -Xmx329m} and 6.42 GB with {@code -Xmx256m}, at the
   * same speed.
   */
  static long heapFor(long f32Bytes) {
    if (f32Bytes < LARGE_MODEL_BYTES) {
      return 512L << 20;
    }
    return Math.max(256L << 20, Math.min(1L << 30, (128L << 20) + f32Bytes / 64));
  }

  /**
   * JVM memory flags for the child, each only when the user gave none: {@code -Xmx} from the checkpoint's size
   * ({@link #heapFor}: the weights themselves live in libtorch's memory, not in the Java heap, so the default
   * heap of a quarter of the machine only invites garbage to pile up), and {@code -XX:MaxDirectMemorySize}
   * for the staging buffer of the loader and DJL's copies of host arrays. Warns when the float32 weights plus
   * those limits exceed 90 % of the machine's memory.
   */
  static List<String> memoryFlags(Path modelDir, List<String> jvmArgs, long machineBytes) {
    long f32 = modelDir == null ? 0 : float32WeightBytes(modelDir);
    List<String> out = new ArrayList<>();
    long heap = heapFor(f32);
    long direct = 1L << 30;
    if (jvmArgs.stream().noneMatch(a -> a.startsWith("-Xmx") || a.startsWith("-XX:MaxHeapSize"))) {
      out.add("-Xmx" + (heap >> 20) + "m");
    }
    if (jvmArgs.stream().noneMatch(a -> a.startsWith("-XX:MaxDirectMemorySize"))) {
      out.add("-XX:MaxDirectMemorySize=" + (direct >> 20) + "m");
    }
    if (machineBytes > 0 && f32 + heap + direct > machineBytes * 9 / 10) {
      System.err.printf(java.util.Locale.ROOT, "warning: %s needs about %.1f GB (float32 weights %.1f GB + heap + "
          + "direct memory); this machine has %.1f GB%n", modelDir, (f32 + heap + direct) / 1e9, f32 / 1e9,
          machineBytes / 1e9);
    }
    return out;
  }

  /** The {@code --model-dir} argument, if any. */
  static Path modelDir(String[] args) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--model-dir") && i + 1 < args.length) {
        return Path.of(args[i + 1]);
      }
      if (args[i].startsWith("--model-dir=")) {
        return Path.of(args[i].substring("--model-dir=".length()));
      }
    }
    return null;
  }

  /** {@link Models#float32WeightBytes}. */
  static long float32WeightBytes(Path dir) {
    return Models.float32WeightBytes(dir);
  }

  private static long physicalMemory() {
    return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getTotalMemorySize() : 0;
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
