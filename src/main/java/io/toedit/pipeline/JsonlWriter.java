package io.toedit.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.document.DocumentCodec;
import io.toedit.edit.EditResult;
import io.toedit.edit.TokenEdit;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * The writing side of {@link JsonlEditJob}: each edited line (the input object with the text
 * replaced and the info field added) to the output, each reject to the rejects file (created on
 * the first one), and the running totals. Gzip output is chosen by the {@code .gz} file name. Not
 * thread-safe.
 */
final class JsonlWriter implements Closeable {

  private final JsonlEditJob.Options options;
  private final String modelId;
  private final String contextToken;
  private final ObjectMapper json = DocumentCodec.mapper();
  private final Writer out;
  private Writer rejectsWriter;

  long lines;
  long documents;
  long tokens;
  long overThreshold;
  long changed;
  double expectedChanged;
  long deleted;
  long excludedCandidates;
  long rejects;

  JsonlWriter(JsonlEditJob.Options options, String modelId, String contextToken) throws IOException {
    this.options = options;
    this.modelId = modelId;
    this.contextToken = contextToken;
    this.out = writer(options.output());
  }

  /** Writes one edited document. */
  void edited(JsonlReader.Line line, EditResult r) throws IOException {
    ObjectNode node = line.document.json();
    node.put(options.textField(), r.text());
    node.set(options.infoField(), info(line.document.text(), r));
    out.write(json.writeValueAsString(node));
    out.write('\n');
    documents++;
    tokens += r.tokens();
    overThreshold += r.overThreshold();
    changed += r.changed();
    expectedChanged += r.expectedChanged();
    deleted += r.deleted();
    excludedCandidates += r.excludedCandidates();
  }

  /** Writes one reject: {@code {"line", "id", "stage", "reason", "content"}}. */
  void reject(long line, String id, String stage, String reason, String content) throws IOException {
    if (rejectsWriter == null) {
      rejectsWriter = writer(options.rejects());
    }
    ObjectNode r = json.createObjectNode();
    r.put("line", line);
    if (id != null) {
      r.put("id", id);
    }
    r.put("stage", stage);
    r.put("reason", reason);
    r.put("content", content);
    rejectsWriter.write(json.writeValueAsString(r));
    rejectsWriter.write('\n');
    rejects++;
  }

  private ObjectNode info(String original, EditResult r) {
    ObjectNode info = json.createObjectNode();
    info.put("originalText", original);
    ArrayNode edits = info.putArray("edits");
    for (TokenEdit te : r.edits()) {
      ObjectNode e = edits.addObject();
      e.put("position", te.position());
      e.put("charStart", te.charStart());
      e.put("charEnd", te.charEnd());
      e.put("originalId", te.originalId());
      e.put("originalPiece", te.originalPiece());
      e.put("newId", te.newId());
      e.put("newPiece", te.newPiece());
      e.put("probOriginal", te.probOriginal());
    }
    info.put("tokens", r.tokens());
    info.put("overThreshold", r.overThreshold());
    info.put("changed", r.changed());
    info.put("deleted", r.deleted());
    info.put("expectedChanged", r.expectedChanged());
    info.put("excludedCandidates", r.excludedCandidates());
    if (Double.isNaN(r.meanNll())) {
      info.putNull("meanNll");
    } else {
      info.put("meanNll", r.meanNll());
    }
    info.put("model", modelId);
    info.put("contextToken", contextToken);
    info.put("strategy", r.strategy().wireName());
    ObjectNode params = info.putObject("parameters");
    for (Map.Entry<String, String> p : r.parameters().entrySet()) {
      params.put(p.getKey(), p.getValue());
    }
    info.put("seed", r.seed());
    return info;
  }

  @Override
  public void close() throws IOException {
    try {
      out.close();
    } finally {
      if (rejectsWriter != null) {
        rejectsWriter.close();
      }
    }
  }

  private static Writer writer(Path p) throws IOException {
    Path parent = p.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    OutputStream os = new BufferedOutputStream(Files.newOutputStream(p), 64 * 1024);
    if (p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")) {
      os = new GZIPOutputStream(os, 64 * 1024);
    }
    return new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8), 64 * 1024);
  }
}
