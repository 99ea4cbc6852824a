package io.toedit.cli;

import io.toedit.local.Bench;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import io.toedit.text.TextTokenizer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmark scoring throughput on a JSONL corpus (median of timed runs after a warm-up).")
public final class BenchCommand implements Callable<Integer> {

  @Mixin
  ModelOptions model;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--input", paramLabel = "FILE",
      description = "JSONL(.gz) with a 'text' field per line. Default: the bundled sample (120 TinyStories).")
  Path input;

  @Option(names = "--max-tokens-per-doc", paramLabel = "N", defaultValue = "512",
      description = "Keep the first N ids of each document (0 = all). Default: ${DEFAULT-VALUE}.")
  int maxTokensPerDoc;

  @Option(names = "--runs", paramLabel = "N", defaultValue = "3", description = "Timed runs. Default: ${DEFAULT-VALUE}.")
  int runs;

  @Override
  public Integer call() throws Exception {
    if (runs < 1) {
      throw new IllegalArgumentException("--runs must be >= 1");
    }
    var err = spec.commandLine().getErr();
    ModelSettings settings = model.toSettings();
    List<String[]> texts = input != null ? Corpus.readJsonl(input)
        : Corpus.readJsonl(BenchCommand.class.getResourceAsStream("/data/sample.jsonl"), "sample.jsonl");
    List<Corpus.Doc> docs;
    try (TextTokenizer tok = Models.openTokenizer(settings)) {
      docs = Corpus.tokenize(texts, tok, maxTokensPerDoc);
    }
    try (Scorer scorer = Models.openScorer(settings)) {
      Bench.Result r = Bench.run(scorer, docs, runs, err::println);
      spec.commandLine().getOut().printf(Locale.ROOT,
          "%s: %d docs, %d scored tokens; median %.0f scored tokens/s over %d runs; device %s; %d workers x %d "
              + "threads; batches of <= %d padded tokens, window %s, top-k %d%n",
          scorer.modelId(), docs.size(), r.scoredTokens(), r.median(), runs, scorer.device(), settings.workers(),
          settings.threadsPerWorker(), settings.maxBatchTokens(),
          settings.windowTokens() == 0 ? "min(max_position_embeddings, max batch tokens)" : settings.windowTokens(), scorer.topK());
    }
    return ExitCodes.OK;
  }
}
