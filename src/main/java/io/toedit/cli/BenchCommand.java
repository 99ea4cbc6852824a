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

  @Option(names = "--peak", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "After the runs, measure the device's matrix-product rate and report the model FLOP/s as a "
          + "fraction of it. Default: ${DEFAULT-VALUE}.")
  boolean peak;

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
    long loadStart = System.nanoTime();
    try (Scorer scorer = Models.openScorer(settings)) {
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      Bench.Result r = Bench.run(scorer, docs, runs, err::println);
      var out = spec.commandLine().getOut();
      out.printf(Locale.ROOT,
          "%s: %d docs, %d scored tokens; median %.0f scored tokens/s over %d runs; device %s; %d workers x %d "
              + "threads; batches of <= %d padded tokens, window %s, top-k %d; loaded in %.1f s%n",
          scorer.modelId(), docs.size(), r.scoredTokens(), r.median(), runs, scorer.device(), settings.workers(),
          settings.threadsPerWorker(), settings.maxBatchTokens(),
          settings.windowTokens() == 0 ? "min(max_position_embeddings, max batch tokens)" : settings.windowTokens(),
          scorer.topK(), loadSeconds);
      List<int[]> seqs = docs.stream().map(Corpus.Doc::ids).toList();
      double flopsPerToken = scorer.forwardFlops(seqs) / r.scoredTokens();
      double flops = flopsPerToken * r.median();
      if (!Double.isNaN(flops) && peak) {
        double p = scorer.matmulPeakFlops();
        out.printf(Locale.ROOT, "model FLOP/s at the median: %.1f GFLOP/s (%.3g GFLOP per scored token), %.0f %% of "
            + "the measured matrix-product peak %.1f GFLOP/s ([1024, H] x [H, H] products, one per worker at once)%s%n",
            flops / 1e9, flopsPerToken / 1e9, 100 * flops / p, p / 1e9,
            flops > p ? "; above 100 %: the probe ran slower than the model's own products (a loaded or shared "
                + "machine), so it understates the peak" : "");
      }
    }
    return ExitCodes.OK;
  }
}
