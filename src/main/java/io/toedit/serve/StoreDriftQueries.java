package io.toedit.serve;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.drift.Reference;
import io.toedit.stream.ToEditTopology;
import io.toedit.stream.drift.DriftReferences;
import io.toedit.stream.drift.DriftStreamConfig;
import io.toedit.stream.drift.DriftWindowJson;
import io.toedit.stream.drift.DriftWindows;
import io.toedit.stream.drift.ObservationBatch;
import io.toedit.text.Vocabulary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * {@link DriftQueries} over the drift stores of a running {@link KafkaStreams}, across instances.
 *
 * <p>A (source, stream) key lives in one task, on one instance. {@code windows} asks Kafka Streams
 * which instance is the active owner ({@code queryMetadataForKey} with the observations topic's
 * partitioner, by source) and answers from the local stores when that is this instance, else
 * forwards the request to the owner's {@code /api/drift} with {@code local=true}. {@code latest}
 * merges the local answers of every instance that hosts the store. Instances find each other through
 * {@code application.server}, which must be this process's HTTP host:port.
 *
 * <p>Metrics are computed at query time from the stored summaries, against the reference the stores
 * hold now (so open windows are answered too).
 */
public final class StoreDriftQueries implements DriftQueries {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<List<Map<String, Object>>> LIST_OF_MAPS = new TypeReference<>() {
  };

  private final KafkaStreams streams;
  private final DriftStreamConfig settings;
  private final Reference fileReference;
  private final Vocabulary vocabulary;
  private final HostInfo self;
  private final HttpClient http;
  private final StreamPartitioner<String, Object> partitioner;

  /**
   * @param self this instance's {@code application.server} (host:port of its HTTP server), or
   *     {@code null} for a single instance
   */
  public StoreDriftQueries(KafkaStreams streams, DriftStreamConfig settings, Vocabulary vocabulary, HostInfo self) {
    this.streams = streams;
    this.settings = settings;
    this.fileReference = DriftReferences.fileReference(settings);
    this.vocabulary = vocabulary;
    this.self = self;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.partitioner = (topic, key, value, n) -> Optional.of(Set.of(ToEditTopology.driftPartition(key, n)));
  }

  /**
   * This instance's {@code application.server} from the Streams properties, or {@code null} when it
   * is not set (a single instance). Set it to the host:port of this process's operator HTTP server
   * before starting the pipeline, so other instances can forward queries here.
   */
  public static HostInfo applicationServer(java.util.Properties streamsProps) {
    String v = streamsProps.getProperty(org.apache.kafka.streams.StreamsConfig.APPLICATION_SERVER_CONFIG, "").strip();
    return v.isEmpty() ? null : HostInfo.buildFromEndpoint(v);
  }

  @Override
  public List<Map<String, Object>> windows(String source, String stream, long fromMs, long toMs) {
    String key = ObservationBatch.key(source, ObservationBatch.parseStream(stream));
    KeyQueryMetadata md = streams.queryMetadataForKey(ToEditTopology.DRIFT_WINDOW_STORE, key, partitioner);
    if (md == null || md == KeyQueryMetadata.NOT_AVAILABLE || self == null || md.activeHost().equals(self)) {
      return localWindows(source, stream, fromMs, toMs);
    }
    String path = "/api/drift?source=" + enc(source) + "&stream=" + enc(stream) + "&from=" + fromMs + "&to=" + toMs
        + "&local=true";
    return get(md.activeHost(), path);
  }

  @Override
  public List<Map<String, Object>> localWindows(String source, String stream, long fromMs, long toMs) {
    String key = ObservationBatch.key(source, ObservationBatch.parseStream(stream));
    ReadOnlyKeyValueStore<String, Long> index = indexStore();
    if (DriftWindows.latestStart(index, key) == null) {
      throw new NoSuchElementException("No drift statistics for source '" + source + "' and stream '" + stream
          + "' (check the source name; windows appear after the first scored micro-batch)");
    }
    ReadOnlyWindowStore<String, byte[]> windows = windowStore();
    ReadOnlyKeyValueStore<String, byte[]> refs = referenceStore();
    List<Map<String, Object>> out = new ArrayList<>();
    try (WindowStoreIterator<byte[]> it = windows.fetch(key, Instant.ofEpochMilli(Math.max(0, fromMs)),
        Instant.ofEpochMilli(toMs))) {
      while (it.hasNext()) {
        var kv = it.next();
        out.add(DriftWindowJson.json(DriftWindows.fromStores(key, kv.key, kv.value, windows, refs, settings,
            fileReference, vocabulary)));
      }
    }
    return out;
  }

  @Override
  public List<Map<String, Object>> latest() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (StreamsMetadata md : streams.streamsMetadataForStore(ToEditTopology.DRIFT_WINDOW_STORE)) {
      if (self == null || md.hostInfo().equals(self)) {
        out.addAll(localLatest());
      } else {
        out.addAll(get(md.hostInfo(), "/api/windows/latest?local=true"));
      }
    }
    if (self == null && out.isEmpty()) {
      out.addAll(localLatest());
    }
    out.sort(Comparator.comparing((Map<String, Object> m) -> String.valueOf(m.get("source")))
        .thenComparing(m -> String.valueOf(m.get("stream"))));
    return out;
  }

  @Override
  public List<Map<String, Object>> localLatest() {
    ReadOnlyWindowStore<String, byte[]> windows = windowStore();
    ReadOnlyKeyValueStore<String, byte[]> refs = referenceStore();
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map.Entry<String, Long> e : DriftWindows.latestStarts(indexStore()).entrySet()) {
      byte[] summary = windows.fetch(e.getKey(), e.getValue());
      if (summary != null) {
        out.add(DriftWindowJson.json(DriftWindows.fromStores(e.getKey(), e.getValue(), summary, windows, refs,
            settings, fileReference, vocabulary)));
      }
    }
    return out;
  }

  private ReadOnlyWindowStore<String, byte[]> windowStore() {
    return streams.store(StoreQueryParameters.fromNameAndType(ToEditTopology.DRIFT_WINDOW_STORE,
        QueryableStoreTypes.<String, byte[]>windowStore()));
  }

  private ReadOnlyKeyValueStore<String, Long> indexStore() {
    return streams.store(StoreQueryParameters.fromNameAndType(ToEditTopology.DRIFT_INDEX_STORE,
        QueryableStoreTypes.<String, Long>keyValueStore()));
  }

  private ReadOnlyKeyValueStore<String, byte[]> referenceStore() {
    return streams.store(StoreQueryParameters.fromNameAndType(ToEditTopology.DRIFT_REFERENCE_STORE,
        QueryableStoreTypes.<String, byte[]>keyValueStore()));
  }

  private List<Map<String, Object>> get(HostInfo host, String path) {
    URI uri = URI.create("http://" + host.host() + ":" + host.port() + path);
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (r.statusCode() == 404) {
        Map<String, Object> err = JSON.readValue(r.body(), new TypeReference<Map<String, Object>>() {
        });
        throw new NoSuchElementException(String.valueOf(err.get("error")));
      }
      if (r.statusCode() != 200) {
        throw new IllegalStateException("Instance " + host + " answered " + r.statusCode() + " to " + path + ": "
            + r.body());
      }
      return JSON.readValue(r.body(), LIST_OF_MAPS);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot query the drift store owner " + uri
          + " (is its application.server reachable from here?)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while querying " + uri, e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
