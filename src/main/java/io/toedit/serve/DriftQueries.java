package io.toedit.serve;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Read-only queries over the drift window stores, answered as plain JSON-ready maps. The HTTP layer
 * only maps routes to these methods; implementations query the local stores and, for keys owned by
 * another instance, that instance (Kafka Streams {@code application.server}).
 */
public interface DriftQueries {

  /**
   * Closed and open windows of one source and stream ({@code raw} or {@code edited}) whose start
   * lies in {@code [fromMs, toMs]}, oldest first.
   *
   * @throws NoSuchElementException if the source/stream pair has never been seen (HTTP 404)
   */
  List<Map<String, Object>> windows(String source, String stream, long fromMs, long toMs);

  /** The newest window of every (source, stream) pair. */
  List<Map<String, Object>> latest();

  /**
   * As {@link #windows}, answered from this instance alone (a request forwarded by another
   * instance, {@code local=true}, so forwards never loop). Defaults to {@link #windows}.
   */
  default List<Map<String, Object>> localWindows(String source, String stream, long fromMs, long toMs) {
    return windows(source, stream, fromMs, toMs);
  }

  /** As {@link #latest}, from this instance alone ({@code local=true}). Defaults to {@link #latest}. */
  default List<Map<String, Object>> localLatest() {
    return latest();
  }

  /**
   * Answers through whatever {@code target} holds when asked: for servers that start before the
   * stores exist (the HTTP address must be known before Kafka Streams starts, as its
   * {@code application.server}).
   */
  static DriftQueries deferred(java.util.function.Supplier<DriftQueries> target) {
    return new DriftQueries() {
      @Override
      public List<Map<String, Object>> windows(String source, String stream, long fromMs, long toMs) {
        return target.get().windows(source, stream, fromMs, toMs);
      }

      @Override
      public List<Map<String, Object>> latest() {
        return target.get().latest();
      }

      @Override
      public List<Map<String, Object>> localWindows(String source, String stream, long fromMs, long toMs) {
        return target.get().localWindows(source, stream, fromMs, toMs);
      }

      @Override
      public List<Map<String, Object>> localLatest() {
        return target.get().localLatest();
      }
    };
  }

  /** An empty implementation, for processes without drift statistics. */
  static DriftQueries none() {
    return new DriftQueries() {
      @Override
      public List<Map<String, Object>> windows(String source, String stream, long fromMs, long toMs) {
        throw new NoSuchElementException("No drift statistics for source '" + source + "' and stream '" + stream + "'");
      }

      @Override
      public List<Map<String, Object>> latest() {
        return List.of();
      }
    };
  }
}
