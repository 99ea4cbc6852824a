package io.toedit.cli;

import io.toedit.config.RenamedKeys;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.edit.Strategy;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.JsonlEditJob;
import io.toedit.text.TextTokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "edit", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Edit a JSONL file, plain or gzip, offline (ToEdit token-level editing).",
        "Every other field of a line is kept; the edit details are added in the --info-field object. "
            + "Bad lines go to the rejects file with their line number (exit code 3)."})
public final class EditCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = {"-i", "--input"}, required = true, paramLabel = "FILE",
      description = "Input .jsonl, plain or gzip (detected by its magic bytes).")
  Path input;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
      description = "Output .jsonl or .jsonl.gz (gzip by extension).")
  Path output;

  @Option(names = "--rejects", paramLabel = "FILE",
      description = "Where rejected lines go (default: next to the output, NAME.rejects.jsonl).")
  Path rejects;

  @Option(names = "--text-field", defaultValue = "text", description = "Field to edit (default: ${DEFAULT-VALUE}).")
  String textField;

  @Option(names = "--id-field", defaultValue = "id",
      description = "Field that identifies a document and keys its random draws; when a line lacks it, "
          + "its line number is the id (default: ${DEFAULT-VALUE}).")
  String idField;

  @Option(names = "--info-field", defaultValue = "toedit",
      description = "Object field added with the original text, edits and counts (default: ${DEFAULT-VALUE}).")
  String infoField;

  @Option(names = "--strategy", defaultValue = "up_revise",
      description = "up_revise, low_drop_up_revise or filtering (default: ${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = {"-p", "--threshold"}, defaultValue = "0.99",
      description = "Resample tokens with P(original) above this (default: ${DEFAULT-VALUE}).")
  double threshold;

  @Option(names = "--inclusive", description = "Compare with >= instead of the paper's strict >.")
  boolean inclusive;

  @Option(names = "--top-p", defaultValue = "0",
      description = "Keep only the smallest top-k prefix with this much probability; 0 = off (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--beta", description = "Sampling temperature (default: 1.5, or 1 for low_drop_up_revise).")
  Double beta;

  @Option(names = "--drop-threshold", defaultValue = "0.001",
      description = "low_drop_up_revise and filtering delete tokens with P below this (default: ${DEFAULT-VALUE}).")
  double dropThreshold;

  @Option(names = "--exclude-original",
      description = "Never draw the original token again: every over-threshold token changes.")
  boolean excludeOriginal;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the per-(document, position) draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--chunk-size", defaultValue = "64", paramLabel = "N",
      description = "Documents handed to the editor at once (default: ${DEFAULT-VALUE}).")
  int chunkSize;

  @Option(names = "--concurrent-chunks", paramLabel = "N",
      description = "Chunks edited at once (default: the number of scoring workers).")
  Integer concurrentChunks;

  @Option(names = "--batched-scoring",
      description = "Score a whole chunk in batched forward passes (faster on a GPU). Default: one forward pass "
          + "per document, so the output does not depend on the chunking in its last bits.")
  boolean batchedScoring;

  @Option(names = "--batch-size", hidden = true, paramLabel = "N",
      description = "Deprecated name of --chunk-size.")
  Integer deprecatedBatchSize;

  @Option(names = "--concurrent-batches", hidden = true, paramLabel = "N",
      description = "Deprecated name of --concurrent-chunks.")
  Integer deprecatedConcurrentBatches;

  @Option(names = "--max-line-bytes", defaultValue = "16777216",
      description = "Longer input lines are rejected without being held in memory (default: ${DEFAULT-VALUE}).")
  int maxLineBytes;

  @Option(names = "--max-document-chars", defaultValue = "1000000",
      description = "Longer texts are rejected (default: ${DEFAULT-VALUE}).")
  int maxDocumentChars;

  @Option(names = "--progress", negatable = true,
      description = "Show a progress line on stderr (default: only on a terminal).")
  Boolean progress;

  @Mixin
  ModelOptions model;

  @Override
  public Integer call() throws Exception {
    applyDeprecatedNames();
    if (!Files.isRegularFile(input)) {
      throw new NoSuchFileException(input.toString(), null, "input file not found");
    }
    if (Files.exists(output) && Files.isSameFile(input, output)) {
      throw new IllegalArgumentException("--output must differ from --input");
    }
    // the model's --top-k (ModelOptions) is also the number of edit candidates
    ModelSettings settings = model.toSettings();
    EditConfig config = new EditConfig(Strategy.fromWireName(strategy), threshold, inclusive, settings.topK(), topP,
        beta == null ? Double.NaN : beta, dropThreshold, excludeOriginal, seed);
    JsonlEditJob.Options options = JsonlEditJob.Options.defaults(input, output)
        .withRejects(rejects != null ? rejects : JsonlEditJob.Options.defaultRejects(output))
        .withFields(textField, idField, infoField)
        .withChunking(chunkSize, concurrentChunks != null ? concurrentChunks : settings.workers())
        .withLimits(maxLineBytes, maxDocumentChars);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    boolean showProgress = progress != null ? progress : System.console() != null;
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(config, tokenizer.vocabulary()),
          batchedScoring ? DocumentEditor.ScoringMode.BATCHED : DocumentEditor.ScoringMode.PER_DOCUMENT);
      out.printf(Locale.ROOT, "edit %s -> %s: model %s on %s, context token %s, %s%n", input, output, scorer.modelId(),
          scorer.device(), tokenizer.contextToken().describe(), config.parameters());
      out.flush();
      JsonlEditJob.Summary summary = new JsonlEditJob(editor, options)
          .run(showProgress ? new ProgressLine(err) : JsonlEditJob.Progress.NONE);
      if (showProgress) {
        err.println();
      }
      out.print(summary.describe());
      out.flush();
      return summary.rejects() > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
    }
  }

  /** Applies the deprecated flag names (a new name given too wins), with a warning each. */
  void applyDeprecatedNames() {
    CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
    if (deprecatedBatchSize != null) {
      deprecated("--batch-size", "--chunk-size");
      if (parsed == null || !parsed.hasMatchedOption("--chunk-size")) {
        chunkSize = deprecatedBatchSize;
      }
    }
    if (deprecatedConcurrentBatches != null) {
      deprecated("--concurrent-batches", "--concurrent-chunks");
      if (concurrentChunks == null) {
        concurrentChunks = deprecatedConcurrentBatches;
      }
    }
  }

  private void deprecated(String oldName, String newName) {
    PrintWriter err = spec.commandLine().getErr();
    err.println("warning: " + RenamedKeys.warning(oldName, newName));
    err.flush();
  }

  /** One self-overwriting line: documents, tokens/s, share of the input read, ETA. At most 4 updates/s. */
  static final class ProgressLine implements JsonlEditJob.Progress {
    private final PrintWriter err;
    private long lastPrint;

    ProgressLine(PrintWriter err) {
      this.err = err;
    }

    @Override
    public void update(long documents, long tokens, long bytesRead, long totalBytes, long elapsedNanos) {
      long now = System.nanoTime();
      if (now - lastPrint < 250_000_000L && bytesRead < totalBytes) {
        return;
      }
      lastPrint = now;
      double s = elapsedNanos / 1e9;
      double frac = totalBytes > 0 ? Math.min(1.0, (double) bytesRead / totalBytes) : 0.0;
      String eta = frac > 0 ? clock(s * (1 - frac) / frac) : "?";
      err.printf(Locale.ROOT, "\r%,d documents | %,.0f tokens/s | %3.0f %% | ETA %s   ", documents,
          s > 0 ? tokens / s : 0.0, 100 * frac, eta);
      err.flush();
    }

    static String clock(double seconds) {
      long t = Math.round(seconds);
      return t >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60)
          : String.format(Locale.ROOT, "%d:%02d", t / 60, t % 60);
    }
  }
}
