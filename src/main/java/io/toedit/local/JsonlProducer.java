package io.toedit.local;

import io.toedit.avro.RawDocument;
import io.toedit.document.DocumentCodec;
import io.toedit.document.Gzip;
import io.toedit.document.InvalidDocumentException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sends JSONL documents (plain or gzip, detected from the content) into a topic, one record per
 * non-blank line, keyed by the document id.
 *
 * <p>Input lines follow the {@link DocumentCodec} format; a missing id becomes
 * {@code <file name>:<line number>}.
 *
 * <ul>
 *   <li>{@link Format#AVRO}: the value is a {@link RawDocument} in Avro single-object encoding (the
 *       pipeline's default wire format). A line that is not such a document is invalid.</li>
 *   <li>{@link Format#JSON}: the value is the line's bytes as they are, unchecked (the pipeline
 *       validates and dead-letters bad input); the key is the id when the line parses.</li>
 * </ul>
 */
public final class JsonlProducer {

  /** The value format written to the topic. */
  public enum Format { AVRO, JSON }

  /** How many records were sent and how many invalid lines were skipped. */
  public record Result(long sent, long skipped) {
  }

  private static final DocumentCodec CODEC = DocumentCodec.standard(Integer.MAX_VALUE, "no limit");

  private final Producer<String, byte[]> producer;
  private final String topic;
  private final Format format;
  private final String defaultSource;
  private final boolean skipInvalid;
  private final Consumer<String> warnings;

  /**
   * @param defaultSource source for documents without one (may be null)
   * @param skipInvalid   skip invalid lines (with a warning) instead of failing
   * @param warnings      receives one line per skipped input line
   */
  public JsonlProducer(Producer<String, byte[]> producer, String topic, Format format, String defaultSource,
      boolean skipInvalid, Consumer<String> warnings) {
    this.producer = Objects.requireNonNull(producer);
    this.topic = Objects.requireNonNull(topic);
    this.format = Objects.requireNonNull(format);
    this.defaultSource = defaultSource;
    this.skipInvalid = skipInvalid;
    this.warnings = Objects.requireNonNull(warnings);
  }

  /**
   * Sends every file (in order; "-" is stdin), at most {@code limit} records in all (0 = no limit), then
   * flushes. Returns after every record is acknowledged.
   *
   * @throws IllegalArgumentException for an invalid line (unless skipping) or unreadable file
   * @throws IllegalStateException    if Kafka rejects a record
   */
  public Result produce(List<Path> files, long limit) throws IOException {
    AtomicReference<Exception> sendError = new AtomicReference<>();
    long sent = 0;
    long skipped = 0;
    outer:
    for (Path file : files) {
      String name = file.toString().equals("-") ? "stdin" : String.valueOf(file.getFileName());
      try (BufferedReader reader = open(file)) {
        long lineNo = 0;
        String line;
        while ((line = reader.readLine()) != null) {
          lineNo++;
          if (line.isBlank()) {
            continue;
          }
          if (limit > 0 && sent >= limit) {
            break outer;
          }
          ProducerRecord<String, byte[]> record;
          try {
            record = toRecord(line, name + ":" + lineNo);
          } catch (IllegalArgumentException e) {
            String msg = name + " line " + lineNo + ": " + e.getMessage();
            if (!skipInvalid) {
              producer.flush();
              throw new IllegalArgumentException(msg + " (" + sent + " records sent before it; "
                  + "use --skip-invalid to skip such lines)", e);
            }
            warnings.accept("skipped " + msg);
            skipped++;
            continue;
          }
          producer.send(record, (metadata, exception) -> {
            if (exception != null) {
              sendError.compareAndSet(null, exception);
            }
          });
          sent++;
          failOn(sendError.get());
        }
      } catch (java.nio.charset.CharacterCodingException e) {
        producer.flush();
        throw new IllegalArgumentException(name + ": not valid UTF-8 (" + sent + " records sent before it)", e);
      } catch (java.util.zip.ZipException | java.io.EOFException e) {
        producer.flush();
        throw new IllegalArgumentException(name + ": broken gzip data: " + e.getMessage()
            + " (" + sent + " records sent before it)", e);
      }
    }
    producer.flush();
    failOn(sendError.get());
    return new Result(sent, skipped);
  }

  private static void failOn(Exception e) {
    if (e != null) {
      throw new IllegalStateException("Kafka rejected a record: " + e.getMessage(), e);
    }
  }

  private ProducerRecord<String, byte[]> toRecord(String line, String fallbackId) {
    if (format == Format.JSON) {
      String key = fallbackId;
      try {
        key = CODEC.decode(line, fallbackId).id();
      } catch (InvalidDocumentException e) {
        // sent as is: the pipeline dead-letters it with the same reason
      }
      return new ProducerRecord<>(topic, key, line.getBytes(StandardCharsets.UTF_8));
    }
    RawDocument doc = toRawDocument(line, fallbackId, defaultSource);
    ByteBuffer buffer;
    try {
      buffer = RawDocument.getEncoder().encode(doc);
    } catch (IOException e) {
      throw new IllegalStateException("cannot Avro-encode document " + doc.getId(), e);
    }
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return new ProducerRecord<>(topic, doc.getId(), bytes);
  }

  /**
   * Parses one JSONL line into a {@link RawDocument} with the {@link DocumentCodec} rules (no limit
   * on the text length: that is the pipeline's {@code toedit.input.max.chars}).
   *
   * @throws IllegalArgumentException with the {@link io.toedit.document.Rejection} reason
   */
  public static RawDocument toRawDocument(String line, String fallbackId, String defaultSource) {
    try {
      return CODEC.decode(line, fallbackId).toRawDocument(defaultSource);
    } catch (InvalidDocumentException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Opens a file ("-" = stdin), gunzipping when it starts with the gzip magic bytes. Strict UTF-8. */
  static BufferedReader open(Path file) throws IOException {
    InputStream raw = file.toString().equals("-") ? System.in : Files.newInputStream(file);
    InputStream data = Gzip.decompressIfGzip(raw, 1 << 16);
    return new BufferedReader(new InputStreamReader(data, StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
  }
}
