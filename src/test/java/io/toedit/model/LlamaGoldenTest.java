package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.TokenScores;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The forward pass against float64 references of stories260k (golden.json, golden_logits.json), through
 * each attention kernel.
 */
class LlamaGoldenTest {

  static final Path MODEL = Path.of("src/main/resources/models/stories260k");
  static final Path GOLDEN = Path.of("src/test/resources/golden");
  static final Map<AttentionKernel, DjlScorer> SCORERS = new EnumMap<>(AttentionKernel.class);
  static JsonNode golden;

  @BeforeAll
  static void open() throws Exception {
    golden = new ObjectMapper().readTree(GOLDEN.resolve("golden.json").toFile());
  }

  static DjlScorer scorer(AttentionKernel kernel) {
    return SCORERS.computeIfAbsent(kernel, k -> (DjlScorer) Models.openScorer(
        ModelSettings.defaults().withModelDir(MODEL).withTopK(8).withAttention(k)));
  }

  @AfterAll
  static void close() {
    SCORERS.values().forEach(DjlScorer::close);
  }

  @Test
  void shouldPickTheSimdKernelOnThisCpuByDefault() {
    // surefire's argLine adds jdk.incubator.vector, as the launcher does; stories260k has head_dim 8
    assertTrue(AttentionKernel.simdAvailable(), "the test JVM lacks " + AttentionKernel.VECTOR_MODULE);
    assertEquals(AttentionKernel.SIMD, scorer(AttentionKernel.AUTO).attention());
  }

  static int[] ids(JsonNode text) {
    return new ObjectMapper().convertValue(text.path("ids"), int[].class);
  }

  @ParameterizedTest
  @EnumSource(value = AttentionKernel.class, names = {"SIMD", "SDPA", "NDARRAY"})
  void shouldMatchGoldenLogProbsArgmaxAndTop5OfAllSixTexts(AttentionKernel kernel) {
    DjlScorer scorer = scorer(kernel);
    List<int[]> seqs = new ArrayList<>();
    golden.path("texts").forEach(t -> seqs.add(ids(t)));
    assertEquals(6, seqs.size());
    List<TokenScores> got = scorer.score(seqs);
    int positions = 0;
    int top5Checked = 0;
    for (int i = 0; i < seqs.size(); i++) {
      JsonNode text = golden.path("texts").get(i);
      TokenScores s = got.get(i);
      assertEquals(seqs.get(i).length, s.length());
      assertTrue(Float.isNaN(s.logProbs()[0]), "position 0 has no score");
      assertEquals(0, s.topIds()[0].length);
      for (JsonNode p : text.path("positions")) {
        int t = p.path("pos").asInt() + 1; // golden position t predicts ids[t+1]; TokenScores is target-indexed
        String where = text.path("name").asText() + " target " + t;
        assertEquals(p.path("next_id").asInt(), s.ids()[t], where);
        assertEquals(p.path("logprob").asDouble(), s.logProbs()[t], 1e-4, where);
        assertEquals(p.path("argmax").asInt(), s.topIds()[t][0], where);
        JsonNode top5 = p.path("top5");
        for (int r = 0; r < 5; r++) {
          double prob = top5.get(r).get(1).asDouble();
          boolean separated = (r == 0 || top5.get(r - 1).get(1).asDouble() - prob > 1e-4)
              && (r == 4 || prob - top5.get(r + 1).get(1).asDouble() > 1e-4);
          assertEquals(Math.log(prob), s.topLogProbs()[t][r], 1e-4, where + " rank " + r + " log-prob");
          if (separated) {
            assertEquals(top5.get(r).get(0).asInt(), s.topIds()[t][r], where + " rank " + r);
            top5Checked++;
          }
        }
        positions++;
      }
      assertEquals(seqs.get(i).length - 1, text.path("positions").size());
    }
    assertTrue(positions > 100, "positions " + positions);
    assertTrue(top5Checked > positions * 4, "top-5 ids compared " + top5Checked);
  }

  @ParameterizedTest
  @EnumSource(value = AttentionKernel.class, names = {"SIMD", "SDPA", "NDARRAY"})
  void shouldMatchGoldenLogitsOfLily(AttentionKernel kernel) throws Exception {
    DjlScorer scorer = scorer(kernel);
    JsonNode lily = new ObjectMapper().readTree(GOLDEN.resolve("golden_logits.json").toFile()).path("lily");
    int[] ids = ids(lily);
    float[][] got = scorer.logits(ids);
    assertEquals(lily.path("logits").size(), got.length);
    double worst = 0;
    for (int t = 0; t < got.length; t++) {
      JsonNode row = lily.path("logits").get(t);
      assertEquals(row.size(), got[t].length);
      for (int v = 0; v < got[t].length; v++) {
        worst = Math.max(worst, Math.abs(row.get(v).asDouble() - got[t][v]));
      }
    }
    assertTrue(worst < 1e-4, "max |logit - golden| = " + worst);
  }

  @Test
  void shouldReturnCandidatesInDescendingOrderWithDistinctIds() {
    TokenScores s = scorer(AttentionKernel.AUTO).score(List.of(ids(golden.path("texts").get(0)))).get(0);
    for (int t = 1; t < s.length(); t++) {
      assertEquals(8, s.topIds()[t].length);
      Set<Integer> seen = new HashSet<>();
      for (int r = 0; r < 8; r++) {
        assertTrue(seen.add(s.topIds()[t][r]));
        if (r > 0) {
          assertTrue(s.topLogProbs()[t][r - 1] >= s.topLogProbs()[t][r]);
        }
      }
      assertTrue(s.logProbs()[t] <= s.topLogProbs()[t][0] + 1e-6);
    }
  }
}
