package io.toedit.pipeline;

import io.toedit.document.DocumentCodec;
import io.toedit.document.JsonDocument;
import io.toedit.document.Rejection;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The reading side of {@link JsonlEditJob}, on {@link DocumentLines}: lines of a JSONL file (gzip detected by its magic
 * bytes), each parsed by the {@link DocumentCodec} into a document or a reject with stage
 * {@code read}. Lines longer than the limit are rejected without being held in memory. Not
 * thread-safe.
 */
final class JsonlReader implements Closeable {

  /** How much of a rejected line a reject record keeps. */
  static final int CONTENT_PREVIEW = 500;

  /**
   * One input line: a document ({@code document != null}), or a reject with its stage, reason and
   * the first {@link #CONTENT_PREVIEW} characters of the line.
   */
  static final class Line {
    final long number;
    JsonDocument document;
    String stage;
    String reason;
    String content;

    Line(long number) {
      this.number = number;
    }

    boolean isDocument() {
      return document != null;
    }

    /** Turns a document into a reject (the chunk it was in failed). */
    void reject(String rejectStage, String rejectReason) {
      content = preview(document.text());
      document = null;
      stage = rejectStage;
      reason = rejectReason;
    }
  }

  private final Path input;
  private final String infoField;
  private final DocumentLines lines;
  private final long totalBytes;

  JsonlReader(JsonlEditJob.Options options) throws IOException {
    this.input = options.input();
    this.infoField = options.infoField();
    this.totalBytes = Files.size(input);
    this.lines = new DocumentLines(input, new DocumentCodec(options.textField(), options.idField(),
        options.maxDocumentChars(), "--max-document-chars"), options.maxLineBytes(), "--max-line-bytes",
        "--text-field");
  }

  /** Input bytes consumed so far (compressed bytes for gzip). */
  long bytesRead() {
    return lines.bytesRead();
  }

  /** The input file's size. */
  long totalBytes() {
    return totalBytes;
  }

  /** The next line, or null at the end. */
  Line next() throws IOException {
    DocumentLines.Line line;
    try {
      line = lines.next();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + "; the output holds the lines before it", e.getCause());
    }
    return line == null ? null : parse(line);
  }

  private Line parse(DocumentLines.Line line) {
    Line e = new Line(line.number());
    e.stage = "read";
    if (line.isDocument() && line.document().json().has(infoField)) {
      e.reason = Rejection.ALREADY_EDITED.reason("the line has a field '" + infoField
          + "' (choose another name with --info-field)");
    } else if (line.isDocument()) {
      e.document = line.document();
      e.stage = null;
      return e;
    } else {
      e.reason = line.reason();
    }
    e.content = preview(new String(line.bytes(), 0, Math.min(line.length(), CONTENT_PREVIEW * 4),
        StandardCharsets.UTF_8));
    return e;
  }

  static String preview(String s) {
    if (s == null || s.length() <= CONTENT_PREVIEW) {
      return s;
    }
    int end = CONTENT_PREVIEW;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end) + "…";
  }

  @Override
  public void close() throws IOException {
    lines.close();
  }
}
