package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.TokenScores;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The forward pass of llama, mistral, qwen2 and qwen3 against independent float64 references
 * ({@code models/synthetic/<model>/golden.json}, numpy), on weights regenerated from SPEC.md v1: every golden
 * text, every attention kernel on the BF16 checkpoint as given, and the F32 and sharded variants. The golden
 * ids (context token first) are fed to the scorer directly: this tests the forward pass, not the tokenizer.
 * On the CPU unless {@code -Dtoedit.test.device=gpu} ({@link TestDevice}).
 */
class SyntheticGoldenTest {

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (String model : SyntheticModels.NAMES) {
      for (AttentionKernel k : TestDevice.float32Kernels()) {
        out.add(Arguments.of(model, k, "BF16", 1, false));
      }
      out.add(Arguments.of(model, AttentionKernel.AUTO, "F32", 1, false));
      out.add(Arguments.of(model, AttentionKernel.AUTO, "BF16", 3, false));
      out.add(Arguments.of(model, AttentionKernel.AUTO, "BF16", 1, true));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} {2} shards={3} mlpRowChunks={4}")
  @MethodSource("cases")
  void shouldMatchTheFloat64GoldenWithin1e4(String model, AttentionKernel kernel, String dtype, int shards,
      boolean mlpRowChunks) {
    // mlpRowChunks: the MLP runs in chunks of 3 rows (a large model's path), else one chunk per pass
    long chunkBytes = mlpRowChunks ? 3L * 2 * SyntheticModels.config(model).path("intermediate_size").asLong() * 4
        : LlamaModel.MLP_CHUNK_BYTES;
    LlamaModel.mlpChunkBytes = chunkBytes;
    try {
      check(model, kernel, dtype, shards);
    } finally {
      LlamaModel.mlpChunkBytes = LlamaModel.MLP_CHUNK_BYTES;
    }
  }

  private void check(String model, AttentionKernel kernel, String dtype, int shards) {
    Path dir = SyntheticModels.folder(model, dtype, shards);
    JsonNode golden = SyntheticModels.golden(model);
    ModelSettings d = ModelSettings.defaults();
    ModelSettings s = new ModelSettings(dir, TestDevice.name(), 1, 1, 5, d.maxBatchTokens(), 0, 128,
        d.attentionBudget(), kernel);
    List<int[]> seqs = new ArrayList<>();
    golden.path("texts").forEach(t -> seqs.add(new ObjectMapper().convertValue(t.path("ids"), int[].class)));
    assertEquals(6, seqs.size());
    int checkedIds = 0;
    int positions = 0;
    int vocab = golden.path("tokenizer_size").asInt();
    int padded = 0;
    try (Scorer scorer = Models.openScorer(s)) {
      List<TokenScores> got = scorer.score(seqs);
      for (int i = 0; i < seqs.size(); i++) {
        JsonNode text = golden.path("texts").get(i);
        TokenScores sc = got.get(i);
        assertEquals(seqs.get(i).length - 1, text.path("positions").size());
        double nll = 0;
        for (JsonNode p : text.path("positions")) {
          int t = p.path("pos").asInt() + 1;                // TokenScores is target-indexed
          String where = model + " " + kernel + " " + dtype + " " + text.path("name").asText() + " target " + t;
          assertEquals(p.path("next_id").asInt(), sc.ids()[t], where);
          assertEquals(p.path("logprob").asDouble(), sc.logProbs()[t], 1e-4, where);
          nll -= sc.logProbs()[t];
          checkedIds += assertTop5(p.path("top5"), sc, t, where);
          for (int r = 0; r < 5; r++) {
            padded += sc.topIds()[t][r] >= vocab ? 1 : 0;
          }
          positions++;
        }
        assertEquals(text.path("mean_nll").asDouble(), nll / text.path("positions").size(), 1e-4, model + " mean_nll");
      }
    }
    assertTrue(positions > 200, "positions " + positions);
    assertTrue(checkedIds > positions * 4, "top-5 ids compared " + checkedIds);
    if (golden.path("vocab_size").asInt() > vocab) {
      assertTrue(padded > 0, "padded vocabulary ids reach the top-5 of " + model + " (golden: 3 times)");
    }
  }

  /**
   * Asserts position {@code t}'s top-5 log-probs within 1e-4 of the golden, and its ids where the golden's
   * neighbouring log-probs are more than 1e-4 apart (a near-tie may come out in either order); returns how
   * many ids were checked.
   */
  static int assertTop5(JsonNode top5, TokenScores sc, int t, String where) {
    int checked = 0;
    for (int r = 0; r < 5; r++) {
      double lp = top5.get(r).get(1).asDouble();
      assertEquals(lp, sc.topLogProbs()[t][r], 1e-4, where + " rank " + r + " log P");
      boolean separated = (r == 0 || top5.get(r - 1).get(1).asDouble() - lp > 1e-4)
          && (r == 4 || lp - top5.get(r + 1).get(1).asDouble() > 1e-4);
      if (separated) {
        assertEquals(top5.get(r).get(0).asInt(), sc.topIds()[t][r], where + " rank " + r + " id");
        checked++;
      }
    }
    return checked;
  }
}
