package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JVM memory flags, malloc settings and workers x threads defaults derived from a checkpoint. */
class RelauncherTest {

  @Test
  void shouldSizeHeapAndDirectMemoryFromTheCheckpointUnlessGiven(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"torch_dtype\": \"bfloat16\"}");
    try (var f = new java.io.RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
      f.setLength(2_471_645_608L);                                     // the Llama-3.2-1B-shaped BF16 file, sparse
    }
    assertEquals(2 * 2_471_645_608L, Relauncher.float32WeightBytes(dir));
    // 128 MiB + 4,943,291,216 / 64 bytes = 201.7 MiB, raised to the floor of 256 MiB
    assertEquals(List.of("-Xmx256m", "-XX:MaxDirectMemorySize=1024m"),
        Relauncher.memoryFlags(dir, List.of(), 24L << 30));
    assertEquals(List.of("-XX:MaxDirectMemorySize=1024m"), Relauncher.memoryFlags(dir, List.of("-Xmx3g"), 24L << 30));
    assertEquals(List.of("-Xmx512m", "-XX:MaxDirectMemorySize=1024m"), Relauncher.memoryFlags(null, List.of(), 0));
    assertEquals(0, Relauncher.float32WeightBytes(null));
    assertEquals(dir, Relauncher.modelDir(new String[] {"bench", "--model-dir", dir.toString()}));
    assertEquals(dir, Relauncher.modelDir(new String[] {"bench", "--model-dir=" + dir}));
  }

  @Test
  void shouldGiveSmallModelsHalfAGigabyteAndLargeOnesAClampedHeap() {
    assertEquals(512L << 20, Relauncher.heapFor(0));
    assertEquals(512L << 20, Relauncher.heapFor((1L << 30) - 1));
    assertEquals(256L << 20, Relauncher.heapFor(1L << 30));                 // 128 + 16 MiB, raised to the floor
    assertEquals(640L << 20, Relauncher.heapFor(32L << 30));                // an 8B model: 128 + 512 MiB
    assertEquals(1L << 30, Relauncher.heapFor(100L << 30));
  }

  @Test
  void shouldLimitMallocArenasForLargeModelsAndKeepFreedMemoryForSmallOnes() {
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "4194304"),
        Relauncher.mallocEnv(1L << 30));
    assertEquals(Map.of("MALLOC_ARENA_MAX", "2", "MALLOC_MMAP_THRESHOLD_", "4194304"),
        Relauncher.mallocEnv(4_943_291_216L));
    assertEquals(Map.of("MALLOC_MMAP_THRESHOLD_", "268435456", "MALLOC_TRIM_THRESHOLD_", "1073741824",
        "MALLOC_TOP_PAD_", "268435456"), Relauncher.mallocEnv((1L << 30) - 1));
    assertEquals(Relauncher.MALLOC_TUNING, Relauncher.mallocEnv(0));
  }

  @Test
  void shouldDefaultToAtMostTwoWorkersSharingTheCoresForLargeModels() {
    long large = 4_943_291_216L;
    assertArrayEquals(new int[] {2, 1}, ModelOptions.workersAndThreads(null, null, large, 2));
    assertArrayEquals(new int[] {2, 8}, ModelOptions.workersAndThreads(null, null, large, 16));
    assertArrayEquals(new int[] {2, 1}, ModelOptions.workersAndThreads(null, null, large, 3));
    assertArrayEquals(new int[] {1, 1}, ModelOptions.workersAndThreads(null, null, large, 1));
    assertArrayEquals(new int[] {2, 1}, ModelOptions.workersAndThreads(2, null, large, 2));
    assertArrayEquals(new int[] {4, 2}, ModelOptions.workersAndThreads(4, null, large, 8));
    assertArrayEquals(new int[] {1, 3}, ModelOptions.workersAndThreads(null, 3, large, 2));
    assertArrayEquals(new int[] {2, 1}, ModelOptions.workersAndThreads(null, null, (1L << 30) - 1, 2));
    assertArrayEquals(new int[] {16, 1}, ModelOptions.workersAndThreads(null, null, 0, 16));
    assertArrayEquals(new int[] {3, 2}, ModelOptions.workersAndThreads(3, 2, 0, 16));
  }

  @Test
  void shouldApplyTheLargeModelDefaultsFromTheModelDirOption(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"torch_dtype\": \"bfloat16\"}");
    try (var f = new java.io.RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
      f.setLength(1L << 29);                                            // 512 MiB BF16 = 1 GiB float32, sparse
    }
    ModelOptions o = new ModelOptions();
    new picocli.CommandLine(o).parseArgs("--model-dir", dir.toString());
    int cores = Runtime.getRuntime().availableProcessors();
    assertEquals(Math.min(cores, 2), o.toSettings().workers());
    assertEquals(Math.max(1, cores / Math.min(cores, 2)), o.toSettings().threadsPerWorker());
    new picocli.CommandLine(o = new ModelOptions()).parseArgs();
    assertEquals(Runtime.getRuntime().availableProcessors(), o.toSettings().workers());
    assertEquals(1, o.toSettings().threadsPerWorker());
  }
}
