package io.toedit.pipeline;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads {@code \n}-terminated lines as bytes with a hard cap on the bytes kept per line, so that a
 * huge line (or a gzip bomb that expands to one) costs time but never memory: the excess is
 * skipped and the line is reported as oversized. A trailing {@code \r} is dropped. Not thread-safe.
 */
final class BoundedLineReader {

  /** One line: {@code bytes[0, length)}; when {@code oversized}, only the first maxBytes were kept. */
  record Line(long number, byte[] bytes, int length, long fullLength, boolean oversized) {
  }

  private final InputStream in;
  private final int maxBytes;
  private final byte[] buf = new byte[64 * 1024];
  private int pos;
  private int lim;
  private long lineNumber;
  private boolean eof;

  BoundedLineReader(InputStream in, int maxBytes) {
    this.in = in;
    this.maxBytes = maxBytes;
  }

  /** The next line, or {@code null} at the end of the input (a final line without newline counts). */
  Line next() throws IOException {
    if (eof && pos >= lim) {
      return null;
    }
    byte[] line = new byte[Math.min(256, maxBytes)];
    int len = 0;
    long full = 0;
    boolean any = false;
    while (true) {
      if (pos >= lim) {
        lim = in.read(buf, 0, buf.length);
        pos = 0;
        if (lim <= 0) {
          lim = 0;
          eof = true;
          if (!any) {
            return null;
          }
          break;
        }
      }
      any = true;
      int start = pos;
      while (pos < lim && buf[pos] != '\n') {
        pos++;
      }
      int chunk = pos - start;
      full += chunk;
      int keep = (int) Math.min(chunk, Math.max(0, (long) maxBytes - len));
      if (keep > 0) {
        if (len + keep > line.length) {
          line = Arrays.copyOf(line, (int) Math.min(maxBytes, Math.max(len + keep, 2L * line.length)));
        }
        System.arraycopy(buf, start, line, len, keep);
        len += keep;
      }
      if (pos < lim) {
        pos++; // the newline
        break;
      }
    }
    lineNumber++;
    boolean oversized = full > maxBytes;
    if (!oversized && len > 0 && line[len - 1] == '\r') {
      len--;
      full--;
    }
    return new Line(lineNumber, line, len, full, oversized);
  }
}
