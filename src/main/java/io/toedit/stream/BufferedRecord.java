package io.toedit.stream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * One input record waiting in the micro-batch buffer: its original bytes (so a later model failure
 * can still dead-letter them unchanged), where it came from, and its token count.
 *
 * <p>Stored in the changelogged buffer store; the format starts with a version byte so it can
 * change without breaking a store restored from an older changelog.
 */
record BufferedRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value,
    int tokens) {

  private static final byte VERSION = 1;

  /** Store key: partition then offset, big-endian, so iteration order is input order. */
  static byte[] storeKey(int partition, long offset) {
    return ByteBuffer.allocate(12).putInt(partition).putLong(offset).array();
  }

  byte[] storeKey() {
    return storeKey(partition, offset);
  }

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + value.length + (key == null ? 0 : key.length));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeUTF(topic);
      out.writeInt(partition);
      out.writeLong(offset);
      out.writeLong(timestamp);
      writeBytes(out, key);
      writeBytes(out, value);
      out.writeInt(tokens);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static BufferedRecord decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw new IllegalStateException("Buffer store entry has format version " + version + ", this build reads "
            + VERSION + ": run the version that wrote it until its buffer drains, or reset the application");
      }
      return new BufferedRecord(in.readUTF(), in.readInt(), in.readLong(), in.readLong(), readBytes(in),
          readBytes(in), in.readInt());
    } catch (IOException e) {
      throw new UncheckedIOException("Corrupt buffer store entry", e);
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    if (b == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(b.length);
      out.write(b);
    }
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }
}
