package io.toedit.stream;

import io.toedit.avro.RawDocument;
import io.toedit.document.DocumentCodec;
import io.toedit.document.InvalidDocumentException;
import io.toedit.document.Rejection;
import java.io.IOException;
import java.util.Map;
import org.apache.avro.message.MissingSchemaException;

/**
 * Turns the raw bytes of an input record into a validated {@link RawDocument}, or says exactly why
 * not. Input is read as bytes on purpose: a record that does not parse must still reach the
 * dead-letter topic unchanged.
 *
 * <p>JSON input follows the {@link DocumentCodec} format, with the record key as the fallback id.
 * Avro input is a single-object-encoded {@code RawDocument}, held to the same rules on id and text.
 * Reasons are the {@link Rejection} table.
 */
final class InputDecoder {

  /** The first two bytes of every Avro single-object encoded value. */
  static final byte AVRO_MARKER_0 = (byte) 0xC3;
  static final byte AVRO_MARKER_1 = (byte) 0x01;

  private final PipelineConfig config;
  private final DocumentCodec codec;
  private final AvroSerde<RawDocument> avro = AvroSerde.raw();

  InputDecoder(PipelineConfig config) {
    this.config = config;
    this.codec = DocumentCodec.standard(config.maxChars(), "toedit.input.max.chars");
  }

  RawDocument decode(byte[] key, byte[] value) throws RejectedRecordException {
    try {
      if (value == null) {
        throw Rejection.NULL_VALUE.exception(
            "expected a JSON object or an Avro RawDocument (a tombstone is not a document)");
      }
      if (key == null && config.requireKey()) {
        throw Rejection.NULL_KEY.exception(
            "records must be keyed by document id (or set toedit.input.require.key=false)");
      }
      String keyText = null;
      if (key != null) {
        try {
          keyText = DocumentCodec.strictUtf8(key, 0, key.length);
        } catch (DocumentCodec.InvalidUtf8Exception e) {
          throw Rejection.INVALID_KEY.exception(null, e);
        }
      }
      if (isAvro(value)) {
        RawDocument doc = decodeAvro(value);
        codec.validate(doc.getId(), doc.getText());
        return doc;
      }
      return codec.decode(value, keyText).toRawDocument(null);
    } catch (InvalidDocumentException e) {
      throw new RejectedRecordException("validate", e.getMessage(), e.getCause());
    }
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

  private RawDocument decodeAvro(byte[] value) throws InvalidDocumentException {
    RawDocument doc;
    try {
      doc = avro.decode(value);
    } catch (MissingSchemaException e) {
      throw Rejection.UNKNOWN_AVRO_SCHEMA.exception("the writer schema is neither "
          + "the current RawDocument nor a bundled older version (" + e.getMessage() + ")", e);
    } catch (IOException | RuntimeException e) {
      throw Rejection.MALFORMED_AVRO.exception(describe(e), e);
    }
    // Avro decodes strings leniently: invalid UTF-8 becomes U+FFFD. More U+FFFD in the strings than
    // encoded U+FFFD (EF BF BD) in the bytes means some were invalid bytes: reject, as for JSON.
    int decoded = replacementChars(doc.getId()) + replacementChars(doc.getText()) + replacementChars(doc.getSource());
    if (doc.getMetadata() != null) {
      for (Map.Entry<String, String> e : doc.getMetadata().entrySet()) {
        decoded += replacementChars(e.getKey()) + replacementChars(e.getValue());
      }
    }
    if (decoded > 0 && decoded > encodedReplacementChars(value)) {
      throw Rejection.INVALID_AVRO_UTF8.exception("the bytes are not valid UTF-8");
    }
    return doc;
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

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
