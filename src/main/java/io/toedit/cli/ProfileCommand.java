package io.toedit.cli;

import io.toedit.drift.Reference;
import io.toedit.drift.SummaryConfig;
import io.toedit.drift.WindowSummary;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentLines;
import io.toedit.text.TextTokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "profile", mixinStandardHelpOptions = true,
    description = "Build a drift reference profile from a trusted corpus (JSONL, optionally gzipped), read in the"
        + " JSON document format of 'run', 'edit' and 'drift'. Refused lines are reported on stderr and left out."
        + " Exit code 0: every line was accepted; 3: the profile was written but some lines were refused.")
public final class ProfileCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--input", required = true, description = "JSONL file (gzip allowed), one document per line, in"
      + " the JSON document format of 'run' and 'edit'")
  Path input;

  @Option(names = "--output", required = true, description = "Reference file to write, e.g. ref.bin")
  Path output;

  @Option(names = "--docs-per-window", defaultValue = "20",
      description = "Documents per pseudo-window; match the live windows' size (default: ${DEFAULT-VALUE})")
  int docsPerWindow;

  @Option(names = "--ngrams-only", description = "Skip the model: n-gram statistics only (no NLL, no contamination signal)")
  boolean ngramsOnly;

  @Mixin
  ProfileOptions scoring;

  @Option(names = "--buckets", defaultValue = "10000", description = "Hashed n-gram buckets per order")
  int buckets;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(input)) {
      throw new NoSuchFileException(input.toString(), null, "input corpus not found");
    }
    SummaryConfig d = SummaryConfig.defaults();
    SummaryConfig config = new SummaryConfig(buckets, d.frequentMapSize(), d.hllLgK(), d.kllK());
    ModelSettings settings = scoring.modelSettings();
    PrintWriter err = spec.commandLine().getErr();
    long[] refused = {0};
    Reference ref;
    // The JSON document format of 'run', 'edit' and 'drift', refused for the same reasons with the same messages.
    try (DocumentLines lines = scoring.open(input); TextTokenizer tokenizer = Models.openTokenizer(settings);
        Scorer scorer = ngramsOnly ? null : Models.openScorer(settings)) {
      ref = new CorpusProfiler(tokenizer, scorer, scoring.maxTokens, scoring.threshold)
          .profile(lines, input.getFileName().toString(), config, docsPerWindow, line -> {
            err.println("rejected " + input + ":" + line.number() + ": " + line.reason());
            refused[0]++;
          });
    }
    if (ref == null) {
      throw new IllegalArgumentException("No document of " + input + " was accepted (" + refused[0]
          + " lines refused, see above); no profile written");
    }
    Files.write(output, ref.toByteArray());
    WindowSummary s = ref.summary();
    spec.commandLine().getOut().printf(Locale.ROOT,
        "%s: %d documents, %d tokens, %d windows, mean NLL %.4f nats/token, document NLL sd %.4f, %d rejected"
            + " lines -> %s%n",
        ref.name(), s.documents(), s.tokens(), ref.windows(), s.meanNll(), s.documentNllSd(), refused[0], output);
    return refused[0] > 0 ? ExitCodes.PARTIAL : ExitCodes.OK;
  }
}
