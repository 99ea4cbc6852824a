package io.toedit.stream.drift;

import io.toedit.avro.DriftWindow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The gauges of a drift window, as passed to {@link DriftListener} (and exported by {@code serve}). */
public final class DriftGauges {

  /** The gauge names passed to {@link DriftListener}, in this order. */
  public static final List<String> GAUGES = List.of("jsd", "kl_smoothed", "top1pct_bucket_share",
      "top40_bigram_share", "distinct2", "entropy2", "mean_nll", "edit_rate", "contamination_score", "contaminated",
      "synthetic_fraction", "synthetic_fraction_low", "synthetic_fraction_high", "nll_ks_pvalue", "ngram_pvalue");

  private DriftGauges() {
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

  private static void put(Map<String, Double> g, String name, Double v) {
    if (v != null) {
      g.put(name, v);
    }
  }
}
