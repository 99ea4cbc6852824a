package io.toedit.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.toedit.avro.DeadLetter;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.ScoredDocument;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.IndexedRecord;

/**
 * The bytes of every record the pipeline writes, in the configured format, and the size rule they
 * obey.
 *
 * <p><b>Formats.</b> {@code avro}: Avro single-object encoding ({@link AvroSerde}). {@code json}: one
 * UTF-8 JSON object per record with the same field names; a union is written as its value (no type
 * wrapper), {@code bytes} as base64, a timestamp as epoch milliseconds, and a NaN or infinite float
 * as {@code null} (JSON has no NaN: position 0's log-prob is {@code null}).
 *
 * <p><b>Size.</b> A record fits when key + value + {@link #RECORD_OVERHEAD} bytes is at most the
 * limit (the smallest of the producer's {@code max.request.size} and the output topics'
 * {@code max.message.bytes}). Checked before every send: a send that fails on size aborts the
 * exactly-once transaction, and replaying it would fail the same way forever.
 */
final class OutputRecords {

  /**
   * Bytes reserved per record besides key and value: the record batch header (61), the record's own
   * header (at most 21 varint bytes), headers and slack.
   */
  static final int RECORD_OVERHEAD = 256;
  /** The longest reason kept in a dead letter, in chars. */
  static final int MAX_REASON_CHARS = 4000;
  /** The longest key kept when a dead letter must shrink to fit. */
  static final int MAX_SHRUNK_KEY_BYTES = 1024;

  private static final JsonFactory JSON = new JsonFactory();

  private final boolean json;
  private final int limit;
  private final int dlqMaxValueBytes;
  private final AvroSerde<EditedDocument> edited = AvroSerde.edited();
  private final AvroSerde<ScoredDocument> scored = AvroSerde.scored();
  private final AvroSerde<DeadLetter> deadLetters = AvroSerde.deadLetter();

  OutputRecords(PipelineConfig config) {
    this.json = config.outputFormat().equals(PipelineConfig.FORMAT_JSON);
    this.limit = config.effectiveMaxRecordBytes();
    this.dlqMaxValueBytes = config.dlqMaxValueBytes();
  }

  int limit() {
    return limit;
  }

  boolean fits(byte[] key, byte[] value) {
    return (long) length(key) + length(value) + RECORD_OVERHEAD <= limit;
  }

  byte[] edited(EditedDocument d) {
    return json ? toJson(d) : edited.encode(d);
  }

  byte[] scored(ScoredDocument d) {
    return json ? toJson(d) : scored.encode(d);
  }

  byte[] deadLetter(DeadLetter d) {
    return json ? toJson(d) : deadLetters.encode(d);
  }

  /**
   * The scored record(s) of one document, each fitting the limit: the whole document when it fits,
   * else parts of consecutive positions (same key, in order), doubling the number of parts until
   * each fits; the top-k candidates are dropped ({@code topKDropped}) only when even one position per
   * part is too large. Empty when nothing fits (the caller dead-letters the document).
   */
  List<byte[]> scoredParts(ScoredDocument whole, byte[] key) {
    byte[] bytes = scored(whole);
    if (fits(key, bytes)) {
      return List.of(bytes);
    }
    int n = whole.getTokenIds().size();
    boolean topK = whole.getTopIds() != null;
    long room = Math.max(1, limit - RECORD_OVERHEAD - length(key));
    int parts = (int) Math.min(Math.max(n, 1), Math.max(2, (bytes.length + room - 1) / room + 1));
    while (true) {
      List<byte[]> out = new ArrayList<>(parts);
      boolean ok = true;
      for (int p = 0; p < parts && ok; p++) {
        int from = (int) ((long) n * p / parts);
        int to = (int) ((long) n * (p + 1) / parts);
        byte[] b = scored(part(whole, from, to, p, parts, topK));
        ok = fits(key, b);
        out.add(b);
      }
      if (ok) {
        return out;
      }
      if (parts >= n) {
        if (!topK) {
          return List.of();
        }
        topK = false;
        parts = 1;
      } else {
        parts = Math.min(n, parts * 2);
      }
    }
  }

  private static ScoredDocument part(ScoredDocument d, int from, int to, int part, int parts, boolean topK) {
    boolean hadTopK = d.getTopIds() != null;
    return ScoredDocument.newBuilder(d)
        .setTokenIds(new ArrayList<>(d.getTokenIds().subList(from, to)))
        .setLogProbs(new ArrayList<>(d.getLogProbs().subList(from, to)))
        .setTopIds(topK ? new ArrayList<>(d.getTopIds().subList(from, to)) : null)
        .setTopLogProbs(topK ? new ArrayList<>(d.getTopLogProbs().subList(from, to)) : null)
        .setFirstPosition(d.getFirstPosition() + from).setPart(part).setParts(parts)
        .setTopKDropped(hadTopK && !topK)
        .build();
  }

  /**
   * A dead letter that fits the limit: the original value is kept up to
   * {@code toedit.dlq.max.value.bytes} (and the room left), with its length and SHA-256; the reason
   * is cut at {@link #MAX_REASON_CHARS}; a key that still does not fit is cut at
   * {@link #MAX_SHRUNK_KEY_BYTES}. Returns the (possibly shortened) Kafka key and the value bytes.
   */
  KeyValueBytes deadLetter(String topic, int partition, long offset, byte[] key, byte[] value, String documentId,
      String errorClass, String reason, String stage, long timeMs) {
    String why = reason == null ? "" : reason;
    if (why.length() > MAX_REASON_CHARS) {
      why = why.substring(0, MAX_REASON_CHARS) + "… (" + why.length() + " chars)";
    }
    byte[] k = key;
    for (int attempt = 0; attempt < 3; attempt++) {
      // The room for the value: what is left once everything else is encoded (plus slack for the
      // value's length prefix, and base64's 4/3 in JSON).
      byte[] without = deadLetter(AvroRecords.deadLetter(topic, partition, offset, k, null, documentId, errorClass, why,
          stage, timeMs, 0));
      long room = (long) limit - RECORD_OVERHEAD - length(k) - without.length - 128;
      if (json) {
        room = room * 3 / 4;
      }
      int keep = (int) Math.max(0, Math.min(dlqMaxValueBytes, room));
      DeadLetter d = AvroRecords.deadLetter(topic, partition, offset, k, value, documentId, errorClass, why, stage,
          timeMs, keep);
      byte[] bytes = deadLetter(d);
      if (fits(k, bytes)) {
        return new KeyValueBytes(k, bytes);
      }
      if (k != null && k.length > MAX_SHRUNK_KEY_BYTES) {
        k = java.util.Arrays.copyOf(k, MAX_SHRUNK_KEY_BYTES);
      }
      if (why.length() > 200) {
        why = why.substring(0, 200) + "…";
      }
    }
    DeadLetter d = AvroRecords.deadLetter(topic, partition, offset, null, value, null, errorClass, why, stage,
        timeMs, 0);
    return new KeyValueBytes(null, deadLetter(d));
  }

  /** A record's key and value bytes. */
  record KeyValueBytes(byte[] key, byte[] value) {
  }

  static int length(byte[] b) {
    return b == null ? 0 : b.length;
  }

  static String sha256Hex(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  // --- JSON ----------------------------------------------------------------------------------------

  /** One UTF-8 JSON object with the record's fields (see the class comment for the mapping). */
  static byte[] toJson(IndexedRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      write(g, record.getSchema(), record);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + record.getSchema().getFullName() + " as JSON", e);
    }
    return out.toByteArray();
  }

  private static void write(JsonGenerator g, Schema schema, Object value) throws IOException {
    if (value == null) {
      g.writeNull();
      return;
    }
    switch (schema.getType()) {
      case UNION -> {
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() != Schema.Type.NULL) {
            write(g, branch, value);
            return;
          }
        }
        g.writeNull();
      }
      case RECORD -> {
        IndexedRecord r = (IndexedRecord) value;
        g.writeStartObject();
        for (Schema.Field f : schema.getFields()) {
          g.writeFieldName(f.name());
          write(g, f.schema(), r.get(f.pos()));
        }
        g.writeEndObject();
      }
      case ARRAY -> {
        g.writeStartArray();
        for (Object item : (Iterable<?>) value) {
          write(g, schema.getElementType(), item);
        }
        g.writeEndArray();
      }
      case MAP -> {
        g.writeStartObject();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
          g.writeFieldName(e.getKey().toString());
          write(g, schema.getValueType(), e.getValue());
        }
        g.writeEndObject();
      }
      case STRING -> g.writeString(value.toString());
      case ENUM -> g.writeString(value instanceof GenericEnumSymbol<?> s ? s.toString() : value.toString());
      case BOOLEAN -> g.writeBoolean((Boolean) value);
      case INT -> g.writeNumber(((Number) value).intValue());
      case LONG -> g.writeNumber(value instanceof Instant i ? i.toEpochMilli() : ((Number) value).longValue());
      case FLOAT, DOUBLE -> {
        double d = ((Number) value).doubleValue();
        if (Double.isFinite(d)) {
          if (schema.getType() == Schema.Type.FLOAT) {
            g.writeNumber(((Number) value).floatValue());
          } else {
            g.writeNumber(d);
          }
        } else {
          g.writeNull();
        }
      }
      case BYTES, FIXED -> {
        byte[] b;
        if (value instanceof ByteBuffer buf) {
          ByteBuffer d = buf.duplicate();
          b = new byte[d.remaining()];
          d.get(b);
        } else if (value instanceof GenericContainer && value instanceof org.apache.avro.generic.GenericFixed f) {
          b = f.bytes();
        } else {
          b = (byte[]) value;
        }
        g.writeString(Base64.getEncoder().encodeToString(b));
      }
      default -> g.writeNull();
    }
  }

  static byte[] utf8(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }
}
