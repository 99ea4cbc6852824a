package io.toedit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.pipeline.Corpus;
import io.toedit.pipeline.CorpusScores;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import io.toedit.text.Vocabulary;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
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
        + "(id, tokens, mean NLL, tokens with P >= threshold; with --tokens every token), a summary on stderr.")
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

  @Option(names = "--tokens",
      description = "Per document, every token: ids (the context token first), the decoded text of each token "
          + "(null when it is only part of a UTF-8 character), its bytes in hex, log P(actual token) (null for the "
          + "context token) and the model's top-k (ids, decoded text, log-probs) at each position.")
  boolean tokens;

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
        if (tokens) {
          putTokens(line, scores.get(i), tok.vocabulary());
        }
        spec.commandLine().getOut().println(json.writeValueAsString(line));
        nll += c.meanNll() * c.predicted();
        predicted += c.predicted();
        confident += c.confident();
      }
      spec.commandLine().getOut().flush();
      spec.commandLine().getErr().printf(Locale.ROOT,
          "%s on %s (context token %s): %d documents, %d predicted tokens, mean NLL %.4f nats/token, %d with "
              + "P >= %s, %.1f s%n",
          scorer.modelId(), scorer.device(), tok.contextToken().describe(), docs.size(), predicted, predicted == 0 ? Double.NaN : nll / predicted,
          confident, threshold, (System.nanoTime() - start) / 1e9);
    }
    return ExitCodes.OK;
  }

  /** Adds the per-token arrays of {@code --tokens}. */
  static void putTokens(Map<String, Object> line, TokenScores s, Vocabulary v) {
    int n = s.length();
    List<Object> text = new ArrayList<>(n);
    List<Object> hex = new ArrayList<>(n);
    List<Object> logprob = new ArrayList<>(n);
    List<int[]> topIds = new ArrayList<>(n);
    List<List<Object>> topText = new ArrayList<>(n);
    List<List<Object>> topLogprob = new ArrayList<>(n);
    for (int t = 0; t < n; t++) {
      int id = s.ids()[t];
      text.add(text(v, id));
      byte[] b = v.bytes(id);
      hex.add(b == null ? null : HexFormat.of().formatHex(b));
      logprob.add(Float.isNaN(s.logProbs()[t]) ? null : (Object) s.logProbs()[t]);
      int[] top = s.topIds()[t];
      topIds.add(top);
      List<Object> tt = new ArrayList<>(top.length);
      List<Object> tl = new ArrayList<>(top.length);
      for (int i = 0; i < top.length; i++) {
        tt.add(text(v, top[i]));
        tl.add(s.topLogProbs()[t][i]);
      }
      topText.add(tt);
      topLogprob.add(tl);
    }
    line.put("ids", s.ids());
    line.put("text", text);
    line.put("hex", hex);
    line.put("logprob", logprob);
    line.put("top_ids", topIds);
    line.put("top_text", topText);
    line.put("top_logprob", topLogprob);
  }

  /** The token's bytes as UTF-8 text (a special token's literal content), or null when they are not whole characters. */
  private static String text(Vocabulary v, int id) {
    byte[] b = v.bytes(id);
    if (b == null) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
