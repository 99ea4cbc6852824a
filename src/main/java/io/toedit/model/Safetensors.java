package io.toedit.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads tensors from a Hugging Face checkpoint: {@code model.safetensors}, or the shards listed by
 * {@code model.safetensors.index.json}. Format: 8-byte little-endian header length, a JSON header
 * {@code name -> {dtype, shape, data_offsets}}, then raw little-endian data. F32, BF16 and F16 are
 * widened to float.
 */
final class Safetensors {

  static final String SINGLE = "model.safetensors";
  static final String INDEX = "model.safetensors.index.json";

  /** One tensor's location. */
  record Entry(Path file, String dtype, long[] shape, long begin, long end) {
    long elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private final Map<String, Entry> entries;
  private final String digest;

  private Safetensors(Map<String, Entry> entries, String digest) {
    this.entries = entries;
    this.digest = digest;
  }

  /** Opens the checkpoint of a model folder (single file preferred, else the sharded index). */
  static Safetensors open(Path dir) {
    Path single = dir.resolve(SINGLE);
    Path index = dir.resolve(INDEX);
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      Map<String, Entry> entries = new LinkedHashMap<>();
      if (Files.isRegularFile(single)) {
        readHeader(single, entries, sha);
      } else if (Files.isRegularFile(index)) {
        JsonNode map = new ObjectMapper().readTree(index.toFile()).get("weight_map");
        if (map == null || !map.isObject()) {
          throw new IllegalArgumentException(index + ": field 'weight_map' is missing or not an object");
        }
        Set<String> shards = new TreeSet<>();
        map.fields().forEachRemaining(e -> shards.add(e.getValue().asText()));
        for (String shard : shards) {
          Path file = dir.resolve(shard);
          if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(index + ": shard '" + shard + "' listed in 'weight_map' is missing: "
                + file);
          }
          readHeader(file, entries, sha);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext();) {
          Map.Entry<String, JsonNode> e = it.next();
          Entry got = entries.get(e.getKey());
          if (got == null || !got.file().getFileName().toString().equals(e.getValue().asText())) {
            throw new IllegalArgumentException(index + ": 'weight_map' puts '" + e.getKey() + "' in "
                + e.getValue().asText() + " but that shard does not hold it");
          }
        }
      } else {
        throw new IllegalArgumentException("Missing weights: neither " + single + " nor " + index + " exists");
      }
      return new Safetensors(entries, HexFormat.of().formatHex(sha.digest(), 0, 4));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the weights in " + dir, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void readHeader(Path file, Map<String, Entry> out, MessageDigest sha) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, len, 0, file);
      long headerLen = len.flip().getLong();
      if (headerLen <= 0 || headerLen > Math.min(size - 8, 100_000_000L)) {
        throw new IllegalArgumentException(file + ": header length " + headerLen
            + " is impossible for a " + size + "-byte file (not a safetensors file?)");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8, file);
      byte[] headerBytes = hb.array();
      sha.update(headerBytes);
      JsonNode header = new ObjectMapper().readTree(new String(headerBytes, StandardCharsets.UTF_8));
      long dataStart = 8 + headerLen;
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        JsonNode t = e.getValue();
        String where = file + ": tensor '" + e.getKey() + "'";
        String dtype = t.path("dtype").asText("");
        long[] shape = new long[t.path("shape").size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = t.path("shape").get(i).asLong();
        }
        JsonNode off = t.path("data_offsets");
        if (off.size() != 2) {
          throw new IllegalArgumentException(where + " field 'data_offsets' must hold two numbers");
        }
        Entry entry = new Entry(file, dtype, shape, dataStart + off.get(0).asLong(), dataStart + off.get(1).asLong());
        if (entry.end() > size || entry.begin() > entry.end()) {
          throw new IllegalArgumentException(where + " field 'data_offsets' " + off + " lies outside the file");
        }
        out.put(e.getKey(), entry);
      }
      // the digest covers headers plus a sample of the data, so it is cheap for multi-GB checkpoints
      ByteBuffer sample = ByteBuffer.allocate((int) Math.min(1 << 20, size - dataStart));
      readFully(ch, sample, dataStart, file);
      sha.update(sample.array());
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        throw new IllegalArgumentException(file + ": truncated (wanted " + buf.capacity() + " bytes at " + pos + ")");
      }
    }
  }

  boolean has(String name) {
    return entries.containsKey(name);
  }

  /** The stored shape of a tensor, or {@code null} when absent. */
  long[] shape(String name) {
    Entry e = entries.get(name);
    return e == null ? null : e.shape().clone();
  }

  Set<String> names() {
    return entries.keySet();
  }

  /** A short hex digest of the headers and the start of the data of every file. */
  String digest() {
    return digest;
  }

  /**
   * Reads a tensor as floats after checking its shape.
   *
   * @throws IllegalArgumentException naming the file and tensor when it is missing, of an unsupported
   *     dtype or of another shape
   */
  float[] read(String name, long... expectedShape) {
    Entry e = entries.get(name);
    if (e == null) {
      throw new IllegalArgumentException("Tensor '" + name + "' is missing from the checkpoint (files: "
          + entries.values().stream().map(x -> x.file().getFileName().toString()).distinct().toList() + ")");
    }
    String where = e.file() + ": tensor '" + name + "'";
    if (!Arrays.equals(e.shape(), expectedShape)) {
      throw new IllegalArgumentException(where + " field 'shape' is " + Arrays.toString(e.shape())
          + " but config.json implies " + Arrays.toString(expectedShape));
    }
    int width = switch (e.dtype()) {
      case "F32" -> 4;
      case "BF16", "F16" -> 2;
      default -> throw new IllegalArgumentException(where + " field 'dtype' is '" + e.dtype()
          + "': only F32, BF16 and F16 are supported");
    };
    long n = e.elements();
    if (n * width != e.end() - e.begin()) {
      throw new IllegalArgumentException(where + " field 'data_offsets' spans " + (e.end() - e.begin())
          + " bytes, but shape and dtype need " + n * width);
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(where + " has " + n + " elements, more than one Java array holds");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) (n * width)).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(e.file(), StandardOpenOption.READ)) {
      readFully(ch, buf, e.begin(), e.file());
    } catch (IOException ex) {
      throw new UncheckedIOException("Cannot read " + where, ex);
    }
    buf.flip();
    float[] out = new float[(int) n];
    switch (e.dtype()) {
      case "F32" -> buf.asFloatBuffer().get(out);
      case "BF16" -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
        }
      }
      default -> {
        for (int i = 0; i < out.length; i++) {
          out[i] = halfToFloat(buf.getShort());
        }
      }
    }
    return out;
  }

  /** IEEE 754 binary16 to float (Java 17 has no {@code Float.float16ToFloat}). */
  static float halfToFloat(short h) {
    int bits = h & 0xffff;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1f;
    int mant = bits & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f; // subnormal (or zero)
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }
}
