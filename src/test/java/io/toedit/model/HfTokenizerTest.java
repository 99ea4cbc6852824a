package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.text.Tokenized;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfTokenizerTest {

  static final Path MODEL = Path.of("src/main/resources/models/stories260k");
  static HfTokenizer tok;

  @BeforeAll
  static void open() {
    tok = HfTokenizer.open(MODEL);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  @Test
  void shouldReproduceGoldenIdsOfAllSixTexts() throws Exception {
    JsonNode golden = new ObjectMapper().readTree(Path.of("src/test/resources/golden/golden.json").toFile());
    int checked = 0;
    for (JsonNode t : golden.path("texts")) {
      int[] expected = new ObjectMapper().convertValue(t.path("ids"), int[].class);
      Tokenized got = tok.encode(t.path("text").asText());
      assertArrayEquals(expected, got.ids(), "ids of " + t.path("text").asText());
      checked++;
    }
    assertEquals(6, checked);
  }

  @Test
  void shouldNotTruncateLongTexts() {
    String text = "Once upon a time there was a little cat. ".repeat(200);
    Tokenized got = tok.encode(text);
    assertTrue(got.length() > 1500, "got " + got.length());
    assertEquals(text.length(), got.charEnd()[got.length() - 1]);
  }

  @Test
  void shouldReportCharacterSpansThatCoverTheText() {
    String text = "Lily saw a café — 猫 😀 and 𝔘 too!";
    Tokenized got = tok.encode(text);
    assertEquals(1, got.ids()[0]);
    for (int t = 1; t < got.length(); t++) {
      assertTrue(got.charStart()[t] <= got.charEnd()[t]);
      assertTrue(got.charEnd()[t] <= text.length());
      assertTrue(got.charStart()[t] >= got.charStart()[t - 1]);
    }
    assertEquals(text.length(), got.charEnd()[got.length() - 1]);
    // the emoji's four byte tokens all cover the surrogate pair
    int emoji = text.indexOf("😀");
    int covering = 0;
    for (int t = 1; t < got.length(); t++) {
      if (got.charStart()[t] == emoji) {
        assertEquals(emoji + 2, got.charEnd()[t]);
        covering++;
      }
    }
    assertEquals(4, covering);
  }

  @Test
  void vocabularyShouldMarkSpecialsAndMapSurfaces() {
    var v = tok.vocabulary();
    assertEquals(512, v.size());
    assertTrue(v.isSpecial(0) && v.isSpecial(1) && v.isSpecial(2));
    assertEquals(" the", v.surface(265));
    assertNull(v.surface(3 + 0xE2), "a lone UTF-8 lead byte is not text");
    assertEquals("A", v.surface(3 + 'A'));
  }

  /** A copy of the stories260k tokenizer folder with its config.json and tokenizer.json rewritten. */
  static Path folder(Path tmp, String config, java.util.function.UnaryOperator<ObjectNode> tokenizer)
      throws Exception {
    ObjectMapper json = new ObjectMapper();
    Files.copy(MODEL.resolve("tokenizer_config.json"), tmp.resolve("tokenizer_config.json"));
    ObjectNode t = (ObjectNode) json.readTree(MODEL.resolve("tokenizer.json").toFile());
    Files.writeString(tmp.resolve("tokenizer.json"), json.writeValueAsString(tokenizer.apply(t)));
    Files.writeString(tmp.resolve("config.json"), config);
    return tmp;
  }

  @Test
  void shouldTreatEveryEosOfAListAsSpecialAndAgreeWithLlamaConfig(@TempDir Path tmp) throws Exception {
    String config = Files.readString(MODEL.resolve("config.json")).replace("\"eos_token_id\": 2",
        "\"eos_token_id\": [2, 300, 301]");
    Path dir = folder(tmp, config, t -> t);
    LlamaConfig cfg = LlamaConfig.load(dir);
    try (HfTokenizer t = HfTokenizer.open(dir)) {
      var v = t.vocabulary();
      assertTrue(v.isSpecial(300) && v.isSpecial(301), "every eos id of the list is special");
      assertFalse(v.isSpecial(302));
      assertEquals(cfg.eosTokenId(), v.eosId());
      assertEquals(cfg.bosTokenId(), v.bosId());
      assertArrayEquals(new int[] {2, 300, 301}, TokenIds.read(new ObjectMapper().readTree(config), "eos_token_id", "c"));
      assertEquals("tokenizer.json post_processor", t.contextToken().source());
      assertEquals("<s>", t.contextToken().piece());
    }
  }

  @Test
  void shouldRejectABadTokenIdNamingTheField() throws Exception {
    var c = new ObjectMapper().readTree("{\"eos_token_id\": [2, \"x\"]}");
    var e = assertThrows(IllegalArgumentException.class, () -> TokenIds.read(c, "eos_token_id", "m/config.json"));
    assertTrue(e.getMessage().contains("m/config.json") && e.getMessage().contains("eos_token_id"), e.getMessage());
  }

  @Test
  void shouldRejectAnUnsupportedDecoderNamingTheFileAndField(@TempDir Path tmp) throws Exception {
    Path dir = folder(tmp, Files.readString(MODEL.resolve("config.json")), t -> {
      ((ObjectNode) t.get("decoder").get("decoders").get(1)).put("type", "WordPiece");
      return t;
    });
    var e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.open(dir));
    assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("decoder.decoders[1].type")
        && e.getMessage().contains("WordPiece"), e.getMessage());
  }

  @Test
  void shouldRejectARegexReplaceAndAnUnsupportedModel(@TempDir Path tmp) throws Exception {
    Path a = Files.createDirectory(tmp.resolve("a"));
    folder(a, Files.readString(MODEL.resolve("config.json")), t -> {
      ((ObjectNode) t.get("decoder").get("decoders").get(0).get("pattern")).removeAll().put("Regex", "x+");
      return t;
    });
    var e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.open(a));
    assertTrue(e.getMessage().contains("decoder.decoders[0].pattern"), e.getMessage());
    Path b = Files.createDirectory(tmp.resolve("b"));
    folder(b, Files.readString(MODEL.resolve("config.json")), t -> {
      ((ObjectNode) t.get("model")).put("type", "WordLevel");
      return t;
    });
    e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.open(b));
    assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("model.type"), e.getMessage());
  }

  @Test
  void withoutAPostProcessorBosTheContextTokenIsTheConfigBosElseAnError(@TempDir Path tmp) throws Exception {
    Path a = Files.createDirectory(tmp.resolve("a"));
    String config = Files.readString(MODEL.resolve("config.json"));
    folder(a, config.replace("\"bos_token_id\": 1", "\"bos_token_id\": 2"), t -> {
      t.putNull("post_processor");
      return t;
    });
    try (HfTokenizer t = HfTokenizer.open(a)) {
      assertEquals(2, t.contextToken().id());
      assertTrue(t.contextToken().source().contains("config.json bos_token_id"), t.contextToken().source());
      assertEquals(2, t.encode("Once").ids()[0]);
    }
    Path b = Files.createDirectory(tmp.resolve("b"));
    folder(b, config.replace("\"bos_token_id\": 1,", ""), t -> {
      t.putNull("post_processor");
      return t;
    });
    Files.writeString(b.resolve("tokenizer_config.json"), "{}");
    var e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.open(b));
    assertTrue(e.getMessage().contains("post_processor") && e.getMessage().contains("bos_token_id"), e.getMessage());
  }

  @Test
  void bytesShouldFollowTheDecoder() {
    var v = tok.vocabulary();
    assertArrayEquals(" the".getBytes(java.nio.charset.StandardCharsets.UTF_8), v.bytes(265));
    assertArrayEquals(new byte[] {(byte) 0xE2}, v.bytes(3 + 0xE2));
    assertArrayEquals("<s>".getBytes(java.nio.charset.StandardCharsets.UTF_8), v.bytes(1));
    assertNull(v.bytes(512), "beyond the tokenizer: no bytes");
    assertTrue(v.isSpecial(512));
  }

  /** A Unigram model with a Metaspace pre-tokenizer and decoder (T5-style SentencePiece conversions). */
  @Test
  void unigramWithMetaspaceShouldGiveBytesSpansAndTheDummyPrefix(@TempDir Path tmp) throws Exception {
    String metaspace = "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\","
        + "\"split\":true}";
    Files.writeString(tmp.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
        + "\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"single_word\":false,\"lstrip\":false,"
        + "\"rstrip\":false,\"normalized\":false,\"special\":true},{\"id\":1,\"content\":\"<s>\","
        + "\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
        + "\"normalizer\":null,\"pre_tokenizer\":" + metaspace + ",\"decoder\":" + metaspace + ","
        + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\","
        + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],\"special_tokens\":{\"<s>\":"
        + "{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
        + "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"byte_fallback\":false,\"vocab\":[[\"<unk>\",0.0],"
        + "[\"<s>\",0.0],[\"\u2581\",-3.0],[\"\u2581ab\",-1.0],[\"\u2581c\",-1.0],[\"a\",-2.0],[\"b\",-2.0],"
        + "[\"c\",-2.0],[\"\u2581a\",-2.5]]}}");
    Files.writeString(tmp.resolve("config.json"), "{}");
    try (HfTokenizer t = HfTokenizer.open(tmp)) {
      var v = t.vocabulary();
      assertEquals(9, v.size());
      assertArrayEquals(" ab".getBytes(java.nio.charset.StandardCharsets.UTF_8), v.bytes(3));
      assertEquals(" c", v.surface(4));
      assertEquals("tokenizer.json post_processor", t.contextToken().source());
      Tokenized got = t.encode("ab c");
      assertArrayEquals(new int[] {1, 3, 4}, got.ids());
      // " ab c" is the text after the decoder's leading space: the first token covers "ab"
      assertArrayEquals(new int[] {0, 0, 2}, got.charStart());
      assertArrayEquals(new int[] {0, 2, 4}, got.charEnd());
    }
  }

  /** Texts whose ids and spans both encode paths must agree on (corpus, scripts, NFD input, odd characters). */
  static java.util.List<String> pathTexts() throws Exception {
    java.util.List<String> texts = new java.util.ArrayList<>(java.util.List.of("", " ", "a", "  two  spaces ",
        "Lily saw a café — 猫 😀 and 𝔘 too!", "cafe\u0301 nai\u0308ve (NFD)", "lone \uD800 surrogate",
        "tabs\tand\nnew lines\r\n", "\u0000 nul and \uFEFF BOM", "ÅÄÖ ß Ω Я ع क 한국어 🇩🇪 👩‍👩‍👧"));
    ObjectMapper json = new ObjectMapper();
    for (JsonNode t : json.readTree(Path.of("src/test/resources/golden/golden.json").toFile()).path("texts")) {
      texts.add(t.path("text").asText());
    }
    for (String line : Files.readAllLines(Path.of("src/test/resources/models/synthetic/texts.jsonl"))) {
      if (!line.isBlank()) {
        texts.add(json.readTree(line).path("text").asText());
      }
    }
    try (var in = new java.util.zip.GZIPInputStream(
        Files.newInputStream(Path.of("src/test/resources/corpora/tinystories_valid.jsonl.gz")));
        var r = new java.io.BufferedReader(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))) {
      String line;
      for (int i = 0; i < 100 && (line = r.readLine()) != null; i++) {
        texts.add(json.readTree(line).path("text").asText());
      }
    }
    return texts;
  }

  static void assertSamePaths(HfTokenizer t, java.util.List<String> texts) {
    assertTrue(t.direct(), "DJL prepares the text in no way here, so encode calls the native encode directly");
    for (String text : texts) {
      Tokenized fast = t.encode(text);
      Tokenized djl = t.encodeThroughDjl(text);
      assertArrayEquals(djl.ids(), fast.ids(), "ids of " + text);
      assertArrayEquals(djl.charStart(), fast.charStart(), "span starts of " + text);
      assertArrayEquals(djl.charEnd(), fast.charEnd(), "span ends of " + text);
    }
    assertThrows(NullPointerException.class, () -> t.encode(null));
  }

  @Test
  void directEncodeShouldGiveDjlsIdsAndSpans() throws Exception {
    assertSamePaths(tok, pathTexts());
  }

  /** The Qwen3 tokenizer normalises (NFC): NFD input takes the character-offset spans of the native encoding. */
  @Test
  void directEncodeShouldGiveDjlsIdsAndSpansWhenTheTokenizerNormalises(@TempDir Path tmp) throws Exception {
    Path dir = SyntheticModels.tokenizerFolder(tmp, "qwen3-tiny");
    try (HfTokenizer t = HfTokenizer.open(dir)) {
      assertSamePaths(t, pathTexts());
    }
  }

  @Test
  void shouldNameTheMissingFile() {
    var e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.open(Path.of("no/such/dir")));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
