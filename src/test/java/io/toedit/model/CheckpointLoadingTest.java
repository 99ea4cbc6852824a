package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint formats (F32/BF16/F16, sharded) and the errors of broken folders. */
class CheckpointLoadingTest {

  static Scorer reference;
  static List<int[]> texts;

  @BeforeAll
  static void open() {
    reference = Models.openScorer(settings(TestCheckpoints.MODEL));
    try (TextTokenizer tok = Models.openTokenizer(settings(TestCheckpoints.MODEL))) {
      texts = List.of(
          tok.encode("Once upon a time, there was a little girl named Lily. She loved to play outside.").ids(),
          tok.encode("Tom said: «Look, a café!» 猫 and 😀 were there too.").ids());
    }
  }

  @AfterAll
  static void close() {
    reference.close();
  }

  static ModelSettings settings(Path dir) {
    ModelSettings d = ModelSettings.defaults().withModelDir(dir);
    return new ModelSettings(dir, "cpu", 1, 1, 8, d.maxBatchTokens(), 0, 128, d.attentionBudget(), d.attention());
  }

  static List<TokenScores> score(Path dir) {
    try (Scorer s = Models.openScorer(settings(dir))) {
      return s.score(texts);
    }
  }

  /** Largest |difference| of the actual-token log-probs; also asserts equal lengths and NaN at 0. */
  static double maxDiff(List<TokenScores> a, List<TokenScores> b) {
    double worst = 0;
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).length(), b.get(i).length());
      for (int t = 1; t < a.get(i).length(); t++) {
        worst = Math.max(worst, Math.abs(a.get(i).logProbs()[t] - b.get(i).logProbs()[t]));
      }
    }
    return worst;
  }

  @Test
  void shouldLoadBf16ExactlyAsItsRoundedFloat32Values(@TempDir Path tmp) throws IOException {
    // The loader must widen bf16 exactly: a bf16 file and an F32 file holding the same rounded values give
    // the same scores (up to float summation noise). Against the original F32 weights, bf16 rounding
    // (relative error <= 2^-9 = 0.2 % per weight) moves log-probs by a few 1e-3 nats here; 0.1 bounds that
    // with margin while still catching a wrong byte order or exponent (which moves them by whole nats).
    Path bf16 = TestCheckpoints.folder(tmp.resolve("bf16"), c -> c.put("torch_dtype", "bfloat16"));
    TestCheckpoints.write(bf16.resolve("model.safetensors"), TestCheckpoints.converted("BF16", v -> v));
    Path rounded = TestCheckpoints.folder(tmp.resolve("rounded"), c -> c);
    TestCheckpoints.write(rounded.resolve("model.safetensors"), TestCheckpoints.converted("F32", v -> {
      float[] r = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        r[i] = Float.intBitsToFloat(TestCheckpoints.toBf16(v[i]) << 16);
      }
      return r;
    }));
    List<TokenScores> got = score(bf16);
    assertTrue(maxDiff(got, score(rounded)) < 1e-5, "bf16 vs its F32 image");
    double drift = maxDiff(got, reference.score(texts));
    assertTrue(drift > 0 && drift < 0.1, "bf16 vs original F32: " + drift);
  }

  @Test
  void shouldLoadF16ExactlyAsItsRoundedFloat32Values(@TempDir Path tmp) throws IOException {
    // f16 keeps 11 significant bits (relative error <= 2^-12): drift vs F32 is ~8x smaller than bf16's.
    Path f16 = TestCheckpoints.folder(tmp.resolve("f16"), c -> c.put("torch_dtype", "float16"));
    TestCheckpoints.write(f16.resolve("model.safetensors"), TestCheckpoints.converted("F16", v -> v));
    Path rounded = TestCheckpoints.folder(tmp.resolve("rounded"), c -> c);
    TestCheckpoints.write(rounded.resolve("model.safetensors"), TestCheckpoints.converted("F32", v -> {
      float[] r = new float[v.length];
      for (int i = 0; i < v.length; i++) {
        r[i] = Safetensors.halfToFloat(TestCheckpoints.toF16(v[i]));
      }
      return r;
    }));
    List<TokenScores> got = score(f16);
    assertTrue(maxDiff(got, score(rounded)) < 1e-5, "f16 vs its F32 image");
    double drift = maxDiff(got, reference.score(texts));
    assertTrue(drift > 0 && drift < 0.02, "f16 vs original F32: " + drift);
  }

  @Test
  void shouldConvertHalfPrecisionValuesExactly() {
    assertEquals(1.0f, Safetensors.halfToFloat((short) 0x3c00));
    assertEquals(-2.0f, Safetensors.halfToFloat((short) 0xc000));
    assertEquals(65504f, Safetensors.halfToFloat((short) 0x7bff));
    assertEquals(0x1p-24f, Safetensors.halfToFloat((short) 0x0001));
    assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat((short) 0x7c00));
    assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7e00)));
    for (float x : new float[] {0.1f, -3.14159f, 1e-5f, 1000.5f}) {
      assertEquals(x, Safetensors.halfToFloat(TestCheckpoints.toF16(x)), Math.abs(x) * 0x1p-11f + 0x1p-25f);
    }
  }

  @Test
  void shouldStackTensorsRowsIntoOneArrayAsTheirSeparateLoadsAcrossShards() {
    // the loader fills a layer's fused q/k/v and gate/up weights in place: the same values as loading each tensor
    // and concatenating them, from whichever shard each one sits in
    Path dir = SyntheticModels.folder("qwen2-tiny", "BF16", 3);
    Safetensors st = Safetensors.open(dir);
    String p = "model.layers.1.self_attn.";
    String[] names = {p + "q_proj.weight", p + "k_proj.weight", p + "v_proj.weight"};
    long[] rows = {st.shape(names[0])[0], st.shape(names[1])[0], st.shape(names[2])[0]};
    long cols = st.shape(names[0])[1];
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(ai.djl.Device.cpu(), "PyTorch")) {
      ai.djl.ndarray.NDArray stacked = st.loadRows(m, cols, names, rows);
      assertArrayEquals(new long[] {rows[0] + rows[1] + rows[2], cols}, stacked.getShape().getShape());
      float[] expected = new float[(int) ((rows[0] + rows[1] + rows[2]) * cols)];
      int at = 0;
      for (int i = 0; i < 3; i++) {
        float[] one = st.read(names[i], rows[i], cols);                  // the Java-side reader, not the loader
        System.arraycopy(one, 0, expected, at, one.length);
        at += one.length;
      }
      assertArrayEquals(expected, stacked.toFloatArray());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> st.loadRows(m, cols, names, new long[] {rows[0], rows[1] + 1, rows[2]}));
      assertTrue(e.getMessage().contains("'" + names[1] + "'") && e.getMessage().contains("shape"), e.getMessage());
    }
  }

  @Test
  void shouldScoreIdenticallyFromTwoShardsAndAnIndex(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("sharded"), c -> c);
    Map<String, TestCheckpoints.Tensor> all = TestCheckpoints.converted("F32", v -> v);
    Map<String, TestCheckpoints.Tensor> a = new LinkedHashMap<>();
    Map<String, TestCheckpoints.Tensor> b = new LinkedHashMap<>();
    ObjectNode index = new ObjectMapper().createObjectNode();
    index.putObject("metadata").put("total_size", 1040128);
    ObjectNode map = index.putObject("weight_map");
    int i = 0;
    for (var e : all.entrySet()) {
      boolean first = i++ < all.size() / 2;
      (first ? a : b).put(e.getKey(), e.getValue());
      map.put(e.getKey(), first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors");
    }
    TestCheckpoints.write(dir.resolve("model-00001-of-00002.safetensors"), a);
    TestCheckpoints.write(dir.resolve("model-00002-of-00002.safetensors"), b);
    new ObjectMapper().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
    List<TokenScores> got = score(dir);
    List<TokenScores> want = reference.score(texts);
    for (int s = 0; s < texts.size(); s++) {
      assertArrayEquals(want.get(s).logProbs(), got.get(s).logProbs(), 1e-6f);
      assertArrayEquals(want.get(s).topIds()[3], got.get(s).topIds()[3]);
    }
  }

  @Test
  void shouldNameTheFileWhenConfigIsMissing(@TempDir Path tmp) {
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(tmp)));
    assertTrue(e.getMessage().contains(tmp.resolve("config.json").toString()), e.getMessage());
  }

  @Test
  void shouldNameBothCandidatesWhenWeightsAreMissing(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("noweights"), c -> c);
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir)));
    assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("index.json"), e.getMessage());
  }

  @Test
  void shouldNameFileTensorAndFieldForAnUnsupportedDtype(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("i32"), c -> c);
    Map<String, TestCheckpoints.Tensor> all = TestCheckpoints.converted("F32", v -> v);
    var norm = all.get("model.norm.weight");
    all.put("model.norm.weight", new TestCheckpoints.Tensor("I32", norm.shape(), norm.data()));
    TestCheckpoints.write(dir.resolve("model.safetensors"), all);
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir)));
    assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("'model.norm.weight'")
        && e.getMessage().contains("'dtype'") && e.getMessage().contains("I32"), e.getMessage());
  }

  @Test
  void shouldNameFileTensorAndFieldForAShapeMismatch(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("shape"), c -> c.put("intermediate_size", 128));
    Files.copy(TestCheckpoints.MODEL.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir)));
    assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("mlp.gate_proj.weight")
        && e.getMessage().contains("'shape'") && e.getMessage().contains("[172, 64]"), e.getMessage());
  }

  @Test
  void shouldNameAMissingTensor(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("missing"), c -> c);
    Map<String, TestCheckpoints.Tensor> all = TestCheckpoints.converted("F32", v -> v);
    all.remove("model.layers.3.self_attn.v_proj.weight");
    TestCheckpoints.write(dir.resolve("model.safetensors"), all);
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir)));
    assertTrue(e.getMessage().contains("'model.layers.3.self_attn.v_proj.weight' is missing"), e.getMessage());
  }

  @Test
  void shouldRequireLmHeadWhenEmbeddingsAreNotTied(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("untied"), c -> c.put("tie_word_embeddings", false));
    Files.copy(TestCheckpoints.MODEL.resolve("model.safetensors"), dir.resolve("model.safetensors"));
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir)));
    assertTrue(e.getMessage().contains("lm_head.weight") && e.getMessage().contains("tie_word_embeddings"),
        e.getMessage());
  }

  @Test
  void shouldUseAnUntiedHeadWhenPresent(@TempDir Path tmp) throws IOException {
    // lm_head = the embeddings, so scores must equal the tied model's: proves the untied path reads lm_head
    Path dir = TestCheckpoints.folder(tmp.resolve("untied"), c -> c.put("tie_word_embeddings", false));
    Map<String, TestCheckpoints.Tensor> all = TestCheckpoints.converted("F32", v -> v);
    all.put("lm_head.weight", all.get("model.embed_tokens.weight"));
    TestCheckpoints.write(dir.resolve("model.safetensors"), all);
    assertTrue(maxDiff(score(dir), reference.score(texts)) < 1e-6);
  }

  @Test
  void shouldRejectANonLlamaArchitectureNamingTheField(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("gpt2"), c -> {
      c.put("model_type", "gpt2");
      c.putArray("architectures").add("GPT2LMHeadModel");
      return c;
    });
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir)));
    assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("'model_type'")
        && e.getMessage().contains("gpt2"), e.getMessage());
  }

  @Test
  void shouldNameAMissingConfigField(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("nofield"), c -> {
      c.remove("num_hidden_layers");
      return c;
    });
    var e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.load(dir));
    assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("'num_hidden_layers' is missing"),
        e.getMessage());
  }

  @Test
  void shouldParseLlama3RopeScalingAndDefaultHeadDim() throws IOException {
    ObjectNode c = (ObjectNode) new ObjectMapper().readTree(
        "{\"model_type\":\"llama\",\"hidden_size\":4096,\"intermediate_size\":14336,\"num_hidden_layers\":32,"
            + "\"num_attention_heads\":32,\"num_key_value_heads\":8,\"vocab_size\":128256,"
            + "\"max_position_embeddings\":131072,\"rms_norm_eps\":1e-5,\"rope_theta\":500000.0,"
            + "\"rope_scaling\":{\"factor\":8.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
            + "\"original_max_position_embeddings\":8192,\"rope_type\":\"llama3\"},"
            + "\"tie_word_embeddings\":false,\"bos_token_id\":128000,\"eos_token_id\":[128001,128008,128009]}");
    LlamaConfig cfg = LlamaConfig.parse(c, "config.json");
    assertEquals(128, cfg.headDim());
    assertEquals(8, cfg.numKvHeads());
    assertEquals(128001, cfg.eosTokenId());
    double[] inv = cfg.inverseFrequencies();
    // values of HF _compute_llama3_parameters for Llama 3.1 8B: high frequencies unchanged, low ones / 8
    assertEquals(1.0, inv[0], 1e-12);
    assertEquals(Math.pow(500000.0, -2.0 * 63 / 128) / 8, inv[63], 1e-15);
    double wl = 2 * Math.PI / Math.pow(500000.0, -2.0 * 32 / 128);
    double smooth = (8192 / wl - 1) / 3;
    double raw = Math.pow(500000.0, -2.0 * 32 / 128);
    assertTrue(wl > 8192 / 4.0 && wl < 8192, "pair 32 is in the smoothed band");
    assertEquals((1 - smooth) * raw / 8 + smooth * raw, inv[32], 1e-15);
  }

  @Test
  void shouldFailClearlyWhenGpuIsRequestedWithoutOne() {
    ModelSettings d = ModelSettings.defaults();
    var s = new ModelSettings(TestCheckpoints.MODEL, "gpu", 1, 1, 8, d.maxBatchTokens(), 0, 128, d.attentionBudget(), d.attention());
    org.junit.jupiter.api.Assumptions.assumeTrue(ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount() == 0,
        "this check needs a machine without GPU");
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(s));
    assertTrue(e.getMessage().contains("device=gpu") && e.getMessage().contains("getGpuCount"), e.getMessage());
  }
}
