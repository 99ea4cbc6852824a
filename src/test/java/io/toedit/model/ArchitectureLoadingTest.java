package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.TokenScores;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Families, relabelled and broken checkpoints, the model id and the token budget of a pass. */
class ArchitectureLoadingTest {

  static ModelSettings settings(Path dir, int maxBatchTokens, int window) {
    ModelSettings d = ModelSettings.defaults();
    return new ModelSettings(dir, "cpu", 1, 1, 8, maxBatchTokens, window, 16, d.attentionBudget(), d.attention());
  }

  static String loadError(Path dir) {
    return assertThrows(IllegalArgumentException.class,
        () -> Models.openScorer(settings(dir, 2048, 0)).close()).getMessage();
  }

  @Test
  void shouldRefuseAQwen2CheckpointRelabelledLlamaNamingItsBiases(@TempDir Path tmp) throws IOException {
    Path dir = SyntheticModels.withConfig("qwen2-tiny", tmp.resolve("q2"), c -> c.put("model_type", "llama"));
    String m = loadError(dir);
    assertTrue(m.contains("self_attn.q_proj.bias") && m.contains("'llama'") && m.contains("qwen2"), m);
  }

  @Test
  void shouldRefuseAQwen3CheckpointRelabelledLlamaNamingItsNorms(@TempDir Path tmp) throws IOException {
    Path dir = SyntheticModels.withConfig("qwen3-tiny", tmp.resolve("q3"), c -> c.put("model_type", "llama"));
    String m = loadError(dir);
    assertTrue(m.contains("self_attn.k_norm.weight") && m.contains("qwen3"), m);
  }

  @Test
  void shouldNameTheMissingBiasOfALlamaCheckpointRelabelledQwen2(@TempDir Path tmp) throws IOException {
    Path dir = SyntheticModels.withConfig("llama3-tiny", tmp.resolve("l"), c -> c.put("model_type", "qwen2"));
    String m = loadError(dir);
    assertTrue(m.contains("'model.layers.0.self_attn.q_proj.bias' is missing"), m);
  }

  @Test
  void shouldNameAStrayTensor(@TempDir Path tmp) throws IOException {
    Path dir = TestCheckpoints.folder(tmp.resolve("stray"), c -> c);
    Map<String, TestCheckpoints.Tensor> all = TestCheckpoints.converted("F32", v -> v);
    all.put("model.layers.2.mlp.extra.weight", TestCheckpoints.encode(new float[4], new long[] {4}, "F32"));
    TestCheckpoints.write(dir.resolve("model.safetensors"), all);
    String m = loadError(dir);
    assertTrue(m.contains("'model.layers.2.mlp.extra.weight'") && m.contains("does not use"), m);
  }

  @Test
  void shouldListTheSupportedModelTypesAndRopeScalings(@TempDir Path tmp) throws IOException {
    Path gpt = TestCheckpoints.folder(tmp.resolve("neox"), c -> {
      c.put("model_type", "gpt_neox");
      c.putArray("architectures").add("GPTNeoXForCausalLM");
      return c;
    });
    String m = loadError(gpt);
    assertTrue(m.contains("'model_type'") && m.contains("gpt_neox") && m.contains("llama, mistral, qwen2, qwen3"), m);
    Path yarn = TestCheckpoints.folder(tmp.resolve("yarn"), c -> {
      c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
      return c;
    });
    m = loadError(yarn);
    assertTrue(m.contains("rope_scaling") && m.contains("yarn") && m.contains("default, llama3"), m);
  }

  @Test
  void shouldParseEachFamily() {
    LlamaConfig q2 = LlamaConfig.parse(SyntheticModels.config("qwen2-tiny"), "q2");
    assertTrue(q2.qkvBias() && !q2.qkNorm());
    assertEquals(0, q2.slidingWindow(), "use_sliding_window false");
    LlamaConfig q3 = LlamaConfig.parse(SyntheticModels.config("qwen3-tiny"), "q3");
    assertTrue(q3.qkNorm() && !q3.qkvBias());
    assertEquals(16, q3.headDim());
    LlamaConfig mi = LlamaConfig.parse(SyntheticModels.config("mistral-tiny"), "m");
    assertEquals(8, mi.headDim());
    assertEquals(0, mi.slidingWindow(), "sliding_window null");
  }

  @Test
  void shouldLetTheWindowExceedAMistralSlidingWindow(@TempDir Path tmp) throws IOException {
    Path dir = SyntheticModels.withConfig("mistral-tiny", tmp.resolve("m"), c -> c.put("sliding_window", 24));
    try (DjlScorer s = (DjlScorer) Models.openScorer(settings(dir, 2048, 0))) {
      assertEquals(2048, s.windowTokens(), "the kernels mask the sliding window: no cap");
    }
    try (DjlScorer s = (DjlScorer) Models.openScorer(settings(dir, 2048, 64))) {
      assertEquals(64, s.windowTokens());
    }
  }

  @Test
  void shouldCapTheWindowAtAQwen2SlidingWindowAndRefuseALargerExplicitOne(@TempDir Path tmp) throws IOException {
    Path dir = SyntheticModels.withConfig("qwen2-tiny", tmp.resolve("q"),
        c -> c.put("use_sliding_window", true).put("sliding_window", 24));
    try (DjlScorer s = (DjlScorer) Models.openScorer(settings(dir, 2048, 0))) {
      assertEquals(24, s.windowTokens());
    }
    var e = assertThrows(IllegalArgumentException.class, () -> Models.openScorer(settings(dir, 2048, 64)));
    assertTrue(e.getMessage().contains("sliding_window") && e.getMessage().contains("24"), e.getMessage());
  }

  @Test
  void shouldGiveCheckpointsThatDifferInOneLateWeightDifferentIds(@TempDir Path tmp) throws IOException {
    Path a = TestCheckpoints.folder(tmp.resolve("a"), c -> c);
    Path b = TestCheckpoints.folder(tmp.resolve("a2"), c -> c);
    Files.copy(TestCheckpoints.MODEL.resolve("model.safetensors"), a.resolve("model.safetensors"));
    Files.copy(TestCheckpoints.MODEL.resolve("model.safetensors"), b.resolve("model.safetensors"));
    try (RandomAccessFile f = new RandomAccessFile(b.resolve("model.safetensors").toFile(), "rw")) {
      f.seek(f.length() - 3);                                         // the last weight's high byte
      int x = f.read();
      f.seek(f.length() - 3);
      f.write(x ^ 0x01);
    }
    String idA;
    String idA2;
    String idB;
    try (Scorer s = Models.openScorer(settings(a, 2048, 0))) {
      idA = s.modelId().substring(s.modelId().indexOf('@'));
    }
    try (Scorer s = Models.openScorer(settings(a, 2048, 0))) {
      idA2 = s.modelId().substring(s.modelId().indexOf('@'));
    }
    try (Scorer s = Models.openScorer(settings(b, 2048, 0))) {
      idB = s.modelId().substring(s.modelId().indexOf('@'));
    }
    assertEquals(idA, idA2, "the id is a function of the weights");
    assertNotEquals(idA, idB, "one changed byte in the last tensor changes the id");
  }

  @Test
  void shouldNeverHandTheModelMoreThanMaxBatchTokens() {
    // stories260k: max_position_embeddings 512; a budget of 96 tokens makes the default window 96
    Random rnd = new Random(3);
    List<int[]> docs = new ArrayList<>();
    for (int len : new int[] {700, 95, 40, 3, 200}) {
      int[] ids = new int[len];
      for (int i = 0; i < len; i++) {
        ids[i] = 3 + rnd.nextInt(500);
      }
      docs.add(ids);
    }
    try (DjlScorer s = (DjlScorer) Models.openScorer(settings(TestCheckpoints.MODEL, 96, 0))) {
      assertEquals(96, s.windowTokens());
      List<TokenScores> out = s.score(docs);
      assertTrue(s.largestPass() > 0 && s.largestPass() <= 96, "largest pass " + s.largestPass());
      for (int i = 0; i < docs.size(); i++) {
        for (int t = 1; t < docs.get(i).length; t++) {
          assertTrue(!Float.isNaN(out.get(i).logProbs()[t]), "doc " + i + " target " + t + " scored");
        }
      }
    }
    var e = assertThrows(IllegalArgumentException.class,
        () -> Models.openScorer(settings(TestCheckpoints.MODEL, 96, 200)));
    assertTrue(e.getMessage().contains("maxBatchTokens"), e.getMessage());
  }
}
