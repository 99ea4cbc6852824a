package io.toedit.pipeline;

import io.toedit.document.DocumentCodec;
import io.toedit.document.Gzip;
import io.toedit.document.InvalidDocumentException;
import io.toedit.document.JsonDocument;
import io.toedit.document.Rejection;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.zip.ZipException;

/**
 * The documents of a JSONL input (gzip detected by its magic bytes), one per line, each decoded by
 * a {@link DocumentCodec}: the format and the refusals of the stream's JSON input, with the line
 * number as the fallback id. A line longer than {@code maxLineBytes} is refused without being held
 * in memory (a gzip bomb costs time, not memory). Used by {@code edit} and {@code drift}. Not
 * thread-safe; the caller closes it.
 */
public final class DocumentLines implements Closeable {

  /**
   * One line: its {@code document}, or the {@code reason} it was refused (starting with a
   * {@link Rejection} prefix); {@code bytes[0, length)} is the line as read (only its first
   * {@code maxLineBytes} when too long).
   */
  public record Line(long number, JsonDocument document, String reason, byte[] bytes, int length) {
    public boolean isDocument() {
      return document != null;
    }
  }

  private final String name;
  private final DocumentCodec codec;
  private final int maxLineBytes;
  private final String maxLineBytesOption;
  private final String textFieldOption;
  private final CountingInputStream raw;
  private final InputStream in;
  private final BoundedLineReader lines;

  /**
   * @param input the file; {@code name} (shown in errors) is its path
   * @param maxLineBytesOption the option that raises {@code maxLineBytes}, named in the reason
   * @param textFieldOption the option that chooses the text field, named when it is missing
   */
  public DocumentLines(Path input, DocumentCodec codec, int maxLineBytes, String maxLineBytesOption,
      String textFieldOption) throws IOException {
    this(input.toString(), java.nio.file.Files.newInputStream(input), codec, maxLineBytes, maxLineBytesOption,
        textFieldOption);
  }

  DocumentLines(String name, InputStream input, DocumentCodec codec, int maxLineBytes, String maxLineBytesOption,
      String textFieldOption) throws IOException {
    if (maxLineBytes < 1) {
      throw new IllegalArgumentException(maxLineBytesOption + " must be positive, got " + maxLineBytes);
    }
    this.name = name;
    this.codec = codec;
    this.maxLineBytes = maxLineBytes;
    this.maxLineBytesOption = maxLineBytesOption;
    this.textFieldOption = textFieldOption;
    this.raw = new CountingInputStream(input);
    this.in = Gzip.decompressIfGzip(raw, 64 * 1024);
    this.lines = new BoundedLineReader(in, maxLineBytes);
  }

  /** Input bytes consumed so far (compressed bytes for gzip). */
  public long bytesRead() {
    return raw.count();
  }

  /**
   * The next line, or null at the end.
   *
   * @throws IllegalArgumentException when the gzip stream is corrupt or truncated
   */
  public Line next() throws IOException {
    BoundedLineReader.Line line;
    try {
      line = lines.next();
    } catch (ZipException | EOFException e) {
      throw new IllegalArgumentException(name + ": the gzip stream is corrupt or truncated (" + e.getMessage()
          + ")", e);
    }
    if (line == null) {
      return null;
    }
    if (line.oversized()) {
      return new Line(line.number(), null, Rejection.LINE_TOO_LONG.reason(line.fullLength() + " bytes, over the"
          + " limit of " + maxLineBytes + " (raise " + maxLineBytesOption + " to accept it)"), line.bytes(),
          line.length());
    }
    try {
      JsonDocument doc = codec.decode(line.bytes(), 0, line.length(), Long.toString(line.number()));
      return new Line(line.number(), doc, null, line.bytes(), line.length());
    } catch (InvalidDocumentException e) {
      String reason = e.getMessage() + (e.rejection() == Rejection.MISSING_TEXT
          ? " (choose the text field with " + textFieldOption + ")" : "");
      return new Line(line.number(), null, reason, line.bytes(), line.length());
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
