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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

/**
 * Turns a window's {@link WindowSummary} into its published form (Avro {@link DriftWindow}, JSON
 * map, gauges), and decides which {@link Reference} it is compared with (see {@link DriftSettings}).
 * Shared by the {@link DriftProcessor} (closed windows) and the interactive queries (any window).
 */
public final class DriftWindows {

  /** The gauge names passed to {@link DriftListener}, in this order. */
  public static final List<String> GAUGES = List.of("jsd", "kl_smoothed", "top1pct_bucket_share",
      "top40_bigram_share", "distinct2", "entropy2", "mean_nll", "edit_rate", "contamination_score", "contaminated",
      "synthetic_fraction", "synthetic_fraction_low", "synthetic_fraction_high", "nll_ks_pvalue", "ngram_pvalue");

  private DriftWindows() {
  }

  /**
   * The reference a window of {@code key} is compared with, or {@code null} when there is none
   * yet. {@code storedReferenceWindows} gives the windows kept so far for a first-windows
   * reference; {@code window} fetches another key's window summary at a start time (or null).
   */
  public static Reference reference(DriftSettings settings, Reference fileReference, String key, long start,
      Function<String, List<byte[]>> storedReferenceWindows, BiFunction<String, Long, byte[]> window) {
    StreamKind stream = ObservationBatch.streamOf(key);
    switch (settings.referenceMode()) {
      case DriftSettings.MODE_FILE:
        return fileReference;
      case DriftSettings.MODE_PAIRED_RAW:
        if (stream == StreamKind.EDITED) {
          String rawKey = ObservationBatch.key(ObservationBatch.sourceOf(key), StreamKind.RAW);
          byte[] raw = window.apply(rawKey, start);
          return raw == null ? null : Reference.of("raw stream of " + ObservationBatch.sourceOf(key),
              WindowSummary.fromBytes(raw));
        }
        return firstWindows(settings, key, storedReferenceWindows.apply(key));
      default:
        return firstWindows(settings, key, storedReferenceWindows.apply(key));
    }
  }

  /** The first-windows reference built from {@code stored}, or null while fewer than configured. */
  static Reference firstWindows(DriftSettings settings, String key, List<byte[]> stored) {
    if (stored.size() < settings.referenceWindows()) {
      return null;
    }
    Reference.Accumulator acc = Reference.accumulator("first " + settings.referenceWindows() + " windows of " + key,
        settings.summaryConfig());
    for (int i = 0; i < settings.referenceWindows(); i++) {
      acc.add(WindowSummary.fromBytes(stored.get(i)));
    }
    return acc.build();
  }

  /** The profile of {@code toedit.drift.reference.file} when the reference mode is {@code file}, else null. */
  public static Reference fileReference(DriftSettings drift) {
    if (!drift.referenceMode().equals(DriftSettings.MODE_FILE)) {
      return null;
    }
    Path file = Path.of(drift.referenceFile());
    try {
      return Reference.fromBytes(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the drift reference " + file
          + " (toedit.drift.reference.file; build one with 'profile --input human.jsonl --output ref.bin')", e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Not a drift reference profile: " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The statistics of one stored window, as a query sees them: compared with the reference that
   * the stores give now (for a first-windows reference, its windows are compared with it too).
   */
  public static DriftWindow fromStores(String key, long start, byte[] summary, ReadOnlyWindowStore<String, byte[]> windows,
      ReadOnlyKeyValueStore<String, byte[]> referenceWindows, DriftSettings settings, Reference fileReference,
      Vocabulary vocabulary) {
    StreamKind stream = ObservationBatch.streamOf(key);
    String pairKey = ObservationBatch.key(ObservationBatch.sourceOf(key),
        stream == StreamKind.RAW ? StreamKind.EDITED : StreamKind.RAW);
    byte[] pair = windows.fetch(pairKey, start);
    Reference ref = reference(settings, fileReference, key, start,
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
      WindowSummary pair, DriftSettings settings, Vocabulary vocabulary) {
    Reference ref = reference != null ? reference : Reference.of("none", summary);
    DriftMetrics m = DriftMetrics.of(summary, ref, settings.driftConfig());
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
   * Text of token ids through {@link Vocabulary#surface}; byte-fallback pieces ({@code <0xE7>}) are
   * joined into UTF-8 (an incomplete character becomes U+FFFD), other special pieces are kept.
   */
  static String text(int[] ids, Vocabulary vocabulary) {
    StringBuilder sb = new StringBuilder();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int id : ids) {
      String piece = id < vocabulary.size() ? vocabulary.piece(id) : null;
      if (piece != null && piece.length() == 6 && piece.startsWith("<0x") && piece.endsWith(">")) {
        bytes.write(Integer.parseInt(piece.substring(3, 5), 16));
        continue;
      }
      if (bytes.size() > 0) {
        sb.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
        bytes.reset();
      }
      String surface = id < vocabulary.size() ? vocabulary.surface(id) : null;
      sb.append(surface != null ? surface : piece != null ? piece : "<" + id + ">");
    }
    if (bytes.size() > 0) {
      sb.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  /** The gauges of a window; undefined (null) metrics are left out. */
  public static Map<String, Double> gauges(DriftWindow w) {
    Map<String, Double> g = new LinkedHashMap<>();
    put(g, "jsd", w.getJsd());
    put(g, "kl_smoothed", w.getKlSmoothed());
    put(g, "top1pct_bucket_share", w.getTop1pctBucketShare());
    put(g, "top40_bigram_share", w.getTop40BigramShare());
    put(g, "distinct2", w.getDistinct2());
    put(g, "entropy2", w.getEntropy2());
    put(g, "mean_nll", w.getMeanNll());
    put(g, "edit_rate", w.getEditRate());
    put(g, "contamination_score", w.getContaminationScore());
    g.put("contaminated", w.getContaminated() ? 1.0 : 0.0);
    put(g, "synthetic_fraction", w.getSyntheticFraction());
    put(g, "synthetic_fraction_low", w.getSyntheticFractionLow());
    put(g, "synthetic_fraction_high", w.getSyntheticFractionHigh());
    put(g, "nll_ks_pvalue", w.getNllKsPValue());
    put(g, "ngram_pvalue", w.getNgramPValue());
    return g;
  }

  /** The JSON form served by {@code /api/drift} and {@code /api/windows/latest} (the dashboard's keys). */
  public static Map<String, Object> json(DriftWindow w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("source", w.getSource());
    m.put("stream", w.getStream());
    m.put("start", w.getWindowStart());
    m.put("end", w.getWindowEnd());
    m.put("documents", w.getDocuments());
    m.put("tokens", w.getTokens());
    m.put("meanNll", w.getMeanNll());
    m.put("perplexity", w.getPerplexity());
    m.put("jsd", w.getJsd());
    m.put("klSmoothed", w.getKlSmoothed());
    m.put("top1pctBucketShare", w.getTop1pctBucketShare());
    m.put("top40BigramShare", w.getTop40BigramShare());
    m.put("distinct1", w.getDistinct1());
    m.put("distinct2", w.getDistinct2());
    m.put("distinct3", w.getDistinct3());
    m.put("entropy2", w.getEntropy2());
    m.put("editRate", w.getEditRate());
    m.put("overThresholdRate", w.getOverThresholdRate());
    m.put("editedVsRawJsd", w.getEditedVsRawJsd());
    m.put("contaminationScore", w.getContaminationScore());
    m.put("contaminated", w.getContaminated());
    m.put("syntheticFraction", w.getSyntheticFraction());
    m.put("syntheticFractionLow", w.getSyntheticFractionLow());
    m.put("syntheticFractionHigh", w.getSyntheticFractionHigh());
    m.put("excessPValue", w.getExcessPValue());
    m.put("nllKsPValue", w.getNllKsPValue());
    m.put("ngramPValue", w.getNgramPValue());
    m.put("alert", w.getContaminated());
    m.put("probHistogram", new ArrayList<>(w.getProbHistogram()));
    List<Map<String, Object>> grams = new ArrayList<>();
    for (NGramEntry e : w.getTopNgrams()) {
      Map<String, Object> g = new LinkedHashMap<>();
      g.put("text", e.getText());
      g.put("count", e.getCount());
      grams.add(g);
    }
    m.put("topNgrams", grams);
    return m;
  }

  private static void put(Map<String, Double> g, String name, Double v) {
    if (v != null) {
      g.put(name, v);
    }
  }

  /** NaN and infinities become null: neither Avro consumers nor JSON parsers want them. */
  private static Double num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? null : v;
  }
}
