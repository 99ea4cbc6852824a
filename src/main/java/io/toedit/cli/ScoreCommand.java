package io.toedit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import io.toedit.pipeline.CorpusScores;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "score", mixinStandardHelpOptions = true,
    description = "Score a JSONL(.gz) file with the prior model: one JSON line per document on stdout "
        + "(id, tokens, mean NLL, tokens with P >= threshold), a summary on stderr.")
public final class ScoreCommand implements Callable<Integer> {

  @Mixin
  ModelOptions model;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE", description = "JSONL(.gz) with a 'text' (and optional 'id') per line.")
  Path input;

  @Option(names = "--max-tokens-per-doc", paramLabel = "N", defaultValue = "0",
      description = "Keep the first N ids of each document (0 = all, long ones in windows). Default: ${DEFAULT-VALUE}.")
  int maxTokensPerDoc;

  @Option(names = "--threshold", paramLabel = "P", defaultValue = "0.99",
      description = "Probability counted as 'predicted'. Default: ${DEFAULT-VALUE}.")
  double threshold;

  @Override
  public Integer call() throws Exception {
    ModelSettings settings = model.toSettings();
    List<String[]> texts = Corpus.readJsonl(input);
    ObjectMapper json = new ObjectMapper();
    long start = System.nanoTime();
    double nll = 0;
    long predicted = 0;
    long confident = 0;
    try (TextTokenizer tok = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      List<Corpus.Doc> docs = Corpus.tokenize(texts, tok, maxTokensPerDoc);
      List<TokenScores> scores = scorer.score(docs.stream().map(Corpus.Doc::ids).toList());
      for (int i = 0; i < docs.size(); i++) {
        CorpusScores c = CorpusScores.of(scores.get(i), threshold);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("id", docs.get(i).id());
        line.put("tokens", docs.get(i).ids().length);
        line.put("mean_nll", Double.isNaN(c.meanNll()) ? null : c.meanNll());
        line.put("count_p_ge_threshold", c.confident());
        spec.commandLine().getOut().println(json.writeValueAsString(line));
        nll += c.meanNll() * c.predicted();
        predicted += c.predicted();
        confident += c.confident();
      }
      spec.commandLine().getOut().flush();
      spec.commandLine().getErr().printf(Locale.ROOT,
          "%s on %s: %d documents, %d predicted tokens, mean NLL %.4f nats/token, %d with P >= %s, %.1f s%n",
          scorer.modelId(), scorer.device(), docs.size(), predicted, predicted == 0 ? Double.NaN : nll / predicted,
          confident, threshold, (System.nanoTime() - start) / 1e9);
    }
    return ExitCodes.OK;
  }
}
