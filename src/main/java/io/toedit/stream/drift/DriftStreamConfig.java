package io.toedit.stream.drift;

import static io.toedit.config.ConfigValues.bool;
import static io.toedit.config.ConfigValues.finite;
import static io.toedit.config.ConfigValues.integer;
import static io.toedit.config.ConfigValues.longValue;
import static io.toedit.config.ConfigValues.require;

import io.toedit.drift.EstimatorConfig;
import io.toedit.drift.MetricsConfig;
import io.toedit.drift.SummaryConfig;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The {@code toedit.drift.*} settings of the streaming drift statistics (part of
 * {@link PipelineConfig}; {@link #KEYS} lists every key with its default).
 *
 * <p>Windows: event time (the input record's timestamp), {@code windowSizeMs} long, starting every
 * {@code windowAdvanceMs} (0 = tumbling, the same as the size; smaller = hopping). A window is
 * closed, and emitted once, when the task's stream time reaches its end plus {@code graceMs};
 * observations for a closed window are dropped as late.
 *
 * <p>References ({@code toedit.drift.reference}):
 * <ul>
 *   <li>{@code file}: every (source, stream) is compared with the profile at
 *       {@code toedit.drift.reference.file} (built with {@code profile --output ref.bin});</li>
 *   <li>{@code first-windows}: every (source, stream) is compared with its own first
 *       {@code toedit.drift.reference.windows} closed windows (those windows have no divergence);</li>
 *   <li>{@code paired-raw}: the edited stream is compared with the raw stream's window of the same
 *       source and time; the raw stream with its own first windows, as in {@code first-windows}.</li>
 * </ul>
 * Whatever the mode, {@code editedVsRawJsd} compares the edited and raw windows of the same source
 * and time.
 *
 * <p>Synthetic-fraction estimate and its alert ({@link io.toedit.drift.SyntheticEstimate}):
 * {@code toedit.drift.synthetic.cutoff.quantile} (q0), {@code toedit.drift.synthetic.confidence}
 * (interval level), {@code toedit.drift.alert.synthetic.min.fraction} (the lower bound must exceed
 * it), {@code toedit.drift.alert.synthetic.alpha} (excess p-value) and
 * {@code toedit.drift.alert.tests.alpha} (KS and n-gram p-values both at most it; 0 = never); windows
 * with fewer than {@code toedit.drift.contamination.min.documents} scored documents never alert.
 */
public record DriftStreamConfig(boolean enabled, String observationsTopic, String driftTopic, String alertsTopic,
    long windowSizeMs, long windowAdvanceMs, long graceMs, long retentionMs, long punctuateIntervalMs,
    String referenceMode, String referenceFile, int referenceWindows, double alertJsd, double alertEditedVsRawJsd,
    double contaminationThreshold, int contaminationMinDocuments, int buckets, int frequentMapSize, int hllLgK,
    int kllK, int topNgrams, double syntheticCutoffQuantile, double syntheticConfidence,
    double alertSyntheticMinFraction, double alertSyntheticAlpha, double alertTestsAlpha) {

  /** {@code PipelineRunner}'s default {@code application.id}. */
  static final String DEFAULT_APPLICATION_ID = "toedit-streams";
  public static final String MODE_FILE = "file";
  public static final String MODE_FIRST_WINDOWS = "first-windows";
  public static final String MODE_PAIRED_RAW = "paired-raw";

  /** Every drift key and its default, in documentation order. */
  public static final Map<String, String> KEYS;

  static {
    Map<String, String> k = new LinkedHashMap<>();
    k.put("toedit.drift.enabled", "true");
    k.put("toedit.drift.observations.topic", "");
    k.put("toedit.drift.topic", "toedit.drift");
    k.put("toedit.drift.alerts.topic", "toedit.alerts");
    k.put("toedit.drift.window.size.ms", "60000");
    k.put("toedit.drift.window.advance.ms", "0");
    k.put("toedit.drift.grace.ms", "10000");
    k.put("toedit.drift.retention.ms", "86400000");
    k.put("toedit.drift.punctuate.interval.ms", "1000");
    k.put("toedit.drift.reference", MODE_FIRST_WINDOWS);
    k.put("toedit.drift.reference.file", "");
    k.put("toedit.drift.reference.windows", "5");
    k.put("toedit.drift.alert.jsd", "0.2");
    k.put("toedit.drift.alert.edited.vs.raw.jsd", "0.05");
    k.put("toedit.drift.contamination.threshold", "2.0");
    k.put("toedit.drift.contamination.min.documents", "5");
    k.put("toedit.drift.summary.buckets", "10000");
    k.put("toedit.drift.summary.frequent.map.size", "1024");
    k.put("toedit.drift.summary.hll.lgk", "12");
    k.put("toedit.drift.summary.kll.k", "200");
    k.put("toedit.drift.top.ngrams", "20");
    k.put("toedit.drift.synthetic.cutoff.quantile", "0.02");
    k.put("toedit.drift.synthetic.confidence", "0.95");
    k.put("toedit.drift.alert.synthetic.min.fraction", "0");
    k.put("toedit.drift.alert.synthetic.alpha", "0.01");
    k.put("toedit.drift.alert.tests.alpha", "0.001");
    KEYS = java.util.Collections.unmodifiableMap(k);
  }

  public DriftStreamConfig {
    require(!observationsTopic.isBlank() && !driftTopic.isBlank() && !alertsTopic.isBlank(),
        "toedit.drift.*.topic names must not be empty");
    require(windowSizeMs > 0, "toedit.drift.window.size.ms must be positive");
    require(windowAdvanceMs >= 0 && windowAdvanceMs <= windowSizeMs,
        "toedit.drift.window.advance.ms must be in [0, window size] (0 = tumbling)");
    require(windowAdvanceMs == 0 || windowSizeMs % windowAdvanceMs == 0,
        "toedit.drift.window.size.ms must be a multiple of toedit.drift.window.advance.ms");
    require(graceMs >= 0, "toedit.drift.grace.ms must not be negative");
    require(retentionMs >= windowSizeMs + graceMs,
        "toedit.drift.retention.ms must be at least window size + grace (" + (windowSizeMs + graceMs) + ")");
    require(punctuateIntervalMs > 0, "toedit.drift.punctuate.interval.ms must be positive");
    require(referenceMode.equals(MODE_FILE) || referenceMode.equals(MODE_FIRST_WINDOWS)
        || referenceMode.equals(MODE_PAIRED_RAW),
        "toedit.drift.reference must be file, first-windows or paired-raw, got '" + referenceMode + "'");
    require(!referenceMode.equals(MODE_FILE) || !referenceFile.isBlank(),
        "toedit.drift.reference=file needs toedit.drift.reference.file (a profile from 'profile --output ref.bin')");
    require(referenceWindows >= 2, "toedit.drift.reference.windows must be at least 2 (a spread needs two)");
    require(topNgrams >= 0, "toedit.drift.top.ngrams must not be negative");
    // Validates the sketch sizes and contamination knobs with their own messages (the fields are not
    // assigned yet in a compact constructor: pass the parameters).
    summaryConfig(buckets, frequentMapSize, hllLgK, kllK);
    metricsConfig(contaminationThreshold, contaminationMinDocuments, syntheticCutoffQuantile, syntheticConfidence,
        alertSyntheticMinFraction, alertSyntheticAlpha, alertTestsAlpha);
  }

  public static DriftStreamConfig defaults() {
    return fromProperties(new Properties());
  }

  /**
   * Reads the {@code toedit.drift.*} keys of {@code props}; missing keys take their defaults. An
   * empty {@code toedit.drift.observations.topic} becomes {@code <application.id>-drift-observations}
   * ({@code application.id} of {@code props}, else {@value #DEFAULT_APPLICATION_ID}), so two
   * applications on one cluster never share it.
   */
  public static DriftStreamConfig fromProperties(Properties props) {
    Map<String, String> v = new LinkedHashMap<>(KEYS);
    for (String name : props.stringPropertyNames()) {
      if (KEYS.containsKey(name)) {
        v.put(name, props.getProperty(name).strip());
      }
    }
    if (v.get("toedit.drift.observations.topic").isEmpty()) {
      v.put("toedit.drift.observations.topic",
          props.getProperty("application.id", DEFAULT_APPLICATION_ID).strip() + "-drift-observations");
    }
    return new DriftStreamConfig(bool(v, "toedit.drift.enabled"), v.get("toedit.drift.observations.topic"),
        v.get("toedit.drift.topic"), v.get("toedit.drift.alerts.topic"), longValue(v, "toedit.drift.window.size.ms"),
        longValue(v, "toedit.drift.window.advance.ms"), longValue(v, "toedit.drift.grace.ms"), longValue(v, "toedit.drift.retention.ms"),
        longValue(v, "toedit.drift.punctuate.interval.ms"), v.get("toedit.drift.reference").toLowerCase(Locale.ROOT),
        v.get("toedit.drift.reference.file"), integer(v, "toedit.drift.reference.windows"),
        finite(v, "toedit.drift.alert.jsd"), finite(v, "toedit.drift.alert.edited.vs.raw.jsd"),
        finite(v, "toedit.drift.contamination.threshold"), integer(v, "toedit.drift.contamination.min.documents"),
        integer(v, "toedit.drift.summary.buckets"), integer(v, "toedit.drift.summary.frequent.map.size"),
        integer(v, "toedit.drift.summary.hll.lgk"), integer(v, "toedit.drift.summary.kll.k"),
        integer(v, "toedit.drift.top.ngrams"), finite(v, "toedit.drift.synthetic.cutoff.quantile"),
        finite(v, "toedit.drift.synthetic.confidence"), finite(v, "toedit.drift.alert.synthetic.min.fraction"),
        finite(v, "toedit.drift.alert.synthetic.alpha"), finite(v, "toedit.drift.alert.tests.alpha"));
  }

  /** The settings as {@code toedit.drift.*} properties. */
  public Properties toProperties() {
    Properties p = new Properties();
    p.setProperty("toedit.drift.enabled", Boolean.toString(enabled));
    p.setProperty("toedit.drift.observations.topic", observationsTopic);
    p.setProperty("toedit.drift.topic", driftTopic);
    p.setProperty("toedit.drift.alerts.topic", alertsTopic);
    p.setProperty("toedit.drift.window.size.ms", Long.toString(windowSizeMs));
    p.setProperty("toedit.drift.window.advance.ms", Long.toString(windowAdvanceMs));
    p.setProperty("toedit.drift.grace.ms", Long.toString(graceMs));
    p.setProperty("toedit.drift.retention.ms", Long.toString(retentionMs));
    p.setProperty("toedit.drift.punctuate.interval.ms", Long.toString(punctuateIntervalMs));
    p.setProperty("toedit.drift.reference", referenceMode);
    p.setProperty("toedit.drift.reference.file", referenceFile);
    p.setProperty("toedit.drift.reference.windows", Integer.toString(referenceWindows));
    p.setProperty("toedit.drift.alert.jsd", Double.toString(alertJsd));
    p.setProperty("toedit.drift.alert.edited.vs.raw.jsd", Double.toString(alertEditedVsRawJsd));
    p.setProperty("toedit.drift.contamination.threshold", Double.toString(contaminationThreshold));
    p.setProperty("toedit.drift.contamination.min.documents", Integer.toString(contaminationMinDocuments));
    p.setProperty("toedit.drift.summary.buckets", Integer.toString(buckets));
    p.setProperty("toedit.drift.summary.frequent.map.size", Integer.toString(frequentMapSize));
    p.setProperty("toedit.drift.summary.hll.lgk", Integer.toString(hllLgK));
    p.setProperty("toedit.drift.summary.kll.k", Integer.toString(kllK));
    p.setProperty("toedit.drift.top.ngrams", Integer.toString(topNgrams));
    p.setProperty("toedit.drift.synthetic.cutoff.quantile", Double.toString(syntheticCutoffQuantile));
    p.setProperty("toedit.drift.synthetic.confidence", Double.toString(syntheticConfidence));
    p.setProperty("toedit.drift.alert.synthetic.min.fraction", Double.toString(alertSyntheticMinFraction));
    p.setProperty("toedit.drift.alert.synthetic.alpha", Double.toString(alertSyntheticAlpha));
    p.setProperty("toedit.drift.alert.tests.alpha", Double.toString(alertTestsAlpha));
    return p;
  }

  /** The advance between window starts: the size for tumbling windows. */
  public long effectiveAdvanceMs() {
    return windowAdvanceMs == 0 ? windowSizeMs : windowAdvanceMs;
  }

  public SummaryConfig summaryConfig() {
    return summaryConfig(buckets, frequentMapSize, hllLgK, kllK);
  }

  public MetricsConfig metricsConfig() {
    return metricsConfig(contaminationThreshold, contaminationMinDocuments, syntheticCutoffQuantile, syntheticConfidence,
        alertSyntheticMinFraction, alertSyntheticAlpha, alertTestsAlpha);
  }

  private static SummaryConfig summaryConfig(int buckets, int frequentMapSize, int hllLgK, int kllK) {
    return named("toedit.drift.summary.*", () -> new SummaryConfig(buckets, frequentMapSize, hllLgK, kllK));
  }

  private static MetricsConfig metricsConfig(double contaminationThreshold, int contaminationMinDocuments,
      double cutoffQuantile, double confidence, double minFraction, double alpha, double testsAlpha) {
    MetricsConfig config = named("toedit.drift.contamination.*",
        () -> new MetricsConfig(0.5, contaminationThreshold, contaminationMinDocuments));
    return named("toedit.drift.synthetic.* / toedit.drift.alert.*", () -> config.withEstimator(
        new EstimatorConfig(cutoffQuantile, confidence, minFraction, alpha, testsAlpha, contaminationMinDocuments)));
  }

  /** Builds a config record; its validation message gets the settings' names in front. */
  private static <T> T named(String keys, java.util.function.Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(keys + ": " + e.getMessage(), e);
    }
  }
}
