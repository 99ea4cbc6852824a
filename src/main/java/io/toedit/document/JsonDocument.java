package io.toedit.document;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.avro.RawDocument;
import java.time.Instant;
import java.util.Map;

/**
 * A parsed and validated JSON document.
 *
 * @param id the document id (from the id field, else the caller's fallback: record key, line
 *     number, file:line)
 * @param text the text to edit, validated
 * @param source {@code source}, or null
 * @param metadata {@code metadata} with non-string values kept as their JSON text, or null
 * @param timestamp {@code timestamp} (epoch milliseconds), or null
 * @param json the whole parsed object, for callers that keep every field ({@code edit})
 */
public record JsonDocument(String id, String text, String source, Map<String, String> metadata,
    Instant timestamp, ObjectNode json) {

  /** The Avro input document, with {@code defaultSource} when the JSON has none. */
  public RawDocument toRawDocument(String defaultSource) {
    return RawDocument.newBuilder().setId(id).setText(text).setSource(source != null ? source : defaultSource)
        .setMetadata(metadata).setTimestamp(timestamp).build();
  }
}
