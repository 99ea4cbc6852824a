package io.toedit.stream;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last line of defence behind the size checks of {@link OutputRecords}: a record the producer or
 * the broker still refuses (too large, invalid, unserializable) becomes a {@code DeadLetter} on the
 * dead-letter topic (stage {@code produce}; key = the refused record's key, no value, the refused
 * topic in {@code topic}, partition and offset -1) and processing resumes. Any other send failure
 * (authorization, a missing topic, a fenced producer) fails the client as before: it is no property
 * of one record.
 *
 * <p>A dead letter that is itself refused is retried once without key and value; if that fails
 * too, the client fails (nothing is dropped silently).
 *
 * <p>Configured by {@link PipelineRunner} through {@value #DLQ_TOPIC_CONFIG},
 * {@value #FORMAT_CONFIG} and {@value #LIMIT_CONFIG} in the Streams properties.
 */
public final class DeadLetterProductionHandler implements ProductionExceptionHandler {

  public static final String DLQ_TOPIC_CONFIG = "toedit.internal.dlq.topic";
  public static final String FORMAT_CONFIG = "toedit.internal.output.format";
  public static final String LIMIT_CONFIG = "toedit.internal.max.record.bytes";
  static final String STAGE = "produce";

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProductionHandler.class);

  private String dlqTopic = PipelineConfig.KEYS.get("toedit.dlq.topic");
  private OutputRecords output = new OutputRecords(PipelineConfig.defaults());

  @Override
  public void configure(Map<String, ?> configs) {
    Object topic = configs.get(DLQ_TOPIC_CONFIG);
    if (topic != null) {
      dlqTopic = topic.toString();
    }
    Properties p = new Properties();
    Object format = configs.get(FORMAT_CONFIG);
    if (format != null) {
      p.setProperty("toedit.output.format", format.toString());
    }
    Object limit = configs.get(LIMIT_CONFIG);
    if (limit != null) {
      p.setProperty("toedit.output.max.record.bytes", limit.toString());
    }
    output = new OutputRecords(PipelineConfig.fromProperties(p));
  }

  @Override
  public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception e) {
    return handle(record.topic(), record.key(), record.timestamp(), e);
  }

  @Override
  @SuppressWarnings("rawtypes")
  public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record, Exception e,
      SerializationExceptionOrigin origin) {
    Object key = record.key();
    byte[] keyBytes = key instanceof byte[] b ? b : key == null ? null : key.toString().getBytes(StandardCharsets.UTF_8);
    return handle(record.topic(), keyBytes, record.timestamp(), e);
  }

  /** Whether a failure belongs to the one record (so dead-lettering it is right), not to the client. */
  static boolean isRecordLevel(Exception e) {
    return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
        || e instanceof InvalidRecordException || e instanceof SerializationException
        || e instanceof ClassCastException;
  }

  private Response handle(String topic, byte[] key, Long timestamp, Exception e) {
    if (!isRecordLevel(e)) {
      return Response.fail();
    }
    boolean deadLetter = dlqTopic.equals(topic);
    LOG.error("Could not write a record to {} ({}); {}", topic, e.toString(),
        deadLetter ? "writing a dead letter without its key and value instead" : "dead-lettering it to " + dlqTopic);
    if (deadLetter && key == null) {
      return Response.fail(); // already the minimal dead letter
    }
    String reason = "produce failed: the record for " + topic + " was refused: " + e;
    OutputRecords.KeyValueBytes kv = deadLetter
        ? output.deadLetter(topic, -1, -1, null, null, null, e.getClass().getName(), reason, STAGE,
            System.currentTimeMillis())
        : output.deadLetter(topic, -1, -1, key, null,
            key == null ? null : new String(key, StandardCharsets.UTF_8), e.getClass().getName(), reason, STAGE,
            System.currentTimeMillis());
    return Response.resume(List.of(new ProducerRecord<>(dlqTopic, null, timestamp, kv.key(), kv.value())));
  }
}
