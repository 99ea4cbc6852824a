package io.toedit.drift;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * Little-endian writer/reader shared by the drift formats. Every format is: a 4-byte magic, a
 * version byte, a family byte, two reserved zero bytes, the body, then a CRC-32 of all preceding
 * bytes, so any single corrupted byte is detected.
 */
final class Codec {

  private Codec() {
  }

  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

    Writer header(byte[] magic, int version, int family) {
      out.writeBytes(magic);
      out.write(version);
      out.write(family);
      out.write(0);
      out.write(0);
      return this;
    }

    Writer i32(int v) {
      scratch.clear();
      scratch.putInt(v);
      out.write(scratch.array(), 0, 4);
      return this;
    }

    Writer i64(long v) {
      scratch.clear();
      scratch.putLong(v);
      out.write(scratch.array(), 0, 8);
      return this;
    }

    Writer f64(double v) {
      return i64(Double.doubleToLongBits(v));
    }

    Writer varint(long v) {
      if (v < 0) {
        throw new IllegalArgumentException("varint must be non-negative: " + v);
      }
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
      return this;
    }

    Writer blob(byte[] b) {
      i32(b.length);
      out.writeBytes(b);
      return this;
    }

    /** Appends the CRC-32 of everything written so far and returns the bytes. */
    byte[] finish() {
      CRC32 crc = new CRC32();
      byte[] body = out.toByteArray();
      crc.update(body);
      i32((int) crc.getValue());
      return out.toByteArray();
    }
  }

  static final class Reader {
    private final ByteBuffer buf;
    private final String what;
    private final int version;

    /**
     * Checks magic, version, family, reserved bytes and the trailing CRC-32, in that order, then
     * positions the reader after the 8-byte header.
     */
    Reader(byte[] bytes, String what, byte[] magic, int version, int family) {
      this(bytes, what, magic, version, version, family);
    }

    /** As above, accepting any serial version in {@code [minVersion, version]} (see {@link #version()}). */
    Reader(byte[] bytes, String what, byte[] magic, int minVersion, int version, int family) {
      this.what = what;
      if (bytes == null) {
        throw new SummaryFormatException(what + ": bytes must not be null");
      }
      if (bytes.length < 12) {
        throw new SummaryFormatException("Possible corruption: " + what + " length must be at least 12: "
            + bytes.length);
      }
      for (int i = 0; i < magic.length; i++) {
        if (bytes[i] != magic[i]) {
          throw new SummaryFormatException("Possible corruption: " + what + " magic byte " + i + " must be "
              + (magic[i] & 0xFF) + ": " + (bytes[i] & 0xFF) + " (not a " + what + ")");
        }
      }
      int v = bytes[4] & 0xFF;
      if (v < minVersion || v > version) {
        throw new SummaryFormatException("Possible corruption: " + what + " serial version (byte 4) must be "
            + (minVersion == version ? String.valueOf(version) : "in [" + minVersion + ", " + version + "]")
            + ": " + v + " (written by another version; rebuild it with this version)");
      }
      this.version = v;
      check(bytes[5] & 0xFF, family, "family (byte 5)", "");
      check(bytes[6] & 0xFF, 0, "reserved byte 6", "");
      check(bytes[7] & 0xFF, 0, "reserved byte 7", "");
      this.buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      int stored = buf.getInt(bytes.length - 4);
      CRC32 crc = new CRC32();
      crc.update(bytes, 0, bytes.length - 4);
      int actual = (int) crc.getValue();
      if (stored != actual) {
        throw new SummaryFormatException("Possible corruption: " + what + " CRC-32 (last 4 bytes) must be "
            + Integer.toHexString(actual) + ": " + Integer.toHexString(stored)
            + " (the bytes were damaged or truncated)");
      }
      buf.limit(bytes.length - 4);
      buf.position(8);
    }

    /** The serial version of the bytes being read. */
    int version() {
      return version;
    }

    void check(long actual, long expected, String field, String hint) {
      if (actual != expected) {
        throw new SummaryFormatException("Possible corruption: " + what + " " + field + " must be "
            + expected + ": " + actual + hint);
      }
    }

    private void need(int n) {
      if (buf.remaining() < n) {
        throw new SummaryFormatException("Possible corruption: " + what + " needs " + n
            + " more bytes at offset " + buf.position() + ", has " + buf.remaining());
      }
    }

    int i32() {
      need(4);
      return buf.getInt();
    }

    long i64() {
      need(8);
      return buf.getLong();
    }

    double f64() {
      return Double.longBitsToDouble(i64());
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        need(1);
        byte b = buf.get();
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          return v;
        }
      }
      throw new SummaryFormatException("Possible corruption: " + what + " varint longer than 10 bytes");
    }

    byte[] blob(String field) {
      int n = i32();
      if (n < 0 || n > buf.remaining()) {
        throw new SummaryFormatException("Possible corruption: " + what + " " + field
            + " length must be in [0, " + buf.remaining() + "]: " + n);
      }
      byte[] b = new byte[n];
      buf.get(b);
      return b;
    }

    long nonNegative(String field) {
      long v = i64();
      if (v < 0) {
        throw new SummaryFormatException("Possible corruption: " + what + " " + field
            + " must be non-negative: " + v);
      }
      return v;
    }

    void end() {
      if (buf.hasRemaining()) {
        throw new SummaryFormatException("Possible corruption: " + what + " must end at offset "
            + buf.position() + ": " + buf.remaining() + " bytes left");
      }
    }

    SummaryFormatException corrupt(String detail, Throwable cause) {
      return new SummaryFormatException("Possible corruption: " + what + " " + detail, cause);
    }
  }
}
