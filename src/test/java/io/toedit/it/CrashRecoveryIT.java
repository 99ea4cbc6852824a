package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.stream.AvroSerde;
import io.toedit.text.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery of the real {@code run} command: the pipeline runs in a child JVM, is killed with
 * SIGKILL twice while it is part-way through the input, and is restarted on the same state directory
 * each time. Read with read_committed, the output must hold exactly one record per input document,
 * each identical to the record an uninterrupted run writes (computed here with the batch path, which
 * the pipeline guarantees equal for the same seed): the same text bytes, edits, counts and provenance,
 * with the model's float figures equal up to rounding (see
 * {@link ReliabilityFixtures#assertSameAsReference}).
 *
 * <p>CI runs {@value #DEFAULT_DOCS} documents; a larger run: {@code mvn -B verify -Dit.test=CrashRecoveryIT
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dtoedit.crash.docs=20000} (2,000 took 10 minutes on a 2-core machine under load 17).
 */
class CrashRecoveryIT {

  static final int DEFAULT_DOCS = 600;

  @TempDir
  Path tmp;

  @Test
  void shouldWriteEveryDocumentExactlyOnceAsAnUninterruptedRunWhenKilledTwiceMidStream() throws Exception {
    int n = Integer.getInteger("toedit.crash.docs", DEFAULT_DOCS);
    assertTrue(n >= 100, "toedit.crash.docs must be at least 100");
    List<RawDocument> docs = ReliabilityFixtures.documents(n);

    String run = KafkaTestCluster.uniqueTopic("crash-it");
    String raw = run + ".raw";
    String edited = run + ".edited";
    String dlq = run + ".dlq";
    KafkaTestCluster.createTopics(2, raw, edited, dlq);
    Map<String, String> props = new LinkedHashMap<>();
    props.put("application.id", run);
    props.put("state.dir", tmp.resolve("state").toString());
    props.put("toedit.input.topic", raw);
    props.put("toedit.edited.topic", edited);
    props.put("toedit.dlq.topic", dlq);
    // A SIGKILLed member leaves the group only when its session expires: keep that short (the
    // broker's minimum), so each restart resumes within seconds rather than 45 s.
    props.put("session.timeout.ms", "6000");
    props.put("heartbeat.interval.ms", "1000");
    props.put("toedit.batch.max.tokens", "2048");
    ReliabilityFixtures.produce(KafkaTestCluster.clientProperties(), raw, docs);

    Path log = tmp.resolve("pipeline.log");
    String bootstrap = KafkaTestCluster.bootstrapServers();
    int[] killAt = {Math.max(1, n / 5), Math.max(2, n * 3 / 5)};
    int kills = 0;
    try (CommittedReader out = new CommittedReader(KafkaTestCluster.clientProperties(), edited)) {
      for (int target : killAt) {
        PipelineProcess p = PipelineProcess.start(bootstrap, props, log);
        try {
          int seen = out.awaitAtLeast(target, Duration.ofMinutes(4), () -> !p.isAlive());
          assertTrue(p.isAlive(), "the pipeline exited by itself:\n" + p.logTail(4000));
          assertTrue(seen >= target, "only " + seen + " committed outputs after 4 min:\n" + p.logTail(4000));
          assertTrue(seen < n, "the whole input was committed before the kill; lower the kill point");
          p.kill9();
          kills++;
          System.out.printf("CrashRecoveryIT: kill -9 #%d of pid %d with %d/%d outputs committed%n", kills, p.pid(),
              seen, n);
        } finally {
          p.close();
        }
      }
      try (PipelineProcess last = PipelineProcess.start(bootstrap, props, log)) {
        int seen = out.awaitAtLeast(n, Duration.ofMinutes(6), () -> !last.isAlive());
        assertTrue(seen >= n, "only " + seen + "/" + n + " outputs after the last restart:\n" + last.logTail(4000));
        out.settle(Duration.ofSeconds(3));
        assertTrue(last.isAlive(), "the pipeline exited by itself:\n" + last.logTail(4000));
        assertEquals(0, last.stop(), "SIGTERM is a clean stop (README: commits and exits 0):\n" + last.logTail(4000));
        assertTrue(last.logTail(4000).contains("state=stopped in="), "the final progress line:\n" + last.logTail(4000));
      }
      assertEquals(2, kills);

      // Exactly one committed record per input id, nothing dead-lettered.
      Map<String, byte[]> byId = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : out.records()) {
        String key = new String(r.key(), StandardCharsets.UTF_8);
        EditedDocument e = AvroSerde.edited().decode(r.value());
        assertEquals(key, e.getId());
        assertEquals(null, byId.put(key, r.value()), "duplicate committed output for " + key);
      }
      assertEquals(n, byId.size(), "one output per input");
      try (CommittedReader dead = new CommittedReader(KafkaTestCluster.clientProperties(), dlq)) {
        dead.settle(Duration.ofSeconds(2));
        assertEquals(0, dead.records().size(), "in = out + dead-letter, and no valid document is dead-lettered");
      }

      // The same records as an uninterrupted run with the same seed.
      ModelSettings settings = ModelSettings.defaults();
      try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
        Map<String, byte[]> reference = ReliabilityFixtures.reference(docs, tokenizer, scorer, EditConfig.defaults());
        long changed = 0;
        for (RawDocument d : docs) {
          byte[] got = byId.get(d.getId());
          ReliabilityFixtures.assertSameAsReference(d.getId(), reference.get(d.getId()), got);
          changed += AvroSerde.edited().decode(got).getChanged();
        }
        assertTrue(changed > 0, "some tokens were edited");
      }
    }
  }
}
