package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DeadLetter;
import io.toedit.avro.Edit;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.text.TextTokenizer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input, all kinds in one stream: every record is either edited (its text kept exactly
 * outside the edited spans) or dead-lettered with its original bytes and a reason that names the
 * problem; the stream never dies, and in = edited + dead-letter. The real tokenizer, a fake scorer
 * that revises about a third of the tokens (so edits really happen), and the default settings
 * ({@code toedit.input.max.chars=1000000}).
 */
class HostileInputTest {

  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  static final ObjectMapper JSON = new ObjectMapper();
  static final String POISON = "Ein giftiges Dokument, an dem das Modell scheitert ☠.";

  static final TextTokenizer tokenizer = BundledTokenizer.get();

  @TempDir
  Path stateDir;

  /** One hostile record: {@code text} non-null means it must be edited from that text, else dead-lettered. */
  record Case(String kind, byte[] key, byte[] value, String text, String reason) {
  }

  static Case edited(String kind, String id, String text) {
    return new Case(kind, utf8(id), json(id, text), text, null);
  }

  static Case dead(String kind, byte[] key, byte[] value, String reason) {
    return new Case(kind, key, value, null, reason);
  }

  static List<Case> cases() {
    List<Case> c = new ArrayList<>();
    byte[] avro = AvroSerde.raw().encode(RawDocument.newBuilder().setId("avro-ok").setText("Grüße aus Köln").build());
    byte[] truncated = Arrays.copyOf(avro, avro.length - 4);
    byte[] unknown = avro.clone();
    unknown[4] ^= 0x5A;
    byte[] badUtf8Avro = AvroSerde.raw().encode(RawDocument.newBuilder().setId("avro-bad-utf8").setText("ABCD ok").build());
    int at = indexOf(badUtf8Avro, utf8("ABCD"));
    badUtf8Avro[at] = (byte) 0xFF;
    badUtf8Avro[at + 1] = (byte) 0xFE;
    badUtf8Avro[at + 2] = (byte) 0xC3;
    badUtf8Avro[at + 3] = (byte) 0x28;
    String tenMb = "Der Hund lief über die Wiese. ".repeat(10 * 1024 * 1024 / 30 + 1);

    c.add(dead("empty text", utf8("empty"), utf8("{\"id\":\"empty\",\"text\":\"\"}"), "empty text"));
    c.add(dead("whitespace-only text", utf8("ws"), utf8("{\"id\":\"ws\",\"text\":\" \\t\\r\\n\\u2003\\u3000 \"}"),
        "whitespace-only text"));
    c.add(dead("10 MB text over toedit.input.max.chars", utf8("ten-mb"), json("ten-mb", tenMb),
        "oversized text: " + tenMb.length() + " chars > toedit.input.max.chars=1000000"));
    c.add(edited("text of exactly toedit.input.max.chars", "max-chars", "Der Hund lief. ".repeat(66_666) + "Käse, Brot"));
    c.add(edited("one repeated character", "repeat", "a".repeat(20_000)));
    c.add(edited("one repeated CJK character", "repeat-cjk", "猫".repeat(3_000)));
    c.add(dead("invalid UTF-8 in JSON", utf8("bad-utf8-json"),
        new byte[] {'{', '"', 'i', 'd', '"', ':', '"', 'q', '"', ',', '"', 't', 'e', 'x', 't', '"', ':', '"',
            (byte) 0xFF, (byte) 0xC0, 'x', '"', '}'}, "malformed JSON"));
    c.add(dead("invalid UTF-8 in Avro", utf8("avro-bad-utf8"), badUtf8Avro, "invalid UTF-8"));
    c.add(dead("invalid UTF-8 in the key", new byte[] {(byte) 0xC3, (byte) 0x28},
        utf8("{\"id\":\"k\",\"text\":\"Hallo\"}"), "invalid UTF-8 in the record key"));
    c.add(edited("NUL and control characters", "ctrl", "Hallo\u0000Welt\u0007 \u001b[31mrot\u001b[0m\u0008 \u007f\u0085 Ende"));
    c.add(dead("lone high surrogate", utf8("hi-sur"), utf8("{\"id\":\"hi-sur\",\"text\":\"ab\\ud83d c\"}"),
        "lone high surrogate at char 2"));
    c.add(dead("lone low surrogate", utf8("lo-sur"), utf8("{\"id\":\"lo-sur\",\"text\":\"\\ude00 tail\"}"),
        "lone low surrogate at char 0"));
    c.add(edited("right-to-left text", "rtl", "שלום עולם! مرحبا بالعالم، كيف حالك؟ \u202Eabc\u202C"));
    c.add(edited("combining marks", "combining", "Cafe\u0301 n\u0303o Z\u0351\u0352\u0353a\u0354\u0355l\u0356g\u0357o"));
    c.add(edited("emoji with ZWJ, skin tones and flags", "emoji", "Family 👨‍👩‍👧‍👦, thumbs 👍🏽, flag 🇩🇪, 🐉 end."));
    c.add(edited("CJK", "cjk", "从前有一只小猫。日本語の文章です。한국어 문장입니다."));
    c.add(edited("U+2581 in the text", "lower-block", "Once\u2581upon a\u2581\u2581time ▁"));
    c.add(edited("zero-width and BOM characters", "zw", "\uFEFFword\u200Bjoined\u200Dhere\u2060."));
    c.add(edited("private use and noncharacters", "pua", "Symbol \uE000\uF8FF and \uFFFE\uFFFF and \uD83F\uDFFE."));
    c.add(dead("text is a number", utf8("num"), utf8("{\"id\":\"num\",\"text\":1e400}"), "text is not a string"));
    c.add(dead("text is an array", utf8("arr"), utf8("{\"id\":\"arr\",\"text\":[\"a\",\"b\"]}"), "text is not a string"));
    c.add(dead("text is a boolean", utf8("bool"), utf8("{\"id\":\"bool\",\"text\":true}"), "text is not a string"));
    c.add(dead("missing text field", utf8("missing"), utf8("{\"id\":\"missing\",\"body\":\"Hallo\"}"), "missing text"));
    c.add(dead("null key", null, utf8("{\"id\":\"nokey\",\"text\":\"Hallo\"}"), "null key"));
    c.add(dead("null value", utf8("tomb"), null, "null value"));
    c.add(dead("empty value", utf8("zero"), new byte[0], "malformed JSON"));
    c.add(dead("JSON null literal", utf8("jnull"), utf8("null"), "expected an object"));
    c.add(dead("unknown schema fingerprint", utf8("unknown-fp"), unknown, "unknown Avro schema fingerprint"));
    c.add(dead("truncated Avro", utf8("trunc"), truncated, "malformed Avro"));
    c.add(dead("Avro marker only", utf8("marker"), new byte[] {(byte) 0xC3, 0x01}, "Avro"));
    c.add(dead("huge JSON nesting", utf8("deep"), utf8("{\"id\":\"deep\",\"text\":\"ok\",\"metadata\":{\"a\":"
        + "[".repeat(100_000) + "]".repeat(100_000) + "}}"), "malformed JSON"));
    c.add(dead("huge nesting as the text", utf8("deep2"), utf8("{\"id\":\"deep2\",\"text\":"
        + "{\"a\":".repeat(50_000) + "1" + "}".repeat(50_000) + "}"), "malformed JSON"));
    c.add(dead("truncated JSON", utf8("trunc-json"), utf8("{\"id\":\"trunc-json\",\"text\":\"Es war einmal"),
        "malformed JSON"));
    c.add(dead("trailing garbage", utf8("garbage"), utf8("{\"id\":\"garbage\",\"text\":\"a\"}{}"), "malformed JSON"));
    c.add(dead("id is an object", utf8("idobj"), utf8("{\"id\":{\"x\":1},\"text\":\"Hallo\"}"), "id is not a string"));
    c.add(dead("empty id", utf8("noid"), utf8("{\"id\":\"\",\"text\":\"Hallo\"}"), "empty document id"));
    c.add(dead("metadata not an object", utf8("meta"), utf8("{\"id\":\"meta\",\"text\":\"Hallo\",\"metadata\":[1]}"),
        "metadata is not an object"));
    c.add(dead("fractional timestamp", utf8("ts"), utf8("{\"id\":\"ts\",\"text\":\"Hallo\",\"timestamp\":1.5}"),
        "timestamp must be an integer"));
    c.add(dead("model fails on the document", utf8("poison"), json("poison", POISON), "fake model failure"));
    c.add(new Case("valid Avro", utf8("avro-ok"), avro, "Grüße aus Köln", null));
    c.add(new Case("a real U+FFFD in Avro", utf8("avro-fffd"), AvroSerde.raw().encode(RawDocument.newBuilder()
        .setId("avro-fffd").setText("Ersatz\uFFFDzeichen \uFFFD ist gültig").build()),
        "Ersatz\uFFFDzeichen \uFFFD ist gültig", null));
    c.add(edited("a real U+FFFD in JSON", "json-fffd", "Ersatz\uFFFDzeichen"));
    c.add(edited("duplicate id (first)", "dup", "Zweimal derselbe Schlüssel — twice the same id."));
    c.add(edited("duplicate id (second)", "dup", "Zweimal derselbe Schlüssel — twice the same id."));
    return c;
  }

  @Test
  void shouldEditOrDeadLetterEveryHostileRecordAndKeepRunning() throws Exception {
    List<Case> cases = cases();
    assertTrue(cases.size() >= 30, "at least 30 kinds");
    FakeScorer scorer = FakeScorer.everyNth(tokenizer.vocabulary().size(), 3,
        Set.of(FakeScorer.boxed(tokenizer.encode(POISON).ids())));
    // A text of toedit.input.max.chars edits into a record over Kafka's default 1 MiB limit; here the
    // limit is raised (as for a topic with a larger max.message.bytes) so such a text is edited.
    // ToEditTopologyTest and OversizedRecordIT cover the default limit.
    PipelineConfig config = PipelineConfig.defaults().with("toedit.batch.max.latency.ms", "1000")
        .with("toedit.output.max.record.bytes", "8388608");
    try (TopologyTestDriver driver = new TopologyTestDriver(
        ToEditTopology.build(ToEditTopologyTest.onStreamThread(config), tokenizer, scorer, EditConfig.defaults()),
        props(), T0)) {
      TestInputTopic<byte[], byte[]> input = driver.createInputTopic(config.inputTopic(), new ByteArraySerializer(),
          new ByteArraySerializer(), T0, Duration.ofMillis(1));
      TestOutputTopic<String, EditedDocument> edited = driver.createOutputTopic(config.editedTopic(),
          new StringDeserializer(), AvroSerde.edited().deserializer());
      TestOutputTopic<byte[], DeadLetter> dlq = driver.createOutputTopic(config.deadLetterTopic(),
          new ByteArrayDeserializer(), AvroSerde.deadLetter().deserializer());

      for (Case c : cases) {
        input.pipeInput(new TestRecord<>(c.key(), c.value()));
      }
      // A normal record after all of them: the stream is still alive and processing.
      input.pipeInput(new TestRecord<>(utf8("after"), json("after", "Danach geht es normal weiter.")));
      driver.advanceWallClockTime(Duration.ofSeconds(5));

      List<TestRecord<String, EditedDocument>> out = edited.readRecordsToList();
      List<DeadLetter> dead = dlq.readValuesToList();
      assertEquals(cases.size() + 1, out.size() + dead.size(), "in = edited + dead-letter");
      assertEquals(0, driver.getKeyValueStore(ToEditTopology.BUFFER_STORE).approximateNumEntries(),
          "nothing left buffered");

      Map<Long, DeadLetter> deadByOffset = new HashMap<>();
      for (DeadLetter d : dead) {
        assertEquals(null, deadByOffset.put(d.getOffset(), d), "one dead letter per offset");
      }
      Map<String, List<EditedDocument>> outById = new LinkedHashMap<>();
      for (TestRecord<String, EditedDocument> r : out) {
        assertEquals(r.key(), r.value().getId());
        outById.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
      }
      long totalEdits = 0;
      for (int offset = 0; offset < cases.size(); offset++) {
        Case c = cases.get(offset);
        DeadLetter d = deadByOffset.get((long) offset);
        if (c.text() == null) {
          assertTrue(d != null, c.kind() + ": expected a dead letter");
          assertTrue(d.getReason().contains(c.reason()), c.kind() + ": reason was '" + d.getReason() + "'");
          assertFalse(d.getStage().isBlank(), c.kind());
          int kept = PipelineConfig.defaults().dlqMaxValueBytes();
          if (c.value() != null && c.value().length > kept) {
            // Kept up to toedit.dlq.max.value.bytes, with the whole value's length and SHA-256.
            assertTrue(d.getValueTruncated(), c.kind());
            assertArrayEquals(Arrays.copyOf(c.value(), kept), bytes(d.getValue()), c.kind() + ": first bytes");
            assertEquals((long) c.value().length, d.getValueLength(), c.kind());
            assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(c.value())), d.getValueSha256(), c.kind());
          } else {
            assertFalse(d.getValueTruncated(), c.kind());
            assertArrayEquals(c.value(), d.getValue() == null ? null : bytes(d.getValue()), c.kind() + ": original bytes");
          }
          assertArrayEquals(c.key(), d.getKey() == null ? null : bytes(d.getKey()), c.kind() + ": original key");
        } else {
          assertEquals(null, d, () -> c.kind() + ": unexpectedly dead-lettered: " + d.getReason());
          String id = new String(c.key(), StandardCharsets.UTF_8);
          List<EditedDocument> docs = outById.get(id);
          assertTrue(docs != null && !docs.isEmpty(), c.kind() + ": no output");
          EditedDocument e = docs.get(0);
          assertKeptOutsideEdits(c.kind(), c.text(), e);
          totalEdits += e.getEdits().size();
        }
      }
      assertEquals(2, outById.get("dup").size(), "both records of a duplicate id are edited");
      assertEquals(AvroSerde.edited().encode(outById.get("dup").get(0)).length,
          AvroSerde.edited().encode(outById.get("dup").get(1)).length);
      assertArrayEquals(AvroSerde.edited().encode(outById.get("dup").get(0)),
          AvroSerde.edited().encode(outById.get("dup").get(1)), "same id and text give the same record");
      assertTrue(outById.containsKey("after"), "the stream kept running");
      assertTrue(totalEdits > 0, "the fake scorer made edits, so preservation was really checked");
    }
  }

  /**
   * The original text outside the (merged) edit spans appears in the output, in order, with the
   * edited spans replaced by their new pieces, and the output is the original when nothing changed.
   */
  static void assertKeptOutsideEdits(String kind, String original, EditedDocument e) {
    if (e.getEdits().isEmpty()) {
      assertEquals(original, e.getText(), kind + ": no edit, so the text must be kept exactly");
      return;
    }
    List<Edit> edits = new ArrayList<>(e.getEdits());
    edits.sort(Comparator.comparingInt(Edit::getCharStart));
    String out = e.getText();
    int cursorOriginal = 0;
    int cursorOut = 0;
    for (Edit ed : edits) {
      if (ed.getCharStart() < cursorOriginal) {
        continue; // byte-fallback tokens of one character share its span
      }
      String kept = original.substring(cursorOriginal, ed.getCharStart());
      int found = out.indexOf(kept, cursorOut);
      assertTrue(found >= 0, kind + ": kept text '" + abbreviate(kept) + "' missing from the output");
      if (cursorOriginal == 0) {
        assertEquals(0, found, kind + ": the output must start with the unedited prefix");
      }
      cursorOut = found + kept.length();
      cursorOriginal = ed.getCharEnd();
    }
    String tail = original.substring(cursorOriginal);
    assertTrue(out.endsWith(tail) && out.length() - tail.length() >= cursorOut,
        kind + ": the unedited tail '" + abbreviate(tail) + "' must end the output");
  }

  static String abbreviate(String s) {
    return s.length() <= 60 ? s : s.substring(0, 60) + "…";
  }

  Properties props() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "toedit-hostile-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9");
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    return p;
  }

  static byte[] json(String id, String text) {
    try {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("id", id);
      m.put("text", text);
      return JSON.writeValueAsBytes(m);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("needle not found");
  }
}
