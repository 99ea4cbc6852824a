package io.toedit.stream.drift;

import io.toedit.avro.DriftWindow;
import io.toedit.avro.NGramEntry;
import io.toedit.drift.DriftMetrics;
import io.toedit.drift.NGramCount;
import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.SyntheticEstimate;
import io.toedit.drift.WindowSummary;
import io.toedit.text.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

/**
 * Turns a window's {@link WindowSummary} into its published Avro form, {@link DriftWindow}, against
 * the reference {@link DriftReferences} chooses; reads stored windows for the interactive queries.
 * Shared by the {@link DriftProcessor} (closed windows) and the queries (any window). The JSON form
 * is {@link DriftWindowJson}, the gauges {@link DriftGauges}.
 */
public final class DriftWindows {

  private DriftWindows() {
  }

  /**
   * The statistics of one stored window, as a query sees them: compared with the reference that
   * the stores give now (for a first-windows reference, its windows are compared with it too).
   */
  public static DriftWindow fromStores(String key, long start, byte[] summary, ReadOnlyWindowStore<String, byte[]> windows,
      ReadOnlyKeyValueStore<String, byte[]> referenceWindows, DriftStreamConfig settings, Reference fileReference,
      Vocabulary vocabulary) {
    StreamKind stream = ObservationBatch.streamOf(key);
    String pairKey = ObservationBatch.key(ObservationBatch.sourceOf(key),
        stream == StreamKind.RAW ? StreamKind.EDITED : StreamKind.RAW);
    byte[] pair = windows.fetch(pairKey, start);
    Reference ref = DriftReferences.reference(settings, fileReference, key, start,
        k -> DriftProcessor.storedReferenceWindows(referenceWindows, k), windows::fetch);
    return compute(key, start, start + settings.windowSizeMs(), WindowSummary.fromBytes(summary), ref,
        pair == null ? null : WindowSummary.fromBytes(pair), settings, vocabulary);
  }

  /** The newest window start of every key in a local index store. */
  public static Map<String, Long> latestStarts(ReadOnlyKeyValueStore<String, Long> index) {
    Map<String, Long> out = new java.util.TreeMap<>();
    try (KeyValueIterator<String, Long> it = index.prefixScan(DriftProcessor.LATEST_PREFIX, new StringSerializer())) {
      while (it.hasNext()) {
        var kv = it.next();
        out.put(kv.key.substring(DriftProcessor.LATEST_PREFIX.length()), kv.value);
      }
    }
    return out;
  }

  /** The newest window start of {@code key} in a local index store, or null when the key is unknown here. */
  public static Long latestStart(ReadOnlyKeyValueStore<String, Long> index, String key) {
    return index.get(DriftProcessor.latestKey(key));
  }

  /**
   * The published statistics of one window.
   *
   * @param reference what divergences and contamination are against; null: those fields are null
   * @param pair the other stream's window of the same source and start (raw for edited and the
   *     other way round), for {@code editedVsRawJsd}; may be null
   */
  public static DriftWindow compute(String key, long start, long end, WindowSummary summary, Reference reference,
      WindowSummary pair, DriftStreamConfig settings, Vocabulary vocabulary) {
    Reference ref = reference != null ? reference : Reference.of("none", summary);
    DriftMetrics m = DriftMetrics.of(summary, ref, settings.metricsConfig());
    SyntheticEstimate e = m.estimate();
    boolean hasRef = reference != null;
    List<Long> hist = new ArrayList<>(10);
    for (long c : summary.probabilityHistogram()) {
      hist.add(c);
    }
    return DriftWindow.newBuilder()
        .setSource(ObservationBatch.sourceOf(key))
        .setStream(ObservationBatch.streamName(ObservationBatch.streamOf(key)))
        .setWindowStart(start).setWindowEnd(end)
        .setDocuments(summary.documents()).setTokens(summary.tokens())
        .setMeanNll(num(m.meanNll())).setPerplexity(num(m.perplexity()))
        .setReference(hasRef ? reference.name() : null)
        .setJsd(hasRef ? num(m.jsd()) : null).setKlSmoothed(hasRef ? num(m.klSmoothed()) : null)
        .setTop1pctBucketShare(num(m.top1PctBucketShare())).setTop40BigramShare(num(m.top40BigramShare()))
        .setDistinct1(num(m.distinct1Ratio())).setDistinct2(num(m.distinct2Ratio()))
        .setDistinct3(num(m.distinct3Ratio())).setEntropy2(num(m.entropy2()))
        .setEditRate(num(m.editRate())).setOverThresholdRate(num(m.overThresholdRate()))
        .setEditedVsRawJsd(pair == null ? null : num(DriftMetrics.compare(pair, summary)))
        .setContaminationScore(hasRef ? num(m.contaminationScore()) : null)
        .setContaminated(hasRef && e.alert())
        .setSyntheticFraction(hasRef ? num(e.fraction()) : null)
        .setSyntheticFractionLow(hasRef ? num(e.low()) : null)
        .setSyntheticFractionHigh(hasRef ? num(e.high()) : null)
        .setExcessPValue(hasRef ? num(e.excessPValue()) : null)
        .setNllKsPValue(hasRef ? num(e.nllKsPValue()) : null)
        .setNgramPValue(hasRef ? num(e.ngramPValue()) : null)
        .setProbHistogram(hist)
        .setTopNgrams(topNgrams(summary, settings.topNgrams(), vocabulary))
        .build();
  }

  /** The most frequent bigrams and trigrams together, most frequent first. */
  static List<NGramEntry> topNgrams(WindowSummary summary, int limit, Vocabulary vocabulary) {
    List<NGramCount> all = new ArrayList<>(summary.topNGrams(2, limit));
    all.addAll(summary.topNGrams(3, limit));
    all.sort(Comparator.comparingLong(NGramCount::estimate).reversed());
    List<NGramEntry> out = new ArrayList<>();
    for (NGramCount c : all.subList(0, Math.min(limit, all.size()))) {
      List<Integer> ids = new ArrayList<>(c.tokenIds().length);
      for (int id : c.tokenIds()) {
        ids.add(id);
      }
      out.add(NGramEntry.newBuilder().setText(text(c.tokenIds(), vocabulary)).setTokenIds(ids)
          .setCount(c.estimate()).build());
    }
    return out;
  }

  /**
   * Text of token ids through {@link Vocabulary#bytes}: the bytes of consecutive text tokens are
   * joined into UTF-8 (an incomplete character becomes U+FFFD), so byte-fallback and byte-level
   * pieces read as text; special tokens are kept as their pieces, ids without bytes as {@code <id>}.
   */
  static String text(int[] ids, Vocabulary vocabulary) {
    StringBuilder sb = new StringBuilder();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int id : ids) {
      byte[] b = vocabulary.bytes(id);
      if (b != null && !vocabulary.isSpecial(id)) {
        bytes.writeBytes(b);
        continue;
      }
      if (bytes.size() > 0) {
        sb.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
        bytes.reset();
      }
      sb.append(b != null ? vocabulary.piece(id) : "<" + id + ">");
    }
    if (bytes.size() > 0) {
      sb.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  /** NaN and infinities become null: neither Avro consumers nor JSON parsers want them. */
  private static Double num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? null : v;
  }
}
