package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
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

  /**
   * Llama 3.1 Instruct's shape on the byte-level vocabulary: a post-processor that is a Sequence of
   * ByteLevel and a TemplateProcessing adding a BOS, and an EOS list in config.json. The post-processor's
   * BOS is the context token, every listed EOS is special, and {@code #} (id 2, which a first-of-list
   * misreading took for the EOS) is text.
   */
  @Test
  void llama3StyleTemplateAndEosListShouldGiveTheBosAndEveryEos() throws Exception {
    Path dir = SyntheticModels.tokenizerFolder(tmp, "llama3-tiny");
    ObjectMapper json = new ObjectMapper();
    ObjectNode t = (ObjectNode) json.readTree(dir.resolve("tokenizer.json").toFile());
    ObjectNode post = json.createObjectNode().put("type", "Sequence");
    post.putArray("processors").add(t.get("post_processor")).add(json.readTree(
        "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|im_start|>\",\"type_id\":0}},"
            + "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{\"<|im_start|>\":"
            + "{\"id\":\"<|im_start|>\",\"ids\":[151644],\"tokens\":[\"<|im_start|>\"]}}}"));
    t.set("post_processor", post);
    json.writeValue(dir.resolve("tokenizer.json").toFile(), t);
    ObjectNode c = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
    c.putArray("eos_token_id").add(151643).add(151645).add(151647);
    json.writeValue(dir.resolve("config.json").toFile(), c);
    try (HfTokenizer tok = HfTokenizer.open(dir)) {
      Vocabulary v = tok.vocabulary();
      assertEquals(151644, tok.contextToken().id());
      assertEquals("tokenizer.json post_processor", tok.contextToken().source());
      Tokenized got = tok.encode("# Title");
      assertEquals(151644, got.ids()[0]);
      assertEquals(2, got.ids()[1], "'#' is id 2");
      assertEquals(1, java.util.Arrays.stream(got.ids()).filter(id -> id == 151644).count(), "the BOS is added once");
      assertFalse(v.isSpecial(2), "'#' is text");
      assertTrue(v.isSpecial(151643) && v.isSpecial(151645) && v.isSpecial(151647));
      assertEquals(151643, v.eosId());
      assertEquals(LlamaConfig.load(dir).eosTokenId(), v.eosId(), "LlamaConfig and the tokenizer agree");
    }
  }
}
