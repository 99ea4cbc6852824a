package io.toedit.drift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.model.BundledModel;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The test-only generator's forward reproduces the float64 golden numbers of stories260k. */
class KvLlamaTest {

  @Test
  void shouldMatchGoldenLogProbsAndGreedyDecode() throws Exception {
    KvLlama model = new KvLlama(BundledModel.directory());
    JsonNode golden;
    try (InputStream in = KvLlamaTest.class.getResourceAsStream("/golden/golden.json")) {
      golden = new ObjectMapper().readTree(in);
    }
    for (JsonNode text : golden.get("texts")) {
      int[] ids = ids(text.get("ids"));
      double[] lp = model.logProbs(ids);
      double sum = 0;
      for (int t = 1; t < lp.length; t++) {
        sum += lp[t];
      }
      assertEquals(text.get("sum_logprob").asDouble(), sum, 2e-3 * ids.length, text.get("name").asText());
    }
    int[] expected = ids(golden.get("greedy").get("ids"));
    int[] greedy = new int[expected.length];
    greedy[0] = expected[0];
    model.reset();
    for (int t = 1; t < expected.length; t++) {
      double[] next = model.next(greedy[t - 1]);
      int best = 0;
      for (int v = 1; v < next.length; v++) {
        best = next[v] > next[best] ? v : best;
      }
      greedy[t] = best;
    }
    assertArrayEquals(expected, greedy);
  }

  private static int[] ids(JsonNode array) {
    int[] ids = new int[array.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = array.get(i).asInt();
    }
    return ids;
  }
}
