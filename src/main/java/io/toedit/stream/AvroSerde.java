package io.toedit.stream;

import io.toedit.avro.DeadLetter;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.avro.ScoredDocument;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro single-object encoding ({@code C3 01}, 8-byte CRC-64-AVRO fingerprint of the writer schema,
 * Avro binary body) for the generated record classes. No registry: writer fingerprints resolve
 * against the schemas bundled with the application, the current one plus every older version listed
 * in the classpath resource {@value #HISTORY_INDEX} (one resource path per line, e.g.
 * {@code schema-history/RawDocument-v1.avsc}). Keep every schema that was ever written to a topic
 * there when a contract changes, so old records still decode (Avro resolves the old writer schema to
 * the current reader schema).
 *
 * <p>A {@code null} value serializes to {@code null} and back (Kafka tombstones).
 *
 * @param <T> the generated record class
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {

  /** Classpath index of older schema versions, one resource path per line; '#' starts a comment. */
  public static final String HISTORY_INDEX = "schema-history/index.txt";

  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  private AvroSerde(Schema current, List<Schema> olderWriters) {
    SchemaStore.Cache store = new SchemaStore.Cache();
    for (Schema s : olderWriters) {
      if (s.getFullName().equals(current.getFullName())) {
        store.addSchema(s);
      }
    }
    this.encoder = new BinaryMessageEncoder<>(SpecificData.get(), current);
    this.decoder = new BinaryMessageDecoder<>(SpecificData.get(), current, store);
  }

  /** A serde for {@code type}, knowing its current schema and the bundled history. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return new AvroSerde<>(SpecificData.get().getSchema(type), bundledHistory());
  }

  /** A serde that also accepts the given older writer schemas (tests, or a caller's own history). */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type, List<Schema> olderWriters) {
    List<Schema> all = new ArrayList<>(bundledHistory());
    all.addAll(olderWriters);
    return new AvroSerde<>(SpecificData.get().getSchema(type), all);
  }

  public static AvroSerde<RawDocument> raw() {
    return of(RawDocument.class);
  }

  public static AvroSerde<EditedDocument> edited() {
    return of(EditedDocument.class);
  }

  public static AvroSerde<ScoredDocument> scored() {
    return of(ScoredDocument.class);
  }

  public static AvroSerde<DeadLetter> deadLetter() {
    return of(DeadLetter.class);
  }

  /** Encodes one record; never returns null for a non-null record. */
  public byte[] encode(T value) {
    try {
      ByteBuffer buf = encoder.encode(value);
      byte[] out = new byte[buf.remaining()];
      buf.get(out);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot encode " + value.getSchema().getFullName(), e);
    }
  }

  /**
   * Decodes one record. Throws (with a message naming the cause) on a wrong header, an unknown
   * writer fingerprint ({@link org.apache.avro.message.MissingSchemaException}), or a truncated or
   * corrupt body.
   */
  public T decode(byte[] bytes) throws IOException {
    return decoder.decode(bytes);
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, data) -> data == null ? null : encode(data);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, data) -> {
      if (data == null) {
        return null;
      }
      try {
        return decode(data);
      } catch (IOException | RuntimeException e) {
        throw new SerializationException("Cannot decode Avro single-object record from topic " + topic
            + ": " + e.getMessage(), e);
      }
    };
  }

  /** The older schema versions listed in {@value #HISTORY_INDEX}, parsed; empty when none. */
  static List<Schema> bundledHistory() {
    ClassLoader cl = AvroSerde.class.getClassLoader();
    List<Schema> schemas = new ArrayList<>();
    try (InputStream index = cl.getResourceAsStream(HISTORY_INDEX)) {
      if (index == null) {
        return schemas;
      }
      BufferedReader lines = new BufferedReader(new InputStreamReader(index, StandardCharsets.UTF_8));
      String line;
      while ((line = lines.readLine()) != null) {
        String path = line.strip();
        if (path.isEmpty() || path.startsWith("#")) {
          continue;
        }
        try (InputStream in = cl.getResourceAsStream(path)) {
          if (in == null) {
            throw new IllegalStateException(HISTORY_INDEX + " lists " + path + " but no such resource exists");
          }
          // Each file gets its own parser: history files repeat the names of the current schemas.
          schemas.add(new Schema.Parser().parse(in));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read schema history " + HISTORY_INDEX, e);
    }
    return schemas;
  }
}
