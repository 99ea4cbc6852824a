package io.toedit.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The fields of a Hugging Face decoder {@code config.json} that the forward pass needs, for the families in
 * {@link #SUPPORTED_TYPES}: {@code llama}, {@code mistral}, {@code qwen2} (q/k/v biases) and {@code qwen3}
 * (per-head RMSNorm of q and k before RoPE).
 *
 * @param modelType one of {@link #SUPPORTED_TYPES}
 * @param qkvBias q_proj, k_proj and v_proj have biases ({@code qwen2})
 * @param qkNorm per-head RMSNorm {@code q_norm}/{@code k_norm} on q and k before RoPE ({@code qwen3})
 * @param slidingWindow keys a query sees at most (itself included) when sliding-window attention is on;
 *     {@code 0} when off ({@code sliding_window} null, or {@code use_sliding_window} false)
 * @param ropeScaling {@code null} unless {@code rope_scaling.rope_type} (or {@code type}) is {@code llama3}
 */
public record LlamaConfig(String modelType, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
    int numKvHeads, int headDim, int vocabSize, int maxPositionEmbeddings, double rmsNormEps, double ropeTheta,
    RopeScaling ropeScaling, boolean tieWordEmbeddings, int bosTokenId, int eosTokenId, boolean qkvBias,
    boolean qkNorm, int slidingWindow) {

  /** The {@code model_type}s this forward pass implements. */
  public static final java.util.List<String> SUPPORTED_TYPES = java.util.List.of("llama", "mistral", "qwen2", "qwen3");

  /** The {@code rope_scaling} types this forward pass implements ({@code default} means none). */
  public static final java.util.List<String> SUPPORTED_ROPE_SCALING = java.util.List.of("default", "llama3");

  /** Llama 3.1-style frequency scaling of RoPE ({@code rope_scaling.rope_type = "llama3"}). */
  public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor,
      int originalMaxPositionEmbeddings) {
  }

  /** Reads {@code dir/config.json}; every error names the file and the field. */
  public static LlamaConfig load(Path dir) {
    Path file = dir.resolve("config.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("Missing model config: " + file
          + " (expected a Hugging Face Llama folder with config.json, model.safetensors and tokenizer.json)");
    }
    JsonNode c;
    try {
      c = new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot parse " + file + " as JSON", e);
    }
    return parse(c, file.toString());
  }

  static LlamaConfig parse(JsonNode c, String file) {
    String type = checkArchitecture(c, file);
    int hidden = positiveInt(c, "hidden_size", file);
    int heads = positiveInt(c, "num_attention_heads", file);
    int kvHeads = c.has("num_key_value_heads") && !c.get("num_key_value_heads").isNull()
        ? positiveInt(c, "num_key_value_heads", file) : heads;
    if (heads % kvHeads != 0) {
      throw bad(file, "num_key_value_heads", kvHeads + " does not divide num_attention_heads " + heads);
    }
    int headDim;
    if (c.has("head_dim") && !c.get("head_dim").isNull()) {
      headDim = positiveInt(c, "head_dim", file);
    } else {
      if (hidden % heads != 0) {
        throw bad(file, "head_dim", "absent and hidden_size " + hidden + " is not a multiple of heads " + heads);
      }
      headDim = hidden / heads;
    }
    if (headDim % 2 != 0) {
      throw bad(file, "head_dim", headDim + " must be even for RoPE");
    }
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw bad(file, "hidden_act", "'" + act + "' is not supported (only silu)");
    }
    if (c.path("mlp_bias").asBoolean(false)) {
      throw bad(file, "mlp_bias", "true is not supported (no supported family has MLP biases)");
    }
    if (c.path("attention_bias").asBoolean(false) && !type.equals("qwen2")) {
      throw bad(file, "attention_bias", "true is not supported for model_type '" + type
          + "' (q/k/v biases are read for qwen2 only)");
    }
    int sliding = 0;
    JsonNode sw = c.get("sliding_window");
    boolean slidingOn = type.equals("mistral") || c.path("use_sliding_window").asBoolean(false);
    if (slidingOn && sw != null && !sw.isNull()) {
      sliding = positiveInt(c, "sliding_window", file);
    }
    return new LlamaConfig(type, hidden, positiveInt(c, "intermediate_size", file),
        positiveInt(c, "num_hidden_layers", file), heads, kvHeads, headDim,
        positiveInt(c, "vocab_size", file),
        c.has("max_position_embeddings") ? positiveInt(c, "max_position_embeddings", file) : 2048,
        positiveDouble(c, "rms_norm_eps", 1e-6, file), positiveDouble(c, "rope_theta", 10000.0, file),
        ropeScaling(c.get("rope_scaling"), file), c.path("tie_word_embeddings").asBoolean(false),
        tokenId(c, "bos_token_id", 1, file), tokenId(c, "eos_token_id", 2, file), type.equals("qwen2"),
        type.equals("qwen3"), sliding);
  }

  /** The model_type, checked against {@link #SUPPORTED_TYPES}; an older config without it may name the class. */
  private static String checkArchitecture(JsonNode c, String file) {
    String type = c.path("model_type").asText("").toLowerCase(Locale.ROOT);
    if (type.isEmpty()) {
      for (JsonNode a : c.path("architectures")) {
        type = switch (a.asText()) {
          case "LlamaForCausalLM" -> "llama";
          case "MistralForCausalLM" -> "mistral";
          case "Qwen2ForCausalLM" -> "qwen2";
          case "Qwen3ForCausalLM" -> "qwen3";
          default -> type;
        };
      }
    }
    if (!SUPPORTED_TYPES.contains(type)) {
      throw bad(file, "model_type", "'" + c.path("model_type").asText("") + "' with architectures "
          + c.path("architectures") + " is not supported; supported model_type values: "
          + String.join(", ", SUPPORTED_TYPES));
    }
    return type;
  }

  private static RopeScaling ropeScaling(JsonNode s, String file) {
    if (s == null || s.isNull()) {
      return null;
    }
    String type = s.has("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("");
    if (type.equals("default")) {
      return null;
    }
    if (!type.equals("llama3")) {
      throw bad(file, "rope_scaling.rope_type", "'" + type + "' is not supported; supported: "
          + String.join(", ", SUPPORTED_ROPE_SCALING) + " (or rope_scaling null)");
    }
    return new RopeScaling(positiveDouble(s, "factor", Double.NaN, file),
        positiveDouble(s, "low_freq_factor", Double.NaN, file),
        positiveDouble(s, "high_freq_factor", Double.NaN, file),
        positiveInt(s, "original_max_position_embeddings", file));
  }

  private static int positiveInt(JsonNode c, String field, String file) {
    JsonNode v = c.get(field);
    if (v == null || v.isNull()) {
      throw bad(file, field, "is missing");
    }
    if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() <= 0) {
      throw bad(file, field, "must be a positive integer, got " + v);
    }
    return v.asInt();
  }

  private static double positiveDouble(JsonNode c, String field, double dflt, String file) {
    JsonNode v = c.get(field);
    if (v == null || v.isNull()) {
      if (Double.isNaN(dflt)) {
        throw bad(file, field, "is missing");
      }
      return dflt;
    }
    if (!v.isNumber() || v.asDouble() <= 0) {
      throw bad(file, field, "must be a positive number, got " + v);
    }
    return v.asDouble();
  }

  /** The first id of a number-or-list field, read by {@link TokenIds} like the tokenizer reads it. */
  private static int tokenId(JsonNode c, String field, int dflt, String file) {
    return TokenIds.first(c, field, dflt, file);
  }

  private static IllegalArgumentException bad(String file, String field, String what) {
    return new IllegalArgumentException(file + ": field '" + field + "' " + what);
  }

  /**
   * RoPE inverse frequencies per rotated pair, {@code theta^(-2i/headDim)}, with Llama 3 scaling applied
   * exactly as Hugging Face's {@code _compute_llama3_parameters}.
   */
  public double[] inverseFrequencies() {
    int half = headDim / 2;
    double[] inv = new double[half];
    for (int i = 0; i < half; i++) {
      inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
    }
    if (ropeScaling != null) {
      RopeScaling s = ropeScaling;
      double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
      double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
      for (int i = 0; i < half; i++) {
        double wavelen = 2 * Math.PI / inv[i];
        if (wavelen > lowWavelen) {
          inv[i] = inv[i] / s.factor();
        } else if (wavelen >= highWavelen) {
          double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
              / (s.highFreqFactor() - s.lowFreqFactor());
          inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
        }
      }
    }
    return inv;
  }
}
