package io.toedit.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The generator against the independent Python implementation: SHA-256 of every tensor from golden.json. */
class SyntheticCheckpointTest {

  static final Path ROOT = Path.of("src/test/resources/models/synthetic");

  @ParameterizedTest
  @ValueSource(strings = {"llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"})
  void shouldWriteEveryTensorBitForBitAsTheGoldenHashes(String model, @TempDir Path tmp) throws Exception {
    ObjectMapper json = new ObjectMapper();
    JsonNode config = json.readTree(ROOT.resolve(model).resolve("config.json").toFile());
    JsonNode golden = json.readTree(ROOT.resolve(model).resolve("golden.json").toFile());
    SyntheticCheckpoint.write(config, tmp, "BF16", 1, ROOT.resolve("tokenizer-qwen3"));
    Map<String, byte[]> data = tensorBytes(tmp.resolve("model.safetensors"));
    assertEquals(golden.path("tensors").size(), data.size(), "tensor count");
    for (JsonNode t : golden.path("tensors")) {
      String name = t.path("name").asText();
      assertTrue(data.containsKey(name), "missing " + name);
      assertEquals(t.path("name").asText(),
          SyntheticCheckpoint.tensors(config).get(t.path("index").asInt()).name(), "index of " + name);
      String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data.get(name)));
      assertEquals(t.path("sha256_bf16_le").asText(), sha, name);
    }
    assertTrue(Files.size(tmp.resolve("tokenizer.json")) > 1_000_000, "tokenizer decompressed");
  }

  @ParameterizedTest
  @ValueSource(strings = {"qwen3-tiny"})
  void shouldWriteTheSameNumbersAsF32AndInShards(String model, @TempDir Path tmp) throws Exception {
    JsonNode config = new ObjectMapper().readTree(ROOT.resolve(model).resolve("config.json").toFile());
    SyntheticCheckpoint.write(config, tmp.resolve("bf16"), "BF16", 1, null);
    SyntheticCheckpoint.write(config, tmp.resolve("f32"), "F32", 3, null);
    Map<String, byte[]> bf16 = tensorBytes(tmp.resolve("bf16/model.safetensors"));
    Map<String, byte[]> f32 = new HashMap<>();
    for (int s = 1; s <= 3; s++) {
      f32.putAll(tensorBytes(tmp.resolve("f32/model-0000" + s + "-of-00003.safetensors")));
    }
    JsonNode index = new ObjectMapper().readTree(tmp.resolve("f32/model.safetensors.index.json").toFile());
    assertEquals(bf16.size(), index.path("weight_map").size());
    assertEquals(bf16.keySet(), f32.keySet());
    for (String name : bf16.keySet()) {
      ByteBuffer a = ByteBuffer.wrap(bf16.get(name)).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer b = ByteBuffer.wrap(f32.get(name)).order(ByteOrder.LITTLE_ENDIAN);
      assertEquals(a.capacity() * 2, b.capacity(), name);
      while (a.hasRemaining()) {
        assertEquals((a.getShort() & 0xffff) << 16, b.getInt(), name);
      }
    }
  }

  /** Raw bytes of every tensor of a safetensors file (an independent reader: header JSON + offsets). */
  static Map<String, byte[]> tensorBytes(Path file) throws Exception {
    byte[] all = Files.readAllBytes(file);
    ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
    int n = (int) b.getLong();
    JsonNode header = new ObjectMapper().readTree(new String(all, 8, n, java.nio.charset.StandardCharsets.UTF_8));
    Map<String, byte[]> out = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
      var e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      long begin = e.getValue().path("data_offsets").get(0).asLong();
      long end = e.getValue().path("data_offsets").get(1).asLong();
      out.put(e.getKey(), java.util.Arrays.copyOfRange(all, (int) (8 + n + begin), (int) (8 + n + end)));
    }
    return out;
  }
}
