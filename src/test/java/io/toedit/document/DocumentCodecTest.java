package io.toedit.document;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class DocumentCodecTest {

  private final DocumentCodec codec = DocumentCodec.standard(20, "toedit.input.max.chars");

  @Test
  void shouldParseEveryFieldAndKeepNumbersExactly() throws Exception {
    JsonDocument d = codec.decode(("{\"id\":7,\"text\":\"Hallo 😀\",\"source\":{\"a\":1},"
        + "\"metadata\":{\"s\":\"x\",\"n\":2.50,\"b\":true},\"timestamp\":1732528800000,\"other\":[1]}")
        .getBytes(StandardCharsets.UTF_8), "key");
    assertEquals("7", d.id());
    assertEquals("Hallo 😀", d.text());
    assertEquals("{\"a\":1}", d.source());
    assertEquals(Map.of("s", "x", "n", "2.50", "b", "true"), d.metadata());
    assertEquals(Instant.ofEpochMilli(1732528800000L), d.timestamp());
    assertTrue(d.json().has("other"));
    assertEquals("src", codec.decode("{\"text\":\"a\"}", "k").toRawDocument("src").getSource());
  }

  @Test
  void shouldUseTheFallbackIdOnlyWhenTheIdIsAbsentOrNull() throws Exception {
    assertEquals("k", codec.decode("{\"text\":\"a\"}", "k").id());
    assertEquals("k", codec.decode("{\"id\":null,\"text\":\"a\"}", "k").id());
    assertEquals("x", codec.decode("{\"id\":\"x\",\"text\":\"a\"}", "k").id());
    assertNull(codec.decode("{\"text\":\"a\"}", "k").timestamp());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "not JSON                 | {not json}                                   | MALFORMED_JSON",
      "trailing data            | {\"text\":\"a\"} x                           | MALFORMED_JSON",
      "empty                    | ''                                           | NOT_AN_OBJECT",
      "array                    | [1,2]                                        | NOT_AN_OBJECT",
      "no text                  | {\"body\":\"a\"}                             | MISSING_TEXT",
      "null text                | {\"text\":null}                              | MISSING_TEXT",
      "number text              | {\"text\":42}                                | TEXT_NOT_A_STRING",
      "empty text               | {\"text\":\"\"}                              | EMPTY_TEXT",
      "blank text               | {\"text\":\" \\t\"}                          | WHITESPACE_TEXT",
      "21 chars                 | {\"text\":\"aaaaaaaaaaaaaaaaaaaaa\"}         | OVERSIZED_TEXT",
      "lone surrogate           | {\"text\":\"a\\ud800\"}                      | INVALID_UNICODE",
      "id object                | {\"id\":{},\"text\":\"a\"}                   | ID_NOT_A_STRING",
      "blank id                 | {\"id\":\" \",\"text\":\"a\"}                | EMPTY_ID",
      "metadata array           | {\"text\":\"a\",\"metadata\":[1]}            | METADATA_NOT_AN_OBJECT",
      "fractional timestamp     | {\"text\":\"a\",\"timestamp\":1.5}           | BAD_TIMESTAMP",
      "string timestamp         | {\"text\":\"a\",\"timestamp\":\"1\"}         | BAD_TIMESTAMP",
  })
  void shouldRejectWithTheReasonOfTheTable(String kind, String json, Rejection expected) {
    InvalidDocumentException e = assertThrows(InvalidDocumentException.class,
        () -> codec.decode(json.getBytes(StandardCharsets.UTF_8), "fallback"), kind);
    assertEquals(expected, e.rejection(), kind + ": " + e.getMessage());
    assertTrue(e.getMessage().startsWith(expected.prefix()), e.getMessage());
  }

  @Test
  void shouldNameTheLimitAndThePositions() {
    InvalidDocumentException big = assertThrows(InvalidDocumentException.class,
        () -> codec.decode("{\"text\":\"aaaaaaaaaaaaaaaaaaaaa\"}", "k"));
    assertEquals("oversized text: 21 chars > toedit.input.max.chars=20", big.getMessage());
    InvalidDocumentException low = assertThrows(InvalidDocumentException.class,
        () -> codec.decode("{\"text\":\"ab\\ude00\"}", "k"));
    assertEquals("invalid Unicode: lone low surrogate at char 2", low.getMessage());
    InvalidDocumentException noId = assertThrows(InvalidDocumentException.class,
        () -> codec.decode("{\"text\":\"a\"}", null));
    assertEquals(Rejection.MISSING_ID, noId.rejection());
  }

  @Test
  void shouldRejectInvalidUtf8WithTheOffsetOfTheFirstBadByte() {
    byte[] bytes = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    InvalidDocumentException e = assertThrows(InvalidDocumentException.class, () -> codec.decode(bytes, "k"));
    assertEquals("malformed JSON: invalid UTF-8 at byte 9", e.getMessage());
    // a surrogate encoded in UTF-8 (CESU) is not UTF-8 either
    byte[] cesu = {'{', '"', 't', 'e', 'x', 't', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'};
    assertEquals(Rejection.MALFORMED_JSON,
        assertThrows(InvalidDocumentException.class, () -> codec.decode(cesu, "k")).rejection());
  }

  @Test
  void shouldFindUnpairedSurrogates() {
    assertEquals(-1, DocumentCodec.unpairedSurrogate("a😀b"));
    assertEquals(1, DocumentCodec.unpairedSurrogate("a\ud83d"));
    assertEquals(0, DocumentCodec.unpairedSurrogate("\ude00a"));
    assertEquals(2, DocumentCodec.unpairedSurrogate("😀\ude00"));
  }

  @Test
  void shouldDetectGzipByItsMagicBytesNotItsName() throws IOException {
    byte[] plain = "{\"text\":\"a\"}\n".getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write(plain);
    }
    assertTrue(Gzip.isGzip(gz.toByteArray()));
    assertFalse(Gzip.isGzip(plain));
    assertFalse(Gzip.isGzip(new byte[] {0x1f}));
    try (InputStream in = Gzip.decompressIfGzip(new ByteArrayInputStream(gz.toByteArray()), 16)) {
      assertEquals(new String(plain, StandardCharsets.UTF_8), new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    try (InputStream in = Gzip.decompressIfGzip(new ByteArrayInputStream(plain), 16)) {
      assertEquals(new String(plain, StandardCharsets.UTF_8), new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    try (InputStream in = Gzip.decompressIfGzip(new ByteArrayInputStream(new byte[0]), 16)) {
      assertEquals(0, in.readAllBytes().length);
    }
  }
}
