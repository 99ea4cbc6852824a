package io.toedit.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/** Writes modified copies of the stories260k checkpoint for loader tests. */
final class TestCheckpoints {

  static final Path MODEL = Path.of("src/main/resources/models/stories260k");

  /** A tensor to write: float values stored as {@code dtype} (F32, BF16, F16) or raw bytes. */
  record Tensor(String dtype, long[] shape, byte[] data) {
  }

  private TestCheckpoints() {
  }

  /** All tensors of the bundled model as F32, in file order. */
  static Map<String, float[]> floats() {
    Safetensors st = Safetensors.open(MODEL);
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String name : st.names()) {
      out.put(name, st.read(name, shape(st, name)));
    }
    return out;
  }

  static long[] shape(Safetensors st, String name) {
    return st.shape(name);
  }

  static Map<String, long[]> shapes() {
    Safetensors st = Safetensors.open(MODEL);
    Map<String, long[]> out = new LinkedHashMap<>();
    for (String name : st.names()) {
      out.put(name, shape(st, name));
    }
    return out;
  }

  /** A model folder: the bundled side files, with config.json optionally edited. */
  static Path folder(Path dir, UnaryOperator<ObjectNode> config) throws IOException {
    Files.createDirectories(dir);
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")) {
      Files.copy(MODEL.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = (ObjectNode) json.readTree(MODEL.resolve("config.json").toFile());
    json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), config.apply(c));
    return dir;
  }

  static Tensor encode(float[] v, long[] shape, String dtype) {
    ByteBuffer b = ByteBuffer.allocate(v.length * (dtype.equals("F32") ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      switch (dtype) {
        case "F32" -> b.putFloat(x);
        case "BF16" -> b.putShort(toBf16(x));
        case "F16" -> b.putShort(toF16(x));
        default -> throw new IllegalArgumentException(dtype);
      }
    }
    return new Tensor(dtype, shape, b.array());
  }

  /** Round to nearest even bf16 (the top 16 bits of a float). */
  static short toBf16(float x) {
    int bits = Float.floatToRawIntBits(x);
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** Round to nearest fp16 (normal and subnormal range, no overflow in these weights). */
  static short toF16(float x) {
    int bits = Float.floatToRawIntBits(x);
    int sign = (bits >>> 16) & 0x8000;
    float a = Math.abs(x);
    if (a < 0x1p-14f) { // subnormal: multiples of 2^-24
      return (short) (sign | Math.round(a * 0x1p24f));
    }
    int exp = Math.getExponent(a);
    if (exp > 15) {
      throw new IllegalArgumentException("value " + x + " overflows f16");
    }
    int mant = Math.round(a / (float) Math.pow(2, exp - 10)) - 1024; // 10-bit mantissa, nearest
    if (mant == 1024) {
      mant = 0;
      exp++;
    }
    return (short) (sign | ((exp + 15) << 10) | mant);
  }

  static void write(Path file, Map<String, Tensor> tensors) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", e.getValue().dtype());
      var shape = t.putArray("shape");
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + e.getValue().data().length);
      offset += e.getValue().data().length;
    }
    byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
      out.write(h);
      for (Tensor t : tensors.values()) {
        out.write(t.data());
      }
    }
  }

  /** Every tensor of the bundled model converted by {@code values} and stored as {@code dtype}. */
  static Map<String, Tensor> converted(String dtype, UnaryOperator<float[]> values) {
    Map<String, long[]> shapes = shapes();
    Map<String, Tensor> out = new LinkedHashMap<>();
    floats().forEach((name, v) -> out.put(name, encode(values.apply(v), shapes.get(name), dtype)));
    return out;
  }
}
