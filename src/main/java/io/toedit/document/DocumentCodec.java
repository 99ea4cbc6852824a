package io.toedit.document;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The JSON document format, parsed and validated in one place for the stream's JSON input,
 * {@code edit}'s and {@code drift}'s JSONL lines and {@code produce}'s lines: one UTF-8 object
 * {@code {"id", "text", "source", "metadata", "timestamp"}}.
 *
 * <ul>
 *   <li>{@code text} is required: a string, not empty, not only whitespace, at most
 *       {@code maxChars} UTF-16 code units, without a lone surrogate;</li>
 *   <li>{@code id} is a string or a number (kept as its JSON text); absent or null, it is the
 *       caller's fallback (the record key, the line number); it must not be blank;</li>
 *   <li>{@code source}: a string, or other JSON kept as its text;</li>
 *   <li>{@code metadata}: an object; values that are not strings are kept as their JSON text;</li>
 *   <li>{@code timestamp}: an integer number of epoch milliseconds;</li>
 *   <li>the bytes are strict UTF-8, and nothing but whitespace follows the object.</li>
 * </ul>
 *
 * <p>Numbers are read exactly ({@code 2.50} stays {@code 2.50}), so a caller that writes the
 * object back ({@code edit}) changes no field it does not own. A problem is an
 * {@link InvalidDocumentException} whose reason starts with a {@link Rejection} prefix.
 * Thread-safe.
 */
public final class DocumentCodec {

  /** The field names of the format. */
  public static final String TEXT = "text";
  public static final String ID = "id";
  public static final String SOURCE = "source";
  public static final String METADATA = "metadata";
  public static final String TIMESTAMP = "timestamp";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
      .build();

  private final String textField;
  private final String idField;
  private final int maxChars;
  private final String maxCharsSetting;

  /**
   * @param textField the field holding the text ({@code text} by default)
   * @param idField the field holding the id ({@code id} by default)
   * @param maxChars longest accepted text, in UTF-16 code units
   * @param maxCharsSetting the setting that raises {@code maxChars}, named in the reason
   */
  public DocumentCodec(String textField, String idField, int maxChars, String maxCharsSetting) {
    this.textField = Objects.requireNonNull(textField);
    this.idField = Objects.requireNonNull(idField);
    if (maxChars < 1) {
      throw new IllegalArgumentException("maxChars must be positive, got " + maxChars);
    }
    this.maxChars = maxChars;
    this.maxCharsSetting = Objects.requireNonNull(maxCharsSetting);
  }

  /** The standard field names ({@code text}, {@code id}). */
  public static DocumentCodec standard(int maxChars, String maxCharsSetting) {
    return new DocumentCodec(TEXT, ID, maxChars, maxCharsSetting);
  }

  /** The mapper this format is read with, for callers that write objects back. */
  public static ObjectMapper mapper() {
    return JSON;
  }

  /** Parses and validates {@code bytes[offset, offset + length)}. */
  public JsonDocument decode(byte[] bytes, int offset, int length, String fallbackId)
      throws InvalidDocumentException {
    String json;
    try {
      json = strictUtf8(bytes, offset, length);
    } catch (InvalidUtf8Exception e) {
      throw Rejection.MALFORMED_JSON.exception("invalid UTF-8 at byte " + e.position, e);
    }
    return decode(json, fallbackId);
  }

  /** Parses and validates the whole array. */
  public JsonDocument decode(byte[] bytes, String fallbackId) throws InvalidDocumentException {
    return decode(bytes, 0, bytes.length, fallbackId);
  }

  /** Parses and validates one JSON text. */
  public JsonDocument decode(String json, String fallbackId) throws InvalidDocumentException {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw Rejection.MALFORMED_JSON.exception(e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw Rejection.NOT_AN_OBJECT.exception(", got " + (root == null || root.isMissingNode() ? "nothing" : type(root)));
    }
    ObjectNode obj = (ObjectNode) root;
    JsonNode text = obj.get(textField);
    if (text == null || text.isNull()) {
      throw Rejection.MISSING_TEXT.exception("the JSON object has no \"" + textField + "\" field");
    }
    if (!text.isTextual()) {
      throw Rejection.TEXT_NOT_A_STRING.exception("\"" + textField + "\" is a JSON " + type(text));
    }
    String id = fallbackId;
    JsonNode idNode = obj.get(idField);
    if (idNode != null && !idNode.isNull()) {
      if (!idNode.isTextual() && !idNode.isNumber()) {
        throw Rejection.ID_NOT_A_STRING.exception("\"" + idField + "\" is a JSON " + type(idNode));
      }
      id = idNode.asText();
    }
    if (id == null) {
      throw Rejection.MISSING_ID.exception("the JSON object has no \"" + idField + "\" and the record has no key");
    }
    String source = null;
    JsonNode sourceNode = obj.get(SOURCE);
    if (sourceNode != null && !sourceNode.isNull()) {
      source = sourceNode.isTextual() ? sourceNode.asText() : sourceNode.toString();
    }
    Map<String, String> metadata = null;
    JsonNode meta = obj.get(METADATA);
    if (meta != null && !meta.isNull()) {
      if (!meta.isObject()) {
        throw Rejection.METADATA_NOT_AN_OBJECT.exception("\"" + METADATA + "\" is a JSON " + type(meta)
            + ", expected an object of strings");
      }
      metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
    }
    Instant timestamp = null;
    JsonNode ts = obj.get(TIMESTAMP);
    if (ts != null && !ts.isNull()) {
      if (!ts.isIntegralNumber() || !ts.canConvertToLong()) {
        throw Rejection.BAD_TIMESTAMP.exception("\"" + TIMESTAMP + "\" must be epoch milliseconds, got " + ts);
      }
      timestamp = Instant.ofEpochMilli(ts.asLong());
    }
    validate(id, text.textValue());
    return new JsonDocument(id, text.textValue(), source, metadata, timestamp, obj);
  }

  /** The rules on the id and the text, for documents of any encoding (JSON, Avro). */
  public void validate(String id, String text) throws InvalidDocumentException {
    if (text == null) {
      throw Rejection.MISSING_TEXT.exception(null);
    }
    if (text.isEmpty()) {
      throw Rejection.EMPTY_TEXT.exception(null);
    }
    if (text.isBlank()) {
      throw Rejection.WHITESPACE_TEXT.exception(text.length() + " chars");
    }
    if (text.length() > maxChars) {
      throw Rejection.OVERSIZED_TEXT.exception(text.length() + " chars > " + maxCharsSetting + "=" + maxChars);
    }
    int bad = unpairedSurrogate(text);
    if (bad >= 0) {
      throw Rejection.INVALID_UNICODE.exception("lone " + (Character.isHighSurrogate(text.charAt(bad)) ? "high" : "low")
          + " surrogate at char " + bad);
    }
    if (id == null || id.isBlank()) {
      throw Rejection.EMPTY_ID.exception(null);
    }
  }

  /** The index of the first UTF-16 surrogate that is not part of a pair, or -1. */
  public static int unpairedSurrogate(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  /** The bytes as strict UTF-8 (no replacement of malformed input). */
  public static String strictUtf8(byte[] bytes, int offset, int length) throws InvalidUtf8Exception {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
    CharBuffer out = CharBuffer.allocate(length);
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) {
      r = decoder.flush(out);
    }
    if (r.isError()) {
      throw new InvalidUtf8Exception(in.position() - offset);
    }
    return out.flip().toString();
  }

  /** The bytes are not valid UTF-8; {@link #position} is the offset of the first bad byte. */
  public static final class InvalidUtf8Exception extends Exception {
    /** Offset of the first malformed byte. */
    public final int position;

    InvalidUtf8Exception(int position) {
      super("invalid UTF-8 at byte " + position);
      this.position = position;
    }
  }

  private static String type(JsonNode node) {
    return node.getNodeType().toString().toLowerCase(Locale.ROOT);
  }
}
