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
  private final Map<String, Long> loaded = new java.util.TreeMap<>();   // name -> CRC32C of its bytes

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

  /** A short hex digest of the headers of every file (the weights are in {@link #weightsDigest()}). */
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
    Entry e = check(name, expectedShape);
    String where = e.file() + ": tensor '" + name + "'";
    long n = e.elements();
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(where + " has " + n + " elements, more than one Java array holds");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) (e.end() - e.begin())).order(ByteOrder.LITTLE_ENDIAN);
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

  /** Elements converted per step while loading (a 16 MiB float32 staging buffer). */
  private static final int STAGE = 1 << 22;

  /**
   * Loads a tensor into {@code m} as a float32 NDArray without a Java-heap copy of the weights: the file
   * region is memory-mapped and converted to float32 a block at a time through a small direct staging buffer
   * into a tensor that libtorch owns (on the manager's device), then unmapped. Its bytes are hashed (CRC32C)
   * on the way, for {@link #weightsDigest()}. (DJL 0.36 cannot create BF16 or INT16 tensors from a buffer,
   * so the widening happens here.)
   *
   * @throws IllegalArgumentException naming the file and tensor when it is missing, of an unsupported
   *     dtype or of another shape
   */
  ai.djl.ndarray.NDArray load(ai.djl.ndarray.NDManager m, String name, long... expectedShape) {
    Entry e = check(name, expectedShape);
    if (expectedShape.length == 0) {
      throw new IllegalArgumentException(e.file() + ": tensor '" + name + "' is a scalar; weights have a shape");
    }
    ai.djl.ndarray.NDArray out = m.zeros(new ai.djl.ndarray.types.Shape(e.shape()),
        ai.djl.ndarray.types.DataType.FLOAT32);
    fill(out, 0, name, e);
    return out;
  }

  /**
   * Loads 2-D tensors of {@code cols} columns stacked along their rows into one float32 {@code [sum rows, cols]}
   * NDArray, as {@link #load} does each (the q/k/v or gate/up projections of a layer, fused): no separate copies to
   * concatenate, so loading a layer holds its fused weight once.
   *
   * @param rows the rows each named tensor must have
   */
  ai.djl.ndarray.NDArray loadRows(ai.djl.ndarray.NDManager m, long cols, String[] names, long[] rows) {
    Entry[] es = new Entry[names.length];
    long total = 0;
    for (int i = 0; i < names.length; i++) {
      es[i] = check(names[i], new long[] {rows[i], cols});
      total += rows[i];
    }
    ai.djl.ndarray.NDArray out = m.zeros(new ai.djl.ndarray.types.Shape(total, cols),
        ai.djl.ndarray.types.DataType.FLOAT32);
    long at = 0;
    for (int i = 0; i < names.length; i++) {
      fill(out, at, names[i], es[i]);
      at += rows[i];
    }
    return out;
  }

  /** Converts tensor {@code e} into rows [{@code at}, {@code at} + its rows) of {@code out}, hashing its bytes. */
  private void fill(ai.djl.ndarray.NDArray out, long at, String name, Entry e) {
    ai.djl.ndarray.NDManager m = out.getManager();
    java.nio.MappedByteBuffer map;
    try (FileChannel ch = FileChannel.open(e.file(), StandardOpenOption.READ)) {
      map = ch.map(FileChannel.MapMode.READ_ONLY, e.begin(), e.end() - e.begin());
    } catch (IOException ex) {
      throw new UncheckedIOException("Cannot read " + e.file() + ": tensor '" + name + "'", ex);
    }
    ByteBuffer stage = null;
    try {
      map.order(ByteOrder.LITTLE_ENDIAN);
      java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
      crc.update(map.duplicate());
      synchronized (loaded) {
        loaded.put(name, crc.getValue());
      }
      long n = e.elements();
      long rowLen = e.shape().length == 0 ? 1 : n / Math.max(1, e.shape()[0]);
      long rows = rowLen == 0 ? 0 : n / rowLen;
      int rowsPerStep = (int) Math.max(1, Math.min(rows, STAGE / Math.max(1, rowLen)));
      stage = ByteBuffer.allocateDirect((int) (rowsPerStep * rowLen * 4)).order(ByteOrder.nativeOrder());
      short[] half = e.dtype().equals("F32") ? null : new short[(int) (rowsPerStep * rowLen)];
      float[] full = new float[(int) (rowsPerStep * rowLen)];
      java.nio.ShortBuffer src16 = half == null ? null : map.asShortBuffer();
      java.nio.FloatBuffer src32 = half == null ? map.asFloatBuffer() : null;
      for (long r0 = 0; r0 < rows; r0 += rowsPerStep) {
        int count = (int) (Math.min(rows, r0 + rowsPerStep) - r0);
        int len = (int) (count * rowLen);
        if (half == null) {
          src32.get(full, 0, len);
        } else {
          src16.get(half, 0, len);
          boolean bf16 = e.dtype().equals("BF16");
          for (int i = 0; i < len; i++) {
            full[i] = bf16 ? Float.intBitsToFloat((half[i] & 0xffff) << 16) : halfToFloat(half[i]);
          }
        }
        stage.clear();
        stage.asFloatBuffer().put(full, 0, len);
        stage.limit(len * 4);
        long[] dims = e.shape().clone();
        if (dims.length > 0) {
          dims[0] = count;
        }
        try (ai.djl.ndarray.NDManager tmp = m.newSubManager()) {
          ai.djl.ndarray.NDArray block = tmp.create(stage, new ai.djl.ndarray.types.Shape(dims),
              ai.djl.ndarray.types.DataType.FLOAT32);
          out.set(new ai.djl.ndarray.index.NDIndex().addSliceDim(at + r0, at + r0 + count), block); // (an empty index crashes DJL 0.36)
        }
      }
    } finally {
      unmap(map);
      if (stage != null) {
        unmap(stage);
      }
    }
  }

  private static void unmap(ByteBuffer map) {
    try {
      java.lang.reflect.Field f = Class.forName("sun.misc.Unsafe").getDeclaredField("theUnsafe");
      f.setAccessible(true);
      sun.misc.Unsafe unsafe = (sun.misc.Unsafe) f.get(null);
      unsafe.invokeCleaner(map);
    } catch (ReflectiveOperationException | RuntimeException ex) {
      // left to the garbage collector
    }
  }

  /** Tensors of the checkpoint that were never read (besides RoPE's recomputable inverse frequencies). */
  java.util.List<String> unread() {
    return entries.keySet().stream().filter(n -> !loaded.containsKey(n) && !n.endsWith("rotary_emb.inv_freq"))
        .sorted().toList();
  }

  /**
   * A digest of every weight: SHA-256 over each loaded tensor's name and the CRC32C of its bytes (in name
   * order), plus the file headers; 8 hex digits. Two checkpoints that differ in any byte of any weight read
   * get different digests (up to CRC collisions).
   */
  String weightsDigest() {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(digest.getBytes(StandardCharsets.UTF_8));
      synchronized (loaded) {
        for (Map.Entry<String, Long> e : loaded.entrySet()) {
          sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
          sha.update(ByteBuffer.allocate(8).putLong(e.getValue()).array());
        }
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 4);
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }

  private Entry check(String name, long[] expectedShape) {
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
    return e;
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
