package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.text.Tokenized;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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

  @Test
  void shouldNameTheMissingFile() {
    var e = assertThrows(IllegalArgumentException.class, () -> HfTokenizer.open(Path.of("no/such/dir")));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
