package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JVM memory flags the launcher derives from a checkpoint. */
class RelauncherTest {

  @Test
  void shouldSizeHeapAndDirectMemoryFromTheCheckpointUnlessGiven(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("config.json"), "{\"torch_dtype\": \"bfloat16\"}");
    try (var f = new java.io.RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
      f.setLength(2_471_645_608L);                                     // the Llama-3.2-1B-shaped BF16 file, sparse
    }
    assertEquals(2 * 2_471_645_608L, Relauncher.float32WeightBytes(dir));
    assertEquals(List.of("-Xmx550m", "-XX:MaxDirectMemorySize=1024m"),
        Relauncher.memoryFlags(dir, List.of(), 24L << 30));
    assertEquals(List.of("-XX:MaxDirectMemorySize=1024m"), Relauncher.memoryFlags(dir, List.of("-Xmx3g"), 24L << 30));
    assertEquals(List.of("-Xmx512m", "-XX:MaxDirectMemorySize=1024m"), Relauncher.memoryFlags(null, List.of(), 0));
    assertEquals(0, Relauncher.float32WeightBytes(null));
    assertEquals(dir, Relauncher.modelDir(new String[] {"bench", "--model-dir", dir.toString()}));
    assertEquals(dir, Relauncher.modelDir(new String[] {"bench", "--model-dir=" + dir}));
  }
}
