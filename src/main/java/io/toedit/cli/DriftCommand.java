package io.toedit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.drift.DocumentObservation;
import io.toedit.drift.DriftMetrics;
import io.toedit.drift.EstimatorConfig;
import io.toedit.drift.MetricsConfig;
import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.SyntheticEstimate;
import io.toedit.drift.WindowSummary;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import io.toedit.pipeline.DocumentLines;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Offline drift audit of a JSONL file against a reference profile: scores the documents with the
 * prior (as {@code profile} does), cuts them into pseudo-windows of N documents in file order and
 * reports, per window, the drift metrics, the estimated synthetic fraction with its interval, the
 * test p-values and the alert (see {@link SyntheticEstimate}). Exit code {@link ExitCodes#DRIFT_ALERT}
 * when a window alerts, so a data-pipeline step can gate on it.
 */
@Command(name = "drift", mixinStandardHelpOptions = true,
    description = "Audit a JSONL file against a drift reference: per window of N documents, the drift metrics, the"
        + " estimated share of model-generated documents with its interval, test p-values and the alert."
        + " Exit code 0: no window alerts; 4: some window alerts; 3: no alert but some lines were rejected.")
public final class DriftCommand implements Callable<Integer> {

  private static final int BATCH = 64;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Option(names = "--reference", required = true, description = "Reference profile written by 'profile' (scored)")
  Path reference;

  @Option(names = "--input", required = true, description = "JSONL file, gzip allowed, one document per line, in the"
      + " JSON document format of 'run' and 'edit'")
  Path input;

  @Option(names = "--docs-per-window", defaultValue = "20",
      description = "Documents per pseudo-window, in file order; match the profile's (default: ${DEFAULT-VALUE})")
  int docsPerWindow;

  @Option(names = "--format", defaultValue = "table", description = "table or json (one object per window, then"
      + " a summary object) (default: ${DEFAULT-VALUE})")
  String format;

  @Mixin
  ProfileOptions scoring;

  @Option(names = "--cutoff-quantile", defaultValue = "0.02",
      description = "Reference quantile of document NLL below which documents look generated (default: ${DEFAULT-VALUE})")
  double cutoffQuantile;

  @Option(names = "--confidence", defaultValue = "0.95",
      description = "Confidence level of the fraction's interval (default: ${DEFAULT-VALUE})")
  double confidence;

  @Option(names = "--alert-min-fraction", defaultValue = "0",
      description = "The interval's lower bound must exceed this to alert (default: ${DEFAULT-VALUE})")
  double alertMinFraction;

  @Option(names = "--alert-alpha", defaultValue = "0.01",
      description = "Significance of the excess of low-NLL documents needed to alert (default: ${DEFAULT-VALUE})")
  double alertAlpha;

  @Option(names = "--test-alpha", defaultValue = "0.001",
      description = "KS and n-gram p-values both at most this also alert; 0 = never (default: ${DEFAULT-VALUE})")
  double testAlpha;

  @Mixin
  ProgressOption progress;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json")) {
      throw new IllegalArgumentException("--format must be table or json: " + format);
    }
    if (docsPerWindow < 2) {
      throw new IllegalArgumentException("--docs-per-window must be at least 2: " + docsPerWindow);
    }
    if (!Files.isRegularFile(input)) {
      throw new NoSuchFileException(input.toString(), null, "input file not found");
    }
    if (!Files.isRegularFile(reference)) {
      throw new NoSuchFileException(reference.toString(), null, "reference profile not found (build one with"
          + " 'profile --input human.jsonl --output ref.bin')");
    }
    Reference ref;
    try {
      ref = Reference.fromBytes(Files.readAllBytes(reference));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Not a drift reference profile: " + reference + ": " + e.getMessage(), e);
    }
    if (ref.summary().scoredDocuments() == 0) {
      throw new IllegalArgumentException("The reference " + reference + " has no document NLL (built with"
          + " --ngrams-only?): rebuild it with 'profile' and a model");
    }
    EstimatorConfig est = new EstimatorConfig(cutoffQuantile, confidence, alertMinFraction, alertAlpha, testAlpha,
        EstimatorConfig.defaults().minDocuments());
    Audit audit = new Audit(ref, MetricsConfig.defaults().withEstimator(est), format.equals("json"),
        spec.commandLine().getOut());
    PrintWriter err = spec.commandLine().getErr();
    boolean showProgress = progress.show();
    ModelSettings settings = scoring.modelSettings();
    long totalBytes = Files.size(input);
    long start = System.nanoTime();
    // The JSON document format of 'run' and 'edit', refused for the same reasons with the same messages.
    try (DocumentLines lines = scoring.open(input); TextTokenizer tokenizer = Models.openTokenizer(settings);
        Scorer scorer = Models.openScorer(settings)) {
      audit.header(input, ref, scorer.modelId());
      List<int[]> batch = new ArrayList<>();
      List<Long> batchLines = new ArrayList<>();
      long lastPrint = 0;
      for (DocumentLines.Line line = lines.next(); line != null; line = lines.next()) {
        if (!line.isDocument()) {
          err.println("rejected " + input + ":" + line.number() + ": " + line.reason());
          audit.badLines++;
          continue;
        }
        batch.add(Corpus.cut(tokenizer.encode(line.document().text()).ids(), scoring.maxTokens));
        batchLines.add(line.number());
        if (batch.size() == BATCH) {
          score(scorer, batch, batchLines, audit);
        }
        if (showProgress && System.nanoTime() - lastPrint > 250_000_000L) {
          lastPrint = System.nanoTime();
          progressLine(err, audit, lines.bytesRead(), totalBytes, start);
        }
      }
      score(scorer, batch, batchLines, audit);
      if (showProgress) {
        progressLine(err, audit, totalBytes, totalBytes, start);
        err.println();
      }
    }
    audit.finish();
    return audit.alerts > 0 ? ExitCodes.DRIFT_ALERT : audit.badLines > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
  }

  private void score(Scorer scorer, List<int[]> batch, List<Long> lines, Audit audit) {
    if (batch.isEmpty()) {
      return;
    }
    List<TokenScores> scores = scorer.score(batch);
    for (int i = 0; i < batch.size(); i++) {
      audit.add(DocumentObservation.scored("drift", StreamKind.RAW, 0, batch.get(i), scores.get(i).logProbs(),
          scoring.threshold, 0, 0), lines.get(i));
    }
    batch.clear();
    lines.clear();
  }

  private static void progressLine(PrintWriter err, Audit audit, long read, long total, long start) {
    double s = (System.nanoTime() - start) / 1e9;
    double frac = total > 0 ? Math.min(1.0, (double) read / total) : 1.0;
    int width = 24;
    int filled = (int) Math.round(frac * width);
    String eta = frac > 0 ? EditCommand.ProgressLine.clock(s * (1 - frac) / frac) : "?";
    err.printf(Locale.ROOT, "\r[%s%s] %3.0f %% | %,d documents | %d windows | %d alerts | ETA %s   ",
        "#".repeat(filled), "-".repeat(width - filled), 100 * frac, audit.documents, audit.windowIndex,
        audit.alerts, eta);
    err.flush();
  }

  /** Pseudo-windows of the audited file and what is printed for them. */
  private final class Audit {
    private final Reference ref;
    private final MetricsConfig config;
    private final boolean json;
    private final PrintWriter out;
    private WindowSummary window;
    private long firstLine;
    private long lastLine;
    private long windowIndex;
    private long documents;
    private long alerts;
    private long badLines;
    private final List<Long> alertWindows = new ArrayList<>();
    private double fractionSum;
    private long fractionWindows;

    Audit(Reference ref, MetricsConfig config, boolean json, PrintWriter out) {
      this.ref = ref;
      this.config = config;
      this.json = json;
      this.out = out;
    }

    void header(Path file, Reference reference, String model) {
      if (!json) {
        out.printf(Locale.ROOT, "drift %s vs reference '%s' (%d documents, %d windows), model %s, windows of %d"
            + " documents%n", file, reference.name(), reference.summary().scoredDocuments(), reference.windows(), model,
            docsPerWindow);
        out.printf(Locale.ROOT, "%6s %5s %-13s %7s %7s %21s %9s %9s %9s %5s%n", "window", "docs", "lines", "jsd",
            "docNLL", "synthetic [interval]", "excess p", "KS p", "n-gram p", "alert");
        out.flush();
      }
    }

    void add(DocumentObservation doc, long line) {
      if (window == null) {
        window = new WindowSummary(ref.summary().config());
        firstLine = line;
      }
      window.update(doc);
      lastLine = line;
      documents++;
      if (window.documents() >= docsPerWindow) {
        close();
      }
    }

    private void close() {
      DriftMetrics m = DriftMetrics.of(window, ref, config);
      SyntheticEstimate e = m.estimate();
      if (e.alert()) {
        alerts++;
        alertWindows.add(windowIndex);
      }
      if (!Double.isNaN(e.fraction())) {
        fractionSum += e.fraction();
        fractionWindows++;
      }
      if (json) {
        out.println(toJson(windowRecord(windowIndex, firstLine, lastLine, m)));
      } else {
        out.printf(Locale.ROOT, "%6d %5d %-13s %7.4f %7.3f %5.2f [%5.2f, %5.2f] %9s %9s %9s %5s%n", windowIndex,
            m.documents(), firstLine + "-" + lastLine, m.jsd(), m.documentNllMean(), e.fraction(), e.low(), e.high(),
            p(e.excessPValue()), p(e.nllKsPValue()), p(e.ngramPValue()), e.alert() ? "ALERT" : "-");
      }
      out.flush();
      windowIndex++;
      window = null;
    }

    void finish() {
      if (window != null && window.documents() > 0) {
        close();
      }
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("summary", true);
      s.put("input", input.toString());
      s.put("reference", ref.name());
      s.put("windows", windowIndex);
      s.put("documents", documents);
      s.put("rejectedLines", badLines);
      s.put("alerts", alerts);
      s.put("alertWindows", alertWindows);
      s.put("meanSyntheticFraction", fractionWindows == 0 ? null : fractionSum / fractionWindows);
      int code = alerts > 0 ? ExitCodes.DRIFT_ALERT : badLines > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
      s.put("exitCode", code);
      if (json) {
        out.println(toJson(s));
      } else {
        out.printf(Locale.ROOT, "%d documents in %d windows, %d rejected lines; mean estimated synthetic fraction"
            + " %s; %d windows alert%s%n", documents, windowIndex, badLines,
            fractionWindows == 0 ? "n/a" : String.format(Locale.ROOT, "%.3f", fractionSum / fractionWindows), alerts,
            alertWindows.isEmpty() ? "" : " " + alertWindows);
      }
      out.flush();
    }
  }

  /** One window of the audit as a JSON-ready map (NaN becomes null); the shared drift field names. */
  static Map<String, Object> windowRecord(long index, long firstLine, long lastLine, DriftMetrics m) {
    SyntheticEstimate e = m.estimate();
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("window", index);
    w.put("documents", m.documents());
    w.put("firstLine", firstLine);
    w.put("lastLine", lastLine);
    w.put("tokens", m.tokens());
    w.put("jsd", num(m.jsd()));
    w.put("klSmoothed", num(m.klSmoothed()));
    w.put("top40BigramShare", num(m.top40BigramShare()));
    w.put("distinct2", num(m.distinct2Ratio()));
    w.put("meanNll", num(m.meanNll()));
    w.put("documentNllMean", num(m.documentNllMean()));
    w.put("documentNllSd", num(m.documentNllSd()));
    w.put("contaminationScore", num(m.contaminationScore()));
    w.put("syntheticFraction", num(e.fraction()));
    w.put("syntheticFractionLow", num(e.low()));
    w.put("syntheticFractionHigh", num(e.high()));
    w.put("cutoffNll", num(e.cutoffNll()));
    w.put("belowCutoff", e.belowCutoff());
    w.put("excessPValue", num(e.excessPValue()));
    w.put("nllKsStatistic", num(e.nllKsStatistic()));
    w.put("nllKsPValue", num(e.nllKsPValue()));
    w.put("ngramPValue", num(e.ngramPValue()));
    w.put("alert", e.alert());
    return w;
  }

  private static String toJson(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Double num(double v) {
    return Double.isNaN(v) || Double.isInfinite(v) ? null : v;
  }

  private static String p(double v) {
    return Double.isNaN(v) ? "n/a" : v < 1e-4 ? String.format(Locale.ROOT, "%.1e", v)
        : String.format(Locale.ROOT, "%.4f", v);
  }
}
