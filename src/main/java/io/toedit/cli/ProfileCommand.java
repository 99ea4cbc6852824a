package io.toedit.cli;

import io.toedit.drift.Reference;
import io.toedit.drift.SummaryConfig;
import io.toedit.drift.WindowSummary;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.text.TextTokenizer;
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
    description = "Build a drift reference profile from a trusted corpus (JSONL, optionally gzipped).")
public final class ProfileCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Option(names = "--input", required = true, description = "JSONL file (.gz allowed), one document per line")
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
    Reference ref;
    try (TextTokenizer tokenizer = Models.openTokenizer(settings);
        Scorer scorer = ngramsOnly ? null : Models.openScorer(settings)) {
      ref = new CorpusProfiler(tokenizer, scorer, scoring.textField, scoring.maxTokens, scoring.threshold)
          .profile(input, input.getFileName().toString(), config, docsPerWindow);
    }
    Files.write(output, ref.toByteArray());
    WindowSummary s = ref.summary();
    spec.commandLine().getOut().printf(Locale.ROOT,
        "%s: %d documents, %d tokens, %d windows, mean NLL %.4f nats/token, document NLL sd %.4f -> %s%n",
        ref.name(), s.documents(), s.tokens(), ref.windows(), s.meanNll(), s.documentNllSd(), output);
    return ExitCodes.OK;
  }
}
