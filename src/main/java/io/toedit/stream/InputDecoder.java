package io.toedit.stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.RawDocument;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.message.MissingSchemaException;

/**
 * Turns the raw bytes of an input record into a validated {@link RawDocument}, or says exactly why
 * not. Input is read as bytes on purpose: a record that does not parse must still reach the
 * dead-letter topic unchanged.
 *
 * <p>JSON input is one object {@code {"id", "text", "source", "metadata", "timestamp"}}: {@code text}
 * is required, {@code id} defaults to the record key, {@code metadata} values that are not strings
 * are kept as their JSON text, {@code timestamp} is epoch milliseconds. Avro input is a
 * single-object-encoded {@code RawDocument}.
 */
final class InputDecoder {

  /** The first two bytes of every Avro single-object encoded value. */
  static final byte AVRO_MARKER_0 = (byte) 0xC3;
  static final byte AVRO_MARKER_1 = (byte) 0x01;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final PipelineConfig config;
  private final AvroSerde<RawDocument> avro = AvroSerde.raw();

  InputDecoder(PipelineConfig config) {
    this.config = config;
  }

  RawDocument decode(byte[] key, byte[] value) throws RejectedRecordException {
    if (value == null) {
      throw reject("null value: expected a JSON object or an Avro RawDocument (a tombstone is not a document)");
    }
    if (key == null && config.requireKey()) {
      throw reject("null key: records must be keyed by document id (or set toedit.input.require.key=false)");
    }
    String keyText = key == null ? null : strictUtf8(key, "key");
    RawDocument doc = isAvro(value) ? decodeAvro(value) : decodeJson(value, keyText);
    validateText(doc.getText());
    if (doc.getId() == null || doc.getId().isBlank()) {
      throw reject("empty document id");
    }
    return doc;
  }

  private boolean isAvro(byte[] value) {
    switch (config.inputFormat()) {
      case "avro":
        return true;
      case "json":
        return false;
      default:
        return value.length >= 2 && value[0] == AVRO_MARKER_0 && value[1] == AVRO_MARKER_1;
    }
  }

  private RawDocument decodeAvro(byte[] value) throws RejectedRecordException {
    try {
      RawDocument doc = avro.decode(value);
      // Avro decodes strings leniently: invalid UTF-8 becomes U+FFFD. More U+FFFD in the strings than
      // encoded U+FFFD (EF BF BD) in the bytes means some were invalid bytes: reject, as for JSON.
      int decoded = replacementChars(doc.getId()) + replacementChars(doc.getText()) + replacementChars(doc.getSource());
      if (doc.getMetadata() != null) {
        for (Map.Entry<String, String> e : doc.getMetadata().entrySet()) {
          decoded += replacementChars(e.getKey()) + replacementChars(e.getValue());
        }
      }
      if (decoded > 0 && decoded > encodedReplacementChars(value)) {
        throw reject("invalid UTF-8 in an Avro RawDocument string (the bytes are not valid UTF-8)");
      }
      return doc;
    } catch (MissingSchemaException e) {
      throw new RejectedRecordException("validate", "unknown Avro schema fingerprint: the writer schema is neither "
          + "the current RawDocument nor a bundled older version (" + e.getMessage() + ")", e);
    } catch (IOException | RuntimeException e) {
      throw new RejectedRecordException("validate", "malformed Avro RawDocument: " + describe(e), e);
    }
  }

  private static int replacementChars(CharSequence s) {
    int n = 0;
    if (s != null) {
      for (int i = 0; i < s.length(); i++) {
        if (s.charAt(i) == '\uFFFD') {
          n++;
        }
      }
    }
    return n;
  }

  private static int encodedReplacementChars(byte[] b) {
    int n = 0;
    for (int i = 0; i + 2 < b.length; i++) {
      if (b[i] == (byte) 0xEF && b[i + 1] == (byte) 0xBF && b[i + 2] == (byte) 0xBD) {
        n++;
      }
    }
    return n;
  }

  private RawDocument decodeJson(byte[] value, String keyText) throws RejectedRecordException {
    JsonNode root;
    try {
      root = JSON.readTree(value);
    } catch (IOException e) {
      String msg = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
      throw new RejectedRecordException("validate", "malformed JSON: " + msg, e);
    }
    if (root == null || !root.isObject()) {
      throw reject("malformed JSON: expected an object with a \"text\" field, got "
          + (root == null ? "nothing" : root.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)));
    }
    JsonNode text = root.get("text");
    if (text == null || text.isNull()) {
      throw reject("missing text: the JSON object has no \"text\" field");
    }
    if (!text.isTextual()) {
      throw reject("text is not a string: \"text\" is a JSON "
          + text.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
    }
    String id = keyText;
    JsonNode idNode = root.get("id");
    if (idNode != null && !idNode.isNull()) {
      if (!idNode.isTextual() && !idNode.isNumber()) {
        throw reject("id is not a string: \"id\" is a JSON "
            + idNode.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
      }
      id = idNode.asText();
    }
    if (id == null) {
      throw reject("missing id: the JSON object has no \"id\" and the record has no key");
    }
    String source = null;
    JsonNode sourceNode = root.get("source");
    if (sourceNode != null && !sourceNode.isNull()) {
      source = sourceNode.isTextual() ? sourceNode.asText() : sourceNode.toString();
    }
    Map<String, String> metadata = null;
    JsonNode meta = root.get("metadata");
    if (meta != null && !meta.isNull()) {
      if (!meta.isObject()) {
        throw reject("metadata is not an object of strings");
      }
      metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
    }
    Instant timestamp = null;
    JsonNode ts = root.get("timestamp");
    if (ts != null && !ts.isNull()) {
      if (!ts.canConvertToLong() || !ts.isIntegralNumber()) {
        throw reject("timestamp must be an integer number of epoch milliseconds");
      }
      timestamp = Instant.ofEpochMilli(ts.asLong());
    }
    return RawDocument.newBuilder().setId(id).setText(text.asText()).setSource(source).setMetadata(metadata)
        .setTimestamp(timestamp).build();
  }

  private void validateText(String text) throws RejectedRecordException {
    if (text.isEmpty()) {
      throw reject("empty text");
    }
    if (text.isBlank()) {
      throw reject("whitespace-only text (" + text.length() + " chars)");
    }
    if (text.length() > config.maxChars()) {
      throw reject("oversized text: " + text.length() + " chars > toedit.input.max.chars=" + config.maxChars());
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
          i++;
          continue;
        }
        throw reject("invalid Unicode: lone high surrogate at char " + i);
      }
      if (Character.isLowSurrogate(c)) {
        throw reject("invalid Unicode: lone low surrogate at char " + i);
      }
    }
  }

  private static String strictUtf8(byte[] bytes, String what) throws RejectedRecordException {
    try {
      CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new RejectedRecordException("validate", "invalid UTF-8 in the record " + what, e);
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private static RejectedRecordException reject(String reason) {
    return new RejectedRecordException("validate", reason);
  }
}
