package io.toedit.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;

/**
 * Avro records as plain JSON for trainers: field names as keys, unions unwrapped (no {"string": ...}
 * wrappers as Avro's own JSON encoding writes), maps as objects, bytes as base64, timestamps as epoch
 * milliseconds. Non-finite doubles become the strings "NaN"/"Infinity" (Jackson's default).
 */
public final class AvroJson {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private AvroJson() {
  }

  public static ObjectNode toJson(GenericRecord record) {
    ObjectNode out = F.objectNode();
    for (Schema.Field field : record.getSchema().getFields()) {
      out.set(field.name(), value(record.get(field.pos())));
    }
    return out;
  }

  private static JsonNode value(Object v) {
    if (v == null) {
      return F.nullNode();
    } else if (v instanceof GenericRecord r) {
      return toJson(r);
    } else if (v instanceof CharSequence s) {
      return F.textNode(s.toString());
    } else if (v instanceof Integer i) {
      return F.numberNode(i);
    } else if (v instanceof Long l) {
      return F.numberNode(l);
    } else if (v instanceof Float f) {
      return F.numberNode(f);
    } else if (v instanceof Double d) {
      return F.numberNode(d);
    } else if (v instanceof Boolean b) {
      return F.booleanNode(b);
    } else if (v instanceof Instant t) {
      return F.numberNode(t.toEpochMilli());
    } else if (v instanceof ByteBuffer b) {
      ByteBuffer copy = b.duplicate();
      byte[] bytes = new byte[copy.remaining()];
      copy.get(bytes);
      return F.textNode(Base64.getEncoder().encodeToString(bytes));
    } else if (v instanceof GenericFixed f) {
      return F.textNode(Base64.getEncoder().encodeToString(f.bytes()));
    } else if (v instanceof Map<?, ?> m) {
      ObjectNode o = F.objectNode();
      m.forEach((k, x) -> o.set(String.valueOf(k), value(x)));
      return o;
    } else if (v instanceof Collection<?> c) {
      ArrayNode a = F.arrayNode();
      c.forEach(x -> a.add(value(x)));
      return a;
    } else if (v instanceof GenericContainer || v instanceof Enum<?>) {
      return F.textNode(v.toString());
    }
    return F.textNode(v.toString());
  }
}
