package io.toedit.serve;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.avro.DriftWindow;
import io.toedit.drift.DocumentObservation;
import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.SummaryConfig;
import io.toedit.drift.WindowSummary;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.stream.drift.DriftGauges;
import io.toedit.stream.drift.DriftStreamConfig;
import io.toedit.stream.drift.DriftWindows;
import io.toedit.text.TextTokenizer;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The estimate of a window reaches Prometheus under the agreed names, with its bounds and p-values. */
class DriftGaugesTest {

  private static DocumentObservation doc(Random rnd, double meanNll) {
    int[] ids = rnd.ints(40, 0, 300).toArray();
    return new DocumentObservation("feed", StreamKind.RAW, 0, ids, null, 0, 0, 0, meanNll * ids.length, ids.length);
  }

  private static double gauge(String scrape, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "\\{source=\"feed\",stream=\"raw\",?\\} (\\S+)$").matcher(scrape);
    assertTrue(m.find(), name + " in\n" + scrape);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void shouldExportSyntheticFractionBoundsPValuesAndAlert() {
    Random rnd = new Random(5);
    SummaryConfig config = SummaryConfig.defaults();
    Reference.Accumulator acc = Reference.accumulator("human", config);
    for (int i = 0; i < 200; i++) {
      acc.addDocument(doc(rnd, 1.0 + 0.6 * rnd.nextDouble()), 20);
    }
    WindowSummary window = new WindowSummary(config);
    for (int i = 0; i < 20; i++) {
      window.update(doc(rnd, i < 10 ? 0.5 : 1.0 + 0.6 * rnd.nextDouble()));
    }
    DriftWindow w;
    try (TextTokenizer tokenizer = Models.openTokenizer(ModelSettings.defaults())) {
      w = DriftWindows.compute("feed|raw", 0, 60_000, window, acc.build(), null, DriftStreamConfig.defaults(),
          tokenizer.vocabulary());
    }
    PipelineMetrics metrics = new PipelineMetrics();
    DriftGauges.gauges(w).forEach((name, value) -> metrics.drift("feed", "raw", name, value));
    String scrape = metrics.registry().scrape();
    double f = gauge(scrape, "toedit_drift_synthetic_fraction");
    double low = gauge(scrape, "toedit_drift_synthetic_fraction_low");
    double high = gauge(scrape, "toedit_drift_synthetic_fraction_high");
    assertTrue(low <= f && f <= high && f > 0.4 && f < 0.6, low + " " + f + " " + high);
    double ks = gauge(scrape, "toedit_drift_nll_ks_pvalue");
    double ngram = gauge(scrape, "toedit_drift_ngram_pvalue");
    assertTrue(ks >= 0 && ks < 0.01 && ngram >= 0 && ngram <= 1, ks + " " + ngram);
    assertTrue(gauge(scrape, "toedit_drift_contaminated") == 1.0, "10 of 20 far below every human document");
  }
}
