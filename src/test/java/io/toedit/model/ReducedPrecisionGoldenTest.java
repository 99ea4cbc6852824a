package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.TokenScores;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The 16-bit path ({@link ReducedPrecision}, the GPU's default dtype) on the CPU against the independent float64
 * goldens of every synthetic family, the mistral sliding-window one included. The bound is the dtype's own
 * precision: the mean absolute log-prob error at most one unit in the last place of the log-prob scale
 * ({@code 2^-8} of the mean |log P| for bfloat16's 8 significant bits, {@code 2^-11} for float16's 11). These
 * random checkpoints have very peaked rows (mean NLL about 76 nats), so the absolute errors are far larger than
 * on a trained model's (measured here, bfloat16: mean 0.09-0.11, max 0.68 nats; float16: mean 0.011-0.014,
 * max 0.055; float32 through the same kernel: max 4e-5). On the CPU unless {@code -Dtoedit.test.device=gpu}
 * ({@link TestDevice}).
 */
class ReducedPrecisionGoldenTest {

  record Errors(double mean, double max, double meanAbsLogProb, int top1, int positions, double topMean,
      double topMeanAbs) {
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    List<String> models = new ArrayList<>(SyntheticModels.NAMES);
    models.add("mistral-sw8-tiny");
    for (String model : models) {
      out.add(Arguments.of(model, ComputeDtype.BFLOAT16, false));
      out.add(Arguments.of(model, ComputeDtype.FLOAT16, false));
    }
    out.add(Arguments.of("qwen2-tiny", ComputeDtype.BFLOAT16, true));
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1} mlpRowChunks={2}")
  @MethodSource("cases")
  void shouldMatchTheFloat64GoldenWithinTheDtypesPrecision(String model, ComputeDtype dtype, boolean chunks) {
    long chunkBytes = chunks ? 3L * 2 * SyntheticModels.config("qwen2-tiny").path("intermediate_size").asLong() * 4
        : LlamaModel.MLP_CHUNK_BYTES;
    LlamaModel.mlpChunkBytes = chunkBytes;
    Errors e;
    try {
      e = errors(model, dtype);
    } finally {
      LlamaModel.mlpChunkBytes = LlamaModel.MLP_CHUNK_BYTES;
    }
    double ulp = dtype == ComputeDtype.BFLOAT16 ? 0x1p-8 : 0x1p-11;
    String what = model + " " + dtype + " " + e;
    assertTrue(e.positions() > 200, what);
    assertTrue(e.mean() <= ulp * e.meanAbsLogProb(), what);
    // a float32 pass is within 1e-4 everywhere (SyntheticGoldenTest): an error this size shows 16-bit math ran
    assertTrue(e.max() > 1e-3, "no 16-bit rounding visible: " + what);
    assertTrue(e.top1() >= 0.9 * e.positions(), what);
    // the top k are recomputed in float32 from their weight rows (LlamaModel.headOutput): measured, their mean
    // error is 0.069-0.077 (bfloat16) and 0.008-0.009 (float16) nats with that, 0.146-0.156 and 0.017-0.018
    // with the 16-bit-rounded logits alone
    assertTrue(e.topMean() < (dtype == ComputeDtype.BFLOAT16 ? 0.1 : 0.0125), "top-k log-probs: " + what);
  }

  @Test
  void shouldBeCloserInFloat16ThanInBfloat16() {
    Errors bf = errors("llama3-tiny", ComputeDtype.BFLOAT16);
    Errors f16 = errors("llama3-tiny", ComputeDtype.FLOAT16);
    assertTrue(f16.mean() * 4 < bf.mean(), "float16 " + f16 + ", bfloat16 " + bf);
  }

  @Test
  void shouldRefuseAFloat32AttentionKernelIn16Bit() {
    for (AttentionKernel k : List.of(AttentionKernel.SIMD, AttentionKernel.NDARRAY)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Models.openScorer(settings("llama3-tiny", ComputeDtype.BFLOAT16, k)).close());
      assertTrue(e.getMessage().contains("attention=" + k) && e.getMessage().contains("sdpa"), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeDtype.parse("int8"));
    assertEquals("dtype must be one of auto, float32, bfloat16, float16; got 'int8'", e.getMessage());
  }

  @Test
  void shouldNameTheDtypeInTheModelIdOf16BitScoring() {
    String f32;
    String bf16;
    try (Scorer s = Models.openScorer(settings("qwen3-tiny", ComputeDtype.FLOAT32, AttentionKernel.AUTO))) {
      f32 = s.modelId();
    }
    try (Scorer s = Models.openScorer(settings("qwen3-tiny", ComputeDtype.BFLOAT16, AttentionKernel.AUTO))) {
      bf16 = s.modelId();
    }
    assertTrue(f32.matches("[^@]+@[0-9a-f]{8}"), f32);
    assertEquals(f32 + "+bfloat16", bf16);
  }

  @Test
  void shouldPickBfloat16OnAGpuAndFloat32OnACpu() {
    assertEquals(ComputeDtype.BFLOAT16, ComputeDtype.resolve(ComputeDtype.AUTO, true));
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolve(ComputeDtype.AUTO, false));
    assertEquals(ComputeDtype.FLOAT16, ComputeDtype.resolve(ComputeDtype.FLOAT16, false));
  }

  private static ModelSettings settings(String model, ComputeDtype dtype, AttentionKernel kernel) {
    ModelSettings d = ModelSettings.defaults();
    return new ModelSettings(SyntheticModels.folder(model, "BF16", 1), TestDevice.name(), 1, 1, 5,
        d.maxBatchTokens(), 0, 128, d.attentionBudget(), kernel, dtype);
  }

  private static Errors errors(String model, ComputeDtype dtype) {
    JsonNode golden = SyntheticModels.golden(model);
    List<int[]> seqs = new ArrayList<>();
    golden.path("texts").forEach(t -> seqs.add(new ObjectMapper().convertValue(t.path("ids"), int[].class)));
    double sum = 0;
    double max = 0;
    double abs = 0;
    int n = 0;
    int top1 = 0;
    double topErr = 0;
    double topAbs = 0;
    int topN = 0;
    try (Scorer scorer = Models.openScorer(settings(model, dtype, AttentionKernel.AUTO))) {
      List<TokenScores> got = scorer.score(seqs);
      for (int i = 0; i < seqs.size(); i++) {
        TokenScores sc = got.get(i);
        for (JsonNode p : golden.path("texts").get(i).path("positions")) {
          int t = p.path("pos").asInt() + 1;                  // TokenScores is target-indexed
          double want = p.path("logprob").asDouble();
          double err = Math.abs(want - sc.logProbs()[t]);
          sum += err;
          max = Math.max(max, err);
          abs += Math.abs(want);
          top1 += p.path("top5").get(0).get(0).asInt() == sc.topIds()[t][0] ? 1 : 0;
          for (JsonNode c : p.path("top5")) {                    // the candidates both have, matched by id
            for (int r = 0; r < sc.topIds()[t].length; r++) {
              if (sc.topIds()[t][r] == c.get(0).asInt()) {
                topErr += Math.abs(c.get(1).asDouble() - sc.topLogProbs()[t][r]);
                topAbs += Math.abs(c.get(1).asDouble());
                topN++;
              }
            }
          }
          n++;
        }
      }
    }
    Errors e = new Errors(sum / n, max, abs / n, top1, n, topErr / topN, topAbs / topN);
    return e;
  }
}
