package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.avro.DriftWindow;
import io.toedit.avro.EditedDocument;
import io.toedit.edit.EditConfig;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.serve.DriftQueries;
import io.toedit.serve.OperatorServer;
import io.toedit.serve.PipelineMetrics;
import io.toedit.serve.StoreDriftQueries;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.PipelineConfig;
import io.toedit.stream.PipelineRunner;
import io.toedit.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift statistics through a real broker with the real stories260k model: two sources (TinyStories
 * and Tiny Shakespeare), documents timestamped into two one-minute windows, closed by a later
 * document per source; closed windows read from the drift topic with read_committed, and the
 * interactive queries over HTTP through an {@link OperatorServer} backed by {@link StoreDriftQueries}.
 */
class DriftIT {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String STORIES = "tinystories";
  static final String BARD = "shakespeare-ü";
  static final int PER_WINDOW = 12;
  static final long MIN = 60_000L;

  @TempDir
  Path tmp;

  @Test
  void shouldPublishClosedWindowsOnceAndAnswerQueriesAcrossTheStores() throws Exception {
    List<JsonNode> stories = read("corpora/tinystories_valid.jsonl.gz", 2 * PER_WINDOW + 1);
    List<JsonNode> bard = read("corpora/tinyshakespeare.jsonl.gz", 2 * PER_WINDOW + 1);
    long t0 = (System.currentTimeMillis() / MIN - 10) * MIN;

    String run = KafkaTestCluster.uniqueTopic("drift-it");
    AtomicReference<DriftQueries> queries = new AtomicReference<>(DriftQueries.none());
    PipelineMetrics metrics = new PipelineMetrics();
    try (OperatorServer server = OperatorServer.start("127.0.0.1", 0, metrics.registry(), DriftQueries.deferred(queries::get),
        metrics::status)) {
      Properties props = KafkaTestCluster.clientProperties();
      props.setProperty(StreamsConfig.APPLICATION_ID_CONFIG, run);
      props.setProperty(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state").toString());
      props.setProperty(StreamsConfig.APPLICATION_SERVER_CONFIG, "127.0.0.1:" + server.port());
      props.setProperty("toedit.input.topic", run + ".raw");
      props.setProperty("toedit.edited.topic", run + ".edited");
      props.setProperty("toedit.dlq.topic", run + ".dlq");
      props.setProperty("toedit.drift.topic", run + ".drift");
      props.setProperty("toedit.drift.alerts.topic", run + ".alerts");
      // Two input partitions = two batch tasks whose observation batches interleave in event time. Grace
      // 0 (it needed 120 s before): windows close on the minimum of both partitions' watermarks, also
      // before a partition is first seen (toedit.drift.origins, read at start-up), and a partition's
      // watermark waits for the edited twins and buffered documents it still has to send.
      props.setProperty("toedit.drift.grace.ms", "0");
      props.setProperty("toedit.input.max.chars", "20000");
      PipelineConfig config = PipelineConfig.fromProperties(props);
      assertEquals(run + "-drift-observations", config.drift().observationsTopic());
      KafkaTestCluster.createTopics(2, config.inputTopic(), config.editedTopic(), config.deadLetterTopic());

      ModelSettings settings = ModelSettings.defaults();
      try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings);
          PipelineRunner runner = PipelineRunner.start(props, tokenizer, scorer, EditConfig.defaults(), metrics)) {
        KafkaStreams streams = runner.streams();
        queries.set(new StoreDriftQueries(streams, config.drift(), tokenizer.vocabulary(),
            StoreDriftQueries.applicationServer(props)));
        assertEquals(new HostInfo("127.0.0.1", server.port()), StoreDriftQueries.applicationServer(props));

        // Two windows per source, then (once all of them are edited) one document per source in a later
        // window, which moves stream time past both.
        List<ProducerRecord<byte[], byte[]>> first = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
          for (int i = 0; i < PER_WINDOW; i++) {
            first.add(record(config, stories.get(w * PER_WINDOW + i), STORIES, t0 + w * MIN + i * 1000));
            first.add(record(config, bard.get(w * PER_WINDOW + i), BARD, t0 + w * MIN + i * 1000 + 500));
          }
        }
        produce(first);
        List<ConsumerRecord<String, EditedDocument>> edited = KafkaTestCluster.consumeAll(config.editedTopic(),
            AvroSerde.edited().deserializer(), first.size(), Duration.ofMinutes(5));
        assertEquals(first.size(), edited.size());
        produce(List.of(record(config, stories.get(2 * PER_WINDOW), STORIES, t0 + 5 * MIN),
            record(config, bard.get(2 * PER_WINDOW), BARD, t0 + 5 * MIN)));

        List<ConsumerRecord<String, DriftWindow>> closed = KafkaTestCluster.consumeAll(config.drift().driftTopic(),
            AvroSerde.of(DriftWindow.class).deserializer(), 8, Duration.ofMinutes(3));
        assertEquals(8, closed.size(), "2 sources x 2 streams x 2 windows, each once");
        // Each document is observed raw and edited: both windows of a source and time hold the same count.
        java.util.Map<String, java.util.Map<String, Long>> counts = new java.util.TreeMap<>();
        for (ConsumerRecord<String, DriftWindow> r : closed) {
          counts.computeIfAbsent(r.value().getSource() + "@" + r.value().getWindowStart(), k -> new java.util.TreeMap<>())
              .put(r.value().getStream(), r.value().getDocuments());
        }
        for (var e : counts.entrySet()) {
          assertEquals(e.getValue().get("raw"), e.getValue().get("edited"), "raw and edited documents of " + counts);
        }
        Set<String> seen = new HashSet<>();
        for (ConsumerRecord<String, DriftWindow> r : closed) {
          DriftWindow w = r.value();
          assertTrue(seen.add(w.getSource() + "|" + w.getStream() + "|" + w.getWindowStart()), "duplicate " + w);
          assertEquals(w.getSource() + "|" + w.getStream(), r.key());
          assertEquals(PER_WINDOW, w.getDocuments(), "documents of " + r.key() + " at " + w.getWindowStart());
          assertTrue(w.getWindowStart() == t0 || w.getWindowStart() == t0 + MIN);
          assertEquals(w.getWindowStart() + MIN, w.getWindowEnd());
          assertNotNull(w.getEditedVsRawJsd());
          if (w.getStream().equals("raw")) {
            assertTrue(w.getMeanNll() > 0.3 && w.getMeanNll() < 8, "mean NLL " + w.getMeanNll());
          } else {
            assertNull(w.getMeanNll());
          }
          assertTrue(w.getTopNgrams().size() > 0);
          assertNull(w.getJsd(), "first-windows reference (5 windows): none yet");
        }
        assertEquals(Set.of(STORIES, BARD), closed.stream().map(r -> r.value().getSource())
            .collect(java.util.stream.Collectors.toSet()));

        // Interactive queries through the operator server.
        String base = "http://127.0.0.1:" + server.port();
        HttpResponse<String> windows = get(base + "/api/drift?source=" + URLEncoder.encode(BARD, StandardCharsets.UTF_8)
            + "&stream=raw");
        assertEquals(200, windows.statusCode(), windows.body());
        JsonNode list = JSON.readTree(windows.body());
        assertEquals(3, list.size(), "two closed windows and the open one: " + windows.body());
        Set<String> keys = new LinkedHashSet<>();
        list.get(0).fieldNames().forEachRemaining(keys::add);
        assertEquals(Set.of("source", "stream", "start", "end", "documents", "tokens", "meanNll", "perplexity", "jsd",
            "klSmoothed", "top1pctBucketShare", "top40BigramShare", "distinct1", "distinct2", "distinct3", "entropy2",
            "editRate", "overThresholdRate", "editedVsRawJsd", "contaminationScore", "contaminated", "probHistogram",
            "topNgrams", "syntheticFraction", "syntheticFractionLow", "syntheticFractionHigh", "excessPValue",
            "nllKsPValue", "ngramPValue", "alert", "lateDocuments"), keys);
        assertEquals(0, list.get(0).get("lateDocuments").asLong(), "no document of this run was late");
        assertEquals(t0, list.get(0).get("start").asLong());
        assertEquals(PER_WINDOW, list.get(0).get("documents").asInt());
        assertEquals(1, list.get(2).get("documents").asInt());
        assertEquals(10, list.get(0).get("probHistogram").size());
        assertTrue(list.get(0).get("topNgrams").get(0).get("text").isTextual());
        Map<Long, Long> tokensByStart = new HashMap<>();
        for (ConsumerRecord<String, DriftWindow> r : closed) {
          if (r.key().equals(BARD + "|raw")) {
            tokensByStart.put(r.value().getWindowStart(), r.value().getTokens());
          }
        }
        assertEquals(tokensByStart.get(t0), list.get(0).get("tokens").asLong(), "the store and the topic agree");

        HttpResponse<String> ranged = get(base + "/api/drift?source=" + STORIES + "&stream=edited&from=" + (t0 + MIN)
            + "&to=" + (t0 + MIN));
        assertEquals(200, ranged.statusCode(), ranged.body());
        assertEquals(1, JSON.readTree(ranged.body()).size());

        HttpResponse<String> latest = get(base + "/api/windows/latest");
        assertEquals(200, latest.statusCode(), latest.body());
        JsonNode newest = JSON.readTree(latest.body());
        assertEquals(4, newest.size(), latest.body());
        for (JsonNode w : newest) {
          assertEquals(t0 + 5 * MIN, w.get("start").asLong());
          assertEquals(1, w.get("documents").asInt());
        }

        HttpResponse<String> unknown = get(base + "/api/drift?source=nirgendwo&stream=raw");
        assertEquals(404, unknown.statusCode(), unknown.body());

        String scrape = metrics.registry().scrape();
        assertTrue(scrape.contains("toedit_drift_mean_nll{source=\"" + STORIES + "\",stream=\"raw\"}"), scrape);
        assertTrue(scrape.contains("toedit_drift_distinct2{source=\"" + BARD + "\",stream=\"edited\"}"));
        assertNull(runner.failure());

        // A second instance of the same application: its server must give the same answers, from its
        // own stores or by forwarding to the owner (application.server), whichever owns the keys now.
        PipelineMetrics metrics2 = new PipelineMetrics();
        AtomicReference<DriftQueries> queries2 = new AtomicReference<>(DriftQueries.none());
        try (OperatorServer server2 = OperatorServer.start("127.0.0.1", 0, metrics2.registry(),
            DriftQueries.deferred(queries2::get), metrics2::status)) {
          Properties props2 = (Properties) props.clone();
          props2.setProperty(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state2").toString());
          props2.setProperty(StreamsConfig.APPLICATION_SERVER_CONFIG, "127.0.0.1:" + server2.port());
          try (PipelineRunner runner2 = PipelineRunner.start(props2, tokenizer, scorer, EditConfig.defaults(), metrics2)) {
            queries2.set(new StoreDriftQueries(runner2.streams(), config.drift(), tokenizer.vocabulary(),
                StoreDriftQueries.applicationServer(props2)));
            String base2 = "http://127.0.0.1:" + server2.port();
            String path = "/api/drift?source=" + URLEncoder.encode(BARD, StandardCharsets.UTF_8) + "&stream=raw";
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            HttpResponse<String> fromFirst = null;
            HttpResponse<String> fromSecond = null;
            HttpResponse<String> latestSecond = null;
            while (System.nanoTime() < deadline) {
              fromFirst = get(base + path);
              fromSecond = get(base2 + path);
              latestSecond = get(base2 + "/api/windows/latest");
              if (fromFirst.statusCode() == 200 && fromSecond.statusCode() == 200 && latestSecond.statusCode() == 200
                  && JSON.readTree(fromFirst.body()).equals(list) && JSON.readTree(fromSecond.body()).equals(list)
                  && JSON.readTree(latestSecond.body()).size() == 4) {
                break;
              }
              Thread.sleep(1000);
            }
            assertEquals(list, JSON.readTree(fromSecond.body()), "second instance: " + fromSecond.body());
            assertEquals(list, JSON.readTree(fromFirst.body()), "first instance after the rebalance: " + fromFirst.body());
            assertEquals(4, JSON.readTree(latestSecond.body()).size(), latestSecond.body());
            assertEquals(404, get(base2 + "/api/drift?source=nirgendwo&stream=raw").statusCode());
            assertNull(runner2.failure());
          }
        }
      }
    }
  }

  private static ProducerRecord<byte[], byte[]> record(PipelineConfig config, JsonNode doc, String source, long ts)
      throws IOException {
    String id = source + "-" + doc.get("id").asText();
    Map<String, Object> value = Map.of("id", id, "text", doc.get("text").asText(), "source", source);
    return new ProducerRecord<>(config.inputTopic(), null, ts, id.getBytes(StandardCharsets.UTF_8),
        JSON.writeValueAsBytes(value));
  }

  private static void produce(List<ProducerRecord<byte[], byte[]>> records) {
    Properties p = KafkaTestCluster.clientProperties();
    p.setProperty("acks", "all");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      records.forEach(producer::send);
      producer.flush();
    }
  }

  private static HttpResponse<String> get(String url) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private static List<JsonNode> read(String resource, int limit) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (InputStream raw = DriftIT.class.getClassLoader().getResourceAsStream(resource)) {
      if (raw == null) {
        throw new IOException("missing test resource " + resource);
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null && out.size() < limit) {
        JsonNode n = line.isBlank() ? null : JSON.readTree(line);
        if (n != null && n.path("text").asText().length() < 20_000) {
          out.add(n);
        }
      }
    }
    assertEquals(limit, out.size(), resource);
    return out;
  }
}
