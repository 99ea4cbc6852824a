package io.toedit.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.RawDocument;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Sends JSONL documents (plain or gzip, detected from the content) into a topic, one record per
 * non-blank line, keyed by the document id.
 *
 * <p>Input lines are JSON objects {@code {"id": ..., "text": ..., "source": ..., "metadata": {...},
 * "timestamp": <epoch ms>}}; only {@code text} is required. A missing id becomes
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

  private static final ObjectMapper JSON = new ObjectMapper();

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
        JsonNode node = JSON.readTree(line);
        JsonNode id = node == null ? null : node.get("id");
        if (id != null && (id.isTextual() || id.isNumber())) {
          key = id.asText();
        }
      } catch (IOException e) {
        // sent as is: the pipeline dead-letters it with the parse error
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
   * Parses one JSONL line into a {@link RawDocument}.
   *
   * @throws IllegalArgumentException saying what is wrong with the line
   */
  public static RawDocument toRawDocument(String line, String fallbackId, String defaultSource) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    JsonNode text = node.get("text");
    if (text == null || !text.isTextual()) {
      throw new IllegalArgumentException(text == null ? "no \"text\" field" : "\"text\" is not a string");
    }
    JsonNode id = node.get("id");
    String docId;
    if (id == null || id.isNull()) {
      docId = fallbackId;
    } else if (id.isTextual() || id.isNumber()) {
      docId = id.asText();
    } else {
      throw new IllegalArgumentException("\"id\" must be a string or a number");
    }
    JsonNode source = node.get("source");
    String src = source == null || source.isNull() ? defaultSource : source.asText();
    Map<String, String> metadata = null;
    JsonNode meta = node.get("metadata");
    if (meta != null && !meta.isNull()) {
      if (!meta.isObject()) {
        throw new IllegalArgumentException("\"metadata\" must be an object");
      }
      metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        metadata.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
    }
    Instant timestamp = null;
    JsonNode ts = node.get("timestamp");
    if (ts != null && !ts.isNull()) {
      if (!ts.canConvertToLong()) {
        throw new IllegalArgumentException("\"timestamp\" must be epoch milliseconds");
      }
      timestamp = Instant.ofEpochMilli(ts.asLong());
    }
    return RawDocument.newBuilder().setId(docId).setText(text.asText()).setSource(src)
        .setMetadata(metadata).setTimestamp(timestamp).build();
  }

  /** Opens a file ("-" = stdin), gunzipping when it starts with the gzip magic bytes. Strict UTF-8. */
  static BufferedReader open(Path file) throws IOException {
    InputStream raw = file.toString().equals("-") ? System.in : Files.newInputStream(file);
    BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    InputStream data = b0 == 0x1f && b1 == 0x8b ? new GZIPInputStream(in, 1 << 16) : in;
    return new BufferedReader(new InputStreamReader(data, StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
  }
}
