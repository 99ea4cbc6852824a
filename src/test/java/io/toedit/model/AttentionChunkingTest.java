package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Causal query chunking of attention: chunk bounds respect the budget and do not change the scores. */
class AttentionChunkingTest {

  @Test
  void shouldCoverEveryQueryOnceWithinBudgetWhenChunking() {
    for (long budget : new long[] {1, 5_000, 262_144, 1L << 40}) {
      int[] b = Attention.queryChunks(512, 32, budget);
      assertEquals(0, b[0]);
      assertEquals(512, b[b.length - 1]);
      for (int c = 1; c < b.length; c++) {
        int n = b[c] - b[c - 1];
        assertTrue(n >= 1, "chunk " + c + " is empty for budget " + budget);
        assertTrue(n == 1 || 32L * n * b[c] <= budget, "chunk " + c + " exceeds budget " + budget);
      }
    }
    assertArrayEquals(new int[] {0, 512}, Attention.queryChunks(512, 32, 1L << 40));
  }

  @Test
  void shouldGiveTheSameScoresWhenAttentionIsChunked() {
    Engine.getEngine("PyTorch");
    var dir = TestCheckpoints.MODEL;
    try (LlamaModel model = new LlamaModel(dir, LlamaConfig.load(dir), NDManager.newBaseManager(Device.cpu(),
        "PyTorch"), 512, AttentionKernel.NDARRAY)) {
      Random rnd = new Random(7);
      int[][] ids = new int[3][300];
      int[] lengths = {300, 211, 17};   // right-padded rows, as the scorer builds them
      for (int[] row : ids) {
        for (int j = 0; j < row.length; j++) {
          row[j] = 1 + rnd.nextInt(511);
        }
      }
      LlamaModel.Output whole = model.forward(ids, lengths, 8, Long.MAX_VALUE);
      for (long budget : new long[] {1, 20_000, 262_144}) {
        LlamaModel.Output chunked = model.forward(ids, lengths, 8, budget);
        for (int b = 0; b < ids.length; b++) {
          for (int t = 0; t < lengths[b] - 1; t++) {
            int row = b * 300 + t;
            assertEquals(whole.targetLogProbs()[row], chunked.targetLogProbs()[row], 1e-4,
                "budget " + budget + " row " + b + " position " + t);
          }
        }
      }
    }
  }
}
