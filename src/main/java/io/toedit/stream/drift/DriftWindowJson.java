package io.toedit.stream.drift;

import io.toedit.avro.DriftWindow;
import io.toedit.avro.NGramEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON form of a drift window, served over HTTP. */
public final class DriftWindowJson {

  private DriftWindowJson() {
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
}
