package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real Qwen3 tokenizer against the float64 goldens of the four synthetic models (written by an
 * independent Python byte-level BPE): ids of every golden text, context token first, and the decoded
 * bytes, piece and special flag of every id that appears in them or in their top-5.
 */
class TokenBytesGoldenTest {

  @TempDir
  static Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"llama3-tiny", "mistral-tiny", "qwen2-tiny", "qwen3-tiny"})
  void idsAndBytesShouldEqualTheGolden(String model) throws Exception {
    JsonNode golden = new ObjectMapper().readTree(SyntheticModels.ROOT.resolve(model).resolve("golden.json").toFile());
    try (HfTokenizer tok = HfTokenizer.open(SyntheticModels.tokenizerFolder(tmp, model))) {
      Vocabulary v = tok.vocabulary();
      assertEquals(golden.path("tokenizer_size").asInt(), v.size());
      assertEquals(151643, v.bosId());
      assertTrue(tok.contextToken().source().startsWith("config.json bos_token_id"), tok.contextToken().source());
      int texts = 0;
      for (JsonNode t : golden.path("texts")) {
        int[] expected = new ObjectMapper().convertValue(t.path("ids"), int[].class);
        Tokenized got = tok.encode(t.path("text").asText());
        assertArrayEquals(expected, got.ids(), t.path("name").asText());
        texts++;
      }
      assertEquals(6, texts);
      int checked = 0;
      int padded = 0;
      int partial = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = golden.path("tokens").fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        int id = Integer.parseInt(e.getKey());
        JsonNode g = e.getValue();
        if (g.path("piece").isNull()) {
          assertTrue(id >= v.size(), "a null piece is a padded row: " + id);
          assertNull(v.bytes(id));
          assertNull(v.surface(id));
          padded++;
          continue;
        }
        assertEquals(g.path("piece").asText(), v.piece(id), "piece of " + id);
        assertEquals(g.path("hex").asText(), HexFormat.of().formatHex(v.bytes(id)), "bytes of " + id + " " + g);
        boolean special = g.path("special").asBoolean(false);
        assertEquals(special, v.isSpecial(id), "special flag of " + id + " " + g);
        if (!special) {
          assertEquals(g.path("text").isNull() ? null : g.path("text").asText(), v.surface(id), "text of " + id);
          partial += g.path("text").isNull() ? 1 : 0;
        }
        checked++;
      }
      assertTrue(checked > 500, "checked " + checked);
      assertTrue(partial > 0, "the goldens include partial-character tokens");
      if (!model.equals("llama3-tiny") && !model.equals("mistral-tiny")) {
        assertTrue(padded > 0, model + " has padded ids in its top-5");
      }
      assertFalse(v.isSpecial(151658), "</tool_call> is an added token but not special");
    }
  }
}
