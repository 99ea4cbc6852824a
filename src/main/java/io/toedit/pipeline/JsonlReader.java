package io.toedit.pipeline;

import io.toedit.document.DocumentCodec;
import io.toedit.document.Gzip;
import io.toedit.document.InvalidDocumentException;
import io.toedit.document.JsonDocument;
import io.toedit.document.Rejection;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipException;

/**
 * The reading side of {@link JsonlEditJob}: lines of a JSONL file (gzip detected by its magic
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
  private final int maxLineBytes;
  private final String infoField;
  private final DocumentCodec codec;
  private final CountingInputStream raw;
  private final InputStream in;
  private final BoundedLineReader lines;
  private final long totalBytes;

  JsonlReader(JsonlEditJob.Options options) throws IOException {
    this.input = options.input();
    this.maxLineBytes = options.maxLineBytes();
    this.infoField = options.infoField();
    this.codec = new DocumentCodec(options.textField(), options.idField(), options.maxDocumentChars(),
        "--max-document-chars");
    this.totalBytes = Files.size(input);
    this.raw = new CountingInputStream(Files.newInputStream(input));
    this.in = Gzip.decompressIfGzip(raw, 64 * 1024);
    this.lines = new BoundedLineReader(in, maxLineBytes);
  }

  /** Input bytes consumed so far (compressed bytes for gzip). */
  long bytesRead() {
    return raw.count();
  }

  /** The input file's size. */
  long totalBytes() {
    return totalBytes;
  }

  /** The next line, or null at the end. */
  Line next() throws IOException {
    BoundedLineReader.Line line;
    try {
      line = lines.next();
    } catch (ZipException | EOFException e) {
      throw new IllegalArgumentException(input + ": the gzip stream is corrupt or truncated ("
          + e.getMessage() + "); the output holds the lines before it", e);
    }
    return line == null ? null : parse(line);
  }

  private Line parse(BoundedLineReader.Line line) {
    Line e = new Line(line.number());
    e.stage = "read";
    if (line.oversized()) {
      e.reason = Rejection.LINE_TOO_LONG.reason(line.fullLength() + " bytes, over the limit of " + maxLineBytes
          + " (raise --max-line-bytes to accept it)");
      e.content = preview(new String(line.bytes(), 0, Math.min(line.length(), CONTENT_PREVIEW * 4),
          StandardCharsets.UTF_8));
      return e;
    }
    try {
      JsonDocument doc = codec.decode(line.bytes(), 0, line.length(), Long.toString(line.number()));
      if (doc.json().has(infoField)) {
        throw Rejection.ALREADY_EDITED.exception("the line has a field '" + infoField
            + "' (choose another name with --info-field)");
      }
      e.document = doc;
      e.stage = null;
    } catch (InvalidDocumentException ex) {
      e.reason = ex.getMessage() + (ex.rejection() == Rejection.MISSING_TEXT
          ? " (choose the text field with --text-field)" : "");
      e.content = preview(new String(line.bytes(), 0, line.length(), StandardCharsets.UTF_8));
    }
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
    in.close();
  }

  /** Counts the bytes read from the file, for the progress ETA. */
  private static final class CountingInputStream extends FilterInputStream {
    private volatile long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
