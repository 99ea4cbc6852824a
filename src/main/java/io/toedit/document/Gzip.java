package io.toedit.document;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** Gzip detection by content: the two magic bytes {@code 1F 8B}, whatever the file is called. */
public final class Gzip {

  private static final int MAGIC_0 = 0x1f;
  private static final int MAGIC_1 = 0x8b;

  private Gzip() {
  }

  /** True when the bytes start with the gzip magic. */
  public static boolean isGzip(byte[] head) {
    return head.length >= 2 && (head[0] & 0xff) == MAGIC_0 && (head[1] & 0xff) == MAGIC_1;
  }

  /**
   * The stream, gunzipped when it starts with the gzip magic bytes, else as it is (buffered).
   *
   * @param bufferSize buffer of the returned stream
   */
  public static InputStream decompressIfGzip(InputStream in, int bufferSize) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(in, bufferSize);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    return b0 == MAGIC_0 && b1 == MAGIC_1 ? new GZIPInputStream(buffered, bufferSize) : buffered;
  }
}
