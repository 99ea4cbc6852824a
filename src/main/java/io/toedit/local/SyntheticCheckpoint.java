package io.toedit.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import java.util.zip.GZIPInputStream;

/**
 * Writes a Hugging Face checkpoint whose weights follow the synthetic weight spec v1
 * ({@code src/test/resources/models/synthetic/SPEC.md}): every weight is a function of (seed, tensor index,
 * element index) through SplitMix64, rounded to BF16. Any language regenerates the same bits, so real-shaped
 * models (Qwen2/3, Mistral, Llama 3, up to 1B parameters and beyond) can be tested and benchmarked without
 * shipping weights.
 *
 * <p>Output: {@code config.json} (as given), {@code model.safetensors} (BF16 or F32; or shards with
 * {@code model.safetensors.index.json}), and the tokenizer files of a tokenizer folder
 * ({@code tokenizer.json} or {@code tokenizer.json.gz}, {@code tokenizer_config.json}). Tensors are generated
 * and written a block at a time, so memory stays small for any size.
 */
public final class SyntheticCheckpoint {

  /** One tensor of the spec: its index t, name and stored shape. */
  public record TensorSpec(int index, String name, int[] shape) {
    public long elements() {
      long n = 1;
      for (int d : shape) {
        n *= d;
      }
      return n;
    }
  }

  private static final int BLOCK = 1 << 20;

  private SyntheticCheckpoint() {
  }

  static long splitmix64(long state) {
    long z = state + 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Element i of tensor t, in [-1, 1), exact in float. */
  static float uniform(long seed, int t, long i) {
    long u = splitmix64(seed * 0x100000001B3L + ((long) t << 32) + i);
    return (int) ((u >>> 40) - (1 << 23)) * 0x1p-23f;
  }

  /** Round to nearest BF16, ties to even (the spec's rule). */
  static short bf16(float v) {
    int b = Float.floatToRawIntBits(v);
    return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
  }

  /** The spec's {offset, scale} of a tensor, as floats. */
  static float[] offsetScale(String name, int[] shape) {
    double off = 0;
    double sc;
    String kind = name.replaceAll("^.*\\.([a-z_]+)\\.(weight|bias)$", "$1");
    if (name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")) {
      sc = 1;
    } else if (name.equals("model.norm.weight")) {
      off = 32 / Math.sqrt(shape[0]);
      sc = 8 / Math.sqrt(shape[0]);
    } else if (kind.endsWith("layernorm")) {
      off = 1;
      sc = 0.125;
    } else if (kind.equals("q_norm") || kind.equals("k_norm")) {
      off = 1;
      sc = 0.25;
    } else if (name.endsWith(".bias")) {
      sc = 0.5;
    } else {
      sc = switch (kind) {
        case "q_proj", "k_proj", "v_proj" -> 1.5;
        case "o_proj" -> 3;
        case "gate_proj", "up_proj" -> 1;
        case "down_proj" -> 4;
        default -> throw new IllegalArgumentException("synthetic spec v1 has no rule for tensor '" + name + "'");
      } / Math.sqrt(shape[1]);
    }
    return new float[] {(float) off, (float) sc};
  }

  /** The stored value (as BF16 bits) of element i of tensor t. */
  static short weight(long seed, int t, long i, float off, float sc) {
    float x = uniform(seed, t, i);
    float prod = sc * x;                 // one multiply, then one add: no FMA
    return bf16(off + prod);
  }

  /** The tensors of a config, sorted by name ({@link String#compareTo}), with their index t. */
  public static List<TensorSpec> tensors(JsonNode c) {
    int h = c.path("hidden_size").asInt();
    int inter = c.path("intermediate_size").asInt();
    int nh = c.path("num_attention_heads").asInt();
    int nkv = c.hasNonNull("num_key_value_heads") ? c.path("num_key_value_heads").asInt() : nh;
    int hd = c.hasNonNull("head_dim") ? c.path("head_dim").asInt() : h / nh;
    int v = c.path("vocab_size").asInt();
    int layers = c.path("num_hidden_layers").asInt();
    String type = c.path("model_type").asText("");
    boolean attnBias = c.path("attention_bias").asBoolean(false);
    boolean qkvBias = type.equals("qwen2") || attnBias;
    boolean oBias = attnBias && !type.equals("qwen2");
    boolean mlpBias = c.path("mlp_bias").asBoolean(false);
    List<Object[]> named = new ArrayList<>();
    named.add(new Object[] {"model.embed_tokens.weight", new int[] {v, h}});
    if (!c.path("tie_word_embeddings").asBoolean(false)) {
      named.add(new Object[] {"lm_head.weight", new int[] {v, h}});
    }
    named.add(new Object[] {"model.norm.weight", new int[] {h}});
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      named.add(new Object[] {p + "input_layernorm.weight", new int[] {h}});
      named.add(new Object[] {p + "post_attention_layernorm.weight", new int[] {h}});
      named.add(new Object[] {p + "self_attn.q_proj.weight", new int[] {nh * hd, h}});
      named.add(new Object[] {p + "self_attn.k_proj.weight", new int[] {nkv * hd, h}});
      named.add(new Object[] {p + "self_attn.v_proj.weight", new int[] {nkv * hd, h}});
      named.add(new Object[] {p + "self_attn.o_proj.weight", new int[] {h, nh * hd}});
      named.add(new Object[] {p + "mlp.gate_proj.weight", new int[] {inter, h}});
      named.add(new Object[] {p + "mlp.up_proj.weight", new int[] {inter, h}});
      named.add(new Object[] {p + "mlp.down_proj.weight", new int[] {h, inter}});
      if (qkvBias) {
        named.add(new Object[] {p + "self_attn.q_proj.bias", new int[] {nh * hd}});
        named.add(new Object[] {p + "self_attn.k_proj.bias", new int[] {nkv * hd}});
        named.add(new Object[] {p + "self_attn.v_proj.bias", new int[] {nkv * hd}});
      }
      if (oBias) {
        named.add(new Object[] {p + "self_attn.o_proj.bias", new int[] {h}});
      }
      if (mlpBias) {
        named.add(new Object[] {p + "mlp.gate_proj.bias", new int[] {inter}});
        named.add(new Object[] {p + "mlp.up_proj.bias", new int[] {inter}});
        named.add(new Object[] {p + "mlp.down_proj.bias", new int[] {h}});
      }
      if (type.equals("qwen3")) {
        named.add(new Object[] {p + "self_attn.q_norm.weight", new int[] {hd}});
        named.add(new Object[] {p + "self_attn.k_norm.weight", new int[] {hd}});
      }
    }
    named.sort((a, b) -> ((String) a[0]).compareTo((String) b[0]));
    List<TensorSpec> out = new ArrayList<>();
    for (int t = 0; t < named.size(); t++) {
      out.add(new TensorSpec(t, (String) named.get(t)[0], (int[]) named.get(t)[1]));
    }
    return out;
  }

  /** The seed of {@code config.json}'s {@code synthetic_weights.seed}. */
  public static long seed(JsonNode c) {
    JsonNode s = c.path("synthetic_weights").path("seed");
    if (!s.isIntegralNumber()) {
      throw new IllegalArgumentException("config.json field 'synthetic_weights.seed' is missing or not an integer");
    }
    return s.asLong();
  }

  /**
   * Writes the checkpoint folder.
   *
   * @param config the Hugging Face config, with {@code synthetic_weights.seed}
   * @param dtype {@code BF16} or {@code F32} (both hold the same numbers)
   * @param shards number of safetensors files (1 writes {@code model.safetensors}, more an index too)
   * @param tokenizerDir a folder with {@code tokenizer.json[.gz]} (and optionally {@code tokenizer_config.json})
   *     to copy, or {@code null}
   */
  public static void write(JsonNode config, Path out, String dtype, int shards, Path tokenizerDir) throws IOException {
    String dt = dtype.toUpperCase(Locale.ROOT);
    if (!dt.equals("BF16") && !dt.equals("F32")) {
      throw new IllegalArgumentException("dtype must be BF16 or F32, got '" + dtype + "'");
    }
    long seed = seed(config);
    List<TensorSpec> all = tensors(config);
    if (shards < 1 || shards > all.size()) {
      throw new IllegalArgumentException("shards must be in [1, " + all.size() + "], got " + shards);
    }
    Files.createDirectories(out);
    ObjectMapper json = new ObjectMapper();
    json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("config.json").toFile(), config);
    int width = dt.equals("BF16") ? 2 : 4;
    if (shards == 1) {
      writeFile(out.resolve("model.safetensors"), all, seed, width, dt);
    } else {
      ObjectNode index = json.createObjectNode();
      long total = 0;
      for (TensorSpec t : all) {
        total += t.elements() * width;
      }
      index.putObject("metadata").put("total_size", total);
      ObjectNode map = index.putObject("weight_map");
      for (int s = 0; s < shards; s++) {
        List<TensorSpec> part = all.subList(s * all.size() / shards, (s + 1) * all.size() / shards);
        String file = String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", s + 1, shards);
        writeFile(out.resolve(file), part, seed, width, dt);
        part.forEach(t -> map.put(t.name(), file));
      }
      json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("model.safetensors.index.json").toFile(), index);
    }
    if (tokenizerDir != null) {
      copyTokenizer(tokenizerDir, out);
    }
  }

  private static void writeFile(Path file, List<TensorSpec> tensors, long seed, int width, String dtype)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    header.putObject("__metadata__").put("format", "pt");
    long offset = 0;
    for (TensorSpec t : tensors) {
      ObjectNode e = header.putObject(t.name());
      e.put("dtype", dtype);
      var shape = e.putArray("shape");
      for (int d : t.shape()) {
        shape.add(d);
      }
      long bytes = t.elements() * width;
      e.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;                               // data starts 8-byte aligned
    byte[] hp = new byte[padded];
    java.util.Arrays.fill(hp, (byte) ' ');
    System.arraycopy(h, 0, hp, 0, h.length);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      writeAll(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).flip());
      writeAll(ch, ByteBuffer.wrap(hp));
      ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK * width).order(ByteOrder.LITTLE_ENDIAN);
      for (TensorSpec t : tensors) {
        float[] os = offsetScale(t.name(), t.shape());
        long n = t.elements();
        for (long i0 = 0; i0 < n; i0 += BLOCK) {
          int len = (int) Math.min(BLOCK, n - i0);
          short[] block = new short[len];
          long start = i0;
          IntStream.range(0, len).parallel().forEach(i -> block[i] = weight(seed, t.index(), start + i, os[0], os[1]));
          buf.clear();
          for (short w : block) {
            if (width == 2) {
              buf.putShort(w);
            } else {
              buf.putFloat(Float.intBitsToFloat((w & 0xffff) << 16));
            }
          }
          writeAll(ch, buf.flip());
        }
      }
    }
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** Copies {@code tokenizer.json} (or decompresses {@code tokenizer.json.gz}) and {@code tokenizer_config.json}. */
  static void copyTokenizer(Path from, Path to) throws IOException {
    Path plain = from.resolve("tokenizer.json");
    Path gz = from.resolve("tokenizer.json.gz");
    if (Files.isRegularFile(plain)) {
      Files.copy(plain, to.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
    } else if (Files.isRegularFile(gz)) {
      try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
        Files.copy(in, to.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
      }
    } else {
      throw new IllegalArgumentException("tokenizer folder " + from + " has neither tokenizer.json nor tokenizer.json.gz");
    }
    for (String f : List.of("tokenizer_config.json", "special_tokens_map.json")) {
      if (Files.isRegularFile(from.resolve(f))) {
        Files.copy(from.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /**
   * A Llama-3.2-1B-shaped config (hidden 2048, 16 layers, 32/8 heads, MLP 8192, vocabulary 128,256, tied,
   * RoPE llama3, BF16): 1.24 B parameters, 2.47 GB as BF16. For benchmarks; never commit the weights.
   */
  public static ObjectNode llama1bConfig(long seed, int vocab) {
    ObjectNode c = new ObjectMapper().createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("hidden_size", 2048);
    c.put("intermediate_size", 8192);
    c.put("num_hidden_layers", 16);
    c.put("num_attention_heads", 32);
    c.put("num_key_value_heads", 8);
    c.put("head_dim", 64);
    c.put("hidden_act", "silu");
    c.put("max_position_embeddings", 131072);
    c.put("rms_norm_eps", 1e-5);
    c.put("rope_theta", 500000.0);
    ObjectNode rs = c.putObject("rope_scaling");
    rs.put("factor", 32.0);
    rs.put("high_freq_factor", 4.0);
    rs.put("low_freq_factor", 1.0);
    rs.put("original_max_position_embeddings", 8192);
    rs.put("rope_type", "llama3");
    c.put("tie_word_embeddings", true);
    c.put("torch_dtype", "bfloat16");
    c.put("vocab_size", vocab);
    // the Llama 3 ids; with the Qwen3 tokenizer they are ordinary tokens, but inside the 128,256 rows
    c.put("bos_token_id", 128000);
    c.put("eos_token_id", 128001);
    ObjectNode sw = c.putObject("synthetic_weights");
    sw.put("spec", "SPEC.md v1");
    sw.put("seed", seed);
    sw.put("tokenizer", "tokenizer-qwen3");
    return c;
  }

  /** Reads a config.json. */
  public static JsonNode readConfig(Path file) {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }
}
