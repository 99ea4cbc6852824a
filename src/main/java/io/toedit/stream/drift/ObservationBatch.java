package io.toedit.stream.drift;

import io.toedit.drift.DocumentObservation;
import io.toedit.drift.StreamKind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.zip.CRC32;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The drift observations of one micro-batch for one (source, stream): the value of the internal
 * observations topic, so the drift aggregation does one read-modify-write per batch and window,
 * not one per document.
 *
 * <p>Binary form, version 1 (big-endian): magic {@code TEOB}, version byte, 3 zero bytes; source
 * (varint length + UTF-8); stream ordinal byte; document count (varint); per document: timestamp
 * (8 bytes), token count (varint) and the ids (varints), a flag byte (1 = probabilities follow, one
 * float each per token), over-threshold, changed, deleted, predicted-token counts (varints), NLL sum
 * (8-byte double); then a CRC-32 of everything before it. Damaged input throws
 * {@link SerializationException} naming what was wrong.
 */
public record ObservationBatch(String source, StreamKind stream, List<DocumentObservation> documents) {

  static final byte[] MAGIC = {'T', 'E', 'O', 'B'};
  static final int VERSION = 1;
  /** Separates source and stream in the key; the stream (no '|') is after the last one. */
  public static final char KEY_SEPARATOR = '|';

  public ObservationBatch {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(stream, "stream");
    documents = List.copyOf(documents);
    for (DocumentObservation d : documents) {
      if (!d.source().equals(source) || d.stream() != stream) {
        throw new IllegalArgumentException("every observation of a batch must be of " + key(source, stream)
            + ", got " + key(d.source(), d.stream()));
      }
    }
  }

  /** The key of the observations topic and of the drift stores: {@code source|raw}, {@code source|edited}. */
  public static String key(String source, StreamKind stream) {
    return source + KEY_SEPARATOR + streamName(stream);
  }

  /** {@code raw} or {@code edited}. */
  public static String streamName(StreamKind stream) {
    return stream.name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code raw} / {@code edited} (any case). */
  public static StreamKind parseStream(String name) {
    for (StreamKind k : StreamKind.values()) {
      if (k.name().equalsIgnoreCase(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException("stream must be raw or edited, got '" + name + "'");
  }

  /** The source part of a {@link #key}. */
  public static String sourceOf(String key) {
    int i = key.lastIndexOf(KEY_SEPARATOR);
    if (i < 0) {
      throw new IllegalArgumentException("not a source|stream key: '" + key + "'");
    }
    return key.substring(0, i);
  }

  /** The stream part of a {@link #key}. */
  public static StreamKind streamOf(String key) {
    int i = key.lastIndexOf(KEY_SEPARATOR);
    if (i < 0) {
      throw new IllegalArgumentException("not a source|stream key: '" + key + "'");
    }
    return parseStream(key.substring(i + 1));
  }

  public String key() {
    return key(source, stream);
  }

  /** Largest document timestamp; {@code Long.MIN_VALUE} when empty. */
  public long maxTimestamp() {
    long max = Long.MIN_VALUE;
    for (DocumentObservation d : documents) {
      max = Math.max(max, d.timestampMs());
    }
    return max;
  }

  public byte[] encode() {
    byte[] src = source.getBytes(StandardCharsets.UTF_8);
    int size = 32 + src.length;
    for (DocumentObservation d : documents) {
      int tokens = d.tokenIds().length;
      size += 48 + 5 * tokens + (d.tokenProbs() == null ? 0 : 4 * d.tokenProbs().length);
    }
    Out out = new Out(size);
    out.bytes(MAGIC);
    out.b(VERSION);
    out.b(0);
    out.b(0);
    out.b(0);
    out.varint(src.length);
    out.bytes(src);
    out.b(stream.ordinal());
    out.varint(documents.size());
    for (DocumentObservation d : documents) {
      out.int64(d.timestampMs());
      int[] ids = d.tokenIds();
      out.varint(ids.length);
      for (int id : ids) {
        out.varint(id);
      }
      float[] probs = d.tokenProbs();
      out.b(probs == null ? 0 : 1);
      if (probs != null) {
        for (float p : probs) {
          out.int32(Float.floatToRawIntBits(p));
        }
      }
      out.varint(d.overThreshold());
      out.varint(d.changed());
      out.varint(d.deleted());
      out.varint(d.predictedTokens());
      out.int64(Double.doubleToRawLongBits(d.nllSum()));
    }
    CRC32 crc = new CRC32();
    crc.update(out.buf, 0, out.n);
    out.int32((int) crc.getValue());
    return out.n == out.buf.length ? out.buf : java.util.Arrays.copyOf(out.buf, out.n);
  }

  /** A growable big-endian byte buffer (the encoding writes one varint per token: no stream per byte). */
  private static final class Out {
    byte[] buf;
    int n;

    Out(int capacity) {
      buf = new byte[Math.max(16, capacity)];
    }

    private void room(int k) {
      if (n + k > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(n + k, 2 * buf.length));
      }
    }

    void b(int v) {
      room(1);
      buf[n++] = (byte) v;
    }

    void bytes(byte[] b) {
      room(b.length);
      System.arraycopy(b, 0, buf, n, b.length);
      n += b.length;
    }

    void int32(int v) {
      room(4);
      buf[n++] = (byte) (v >>> 24);
      buf[n++] = (byte) (v >>> 16);
      buf[n++] = (byte) (v >>> 8);
      buf[n++] = (byte) v;
    }

    void int64(long v) {
      int32((int) (v >>> 32));
      int32((int) v);
    }

    void varint(long v) {
      room(10);
      while ((v & ~0x7FL) != 0) {
        buf[n++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf[n++] = (byte) v;
    }
  }

  /** Reads {@link #encode()} output; throws {@link SerializationException} on damaged input. */
  public static ObservationBatch decode(byte[] bytes) {
    if (bytes == null || bytes.length < 12) {
      throw corrupt("at least 12 bytes expected, got " + (bytes == null ? "null" : bytes.length));
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (bytes[i] != MAGIC[i]) {
        throw corrupt("magic bytes must be TEOB (is this the drift observations topic?)");
      }
    }
    if (bytes[4] != VERSION) {
      throw corrupt("version must be " + VERSION + ": " + bytes[4]
          + " (written by a newer release? upgrade every instance before resuming)");
    }
    if (bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0) {
      throw corrupt("reserved bytes 5-7 must be 0");
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    if ((int) crc.getValue() != buf.getInt(bytes.length - 4)) {
      throw corrupt("CRC-32 mismatch: the record is damaged");
    }
    buf.limit(bytes.length - 4).position(8);
    try {
      int srcLen = (int) readVarint(buf, Integer.MAX_VALUE, "source length");
      byte[] src = new byte[srcLen];
      buf.get(src);
      int ordinal = buf.get();
      if (ordinal < 0 || ordinal >= StreamKind.values().length) {
        throw corrupt("stream ordinal must be in [0, " + StreamKind.values().length + "): " + ordinal);
      }
      StreamKind stream = StreamKind.values()[ordinal];
      String source = new String(src, StandardCharsets.UTF_8);
      int n = (int) readVarint(buf, Integer.MAX_VALUE, "document count");
      List<DocumentObservation> docs = new ArrayList<>(Math.min(n, 1 << 16));
      for (int k = 0; k < n; k++) {
        long ts = buf.getLong();
        int len = (int) readVarint(buf, buf.remaining(), "token count");
        int[] ids = new int[len];
        for (int i = 0; i < len; i++) {
          ids[i] = (int) readVarint(buf, Integer.MAX_VALUE, "token id");
        }
        int flag = buf.get();
        float[] probs = null;
        if (flag == 1) {
          probs = new float[len];
          for (int i = 0; i < len; i++) {
            probs[i] = buf.getFloat();
          }
        } else if (flag != 0) {
          throw corrupt("probability flag must be 0 or 1: " + flag);
        }
        int over = (int) readVarint(buf, Integer.MAX_VALUE, "over-threshold count");
        int changed = (int) readVarint(buf, Integer.MAX_VALUE, "changed count");
        int deleted = (int) readVarint(buf, Integer.MAX_VALUE, "deleted count");
        int predicted = (int) readVarint(buf, Integer.MAX_VALUE, "predicted count");
        double nll = buf.getDouble();
        docs.add(new DocumentObservation(source, stream, ts, ids, probs, over, changed, deleted, nll, predicted));
      }
      if (buf.hasRemaining()) {
        throw corrupt(buf.remaining() + " unexpected trailing bytes");
      }
      return new ObservationBatch(source, stream, docs);
    } catch (java.nio.BufferUnderflowException e) {
      throw new SerializationException("Corrupt drift observation batch: truncated", e);
    } catch (IllegalArgumentException e) {
      throw new SerializationException("Corrupt drift observation batch: " + e.getMessage(), e);
    }
  }

  /** A Kafka serde over {@link #encode()} / {@link #decode(byte[])}. */
  public static Serde<ObservationBatch> serde() {
    Serializer<ObservationBatch> ser = (topic, b) -> b == null ? null : b.encode();
    Deserializer<ObservationBatch> de = (topic, bytes) -> bytes == null ? null : decode(bytes);
    return org.apache.kafka.common.serialization.Serdes.serdeFrom(ser, de);
  }

  private static SerializationException corrupt(String what) {
    return new SerializationException("Corrupt drift observation batch: " + what);
  }

  private static long readVarint(ByteBuffer buf, long max, String what) {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      byte b = buf.get();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (v < 0 || v > max) {
          throw corrupt(what + " out of range [0, " + max + "]: " + v);
        }
        return v;
      }
    }
    throw corrupt(what + ": varint longer than 10 bytes");
  }
}
