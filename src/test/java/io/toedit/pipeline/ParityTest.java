package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.edit.EditConfig;
import io.toedit.edit.EditResult;
import io.toedit.edit.Editor;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Parity with the paper's code on {@code tinystories_valid}, first 512 ids of each document (the
 * stories260k context), defaults: the number of tokens over the threshold matches the reference
 * count (55,651 with float32 numpy, see {@code baseline_stories260k.json}), and the number actually
 * changed agrees with its expectation under the model's own distributions.
 */
class ParityTest {

  static final int MAX_IDS = 512;

  @Test
  void shouldMatchThePaperCodeOnTinyStoriesWithDefaults() throws Exception {
    List<String[]> docs = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(
        Files.newInputStream(Path.of("src/test/resources/corpora/tinystories_valid.jsonl.gz"))), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        JsonNode n = json.readTree(line);
        docs.add(new String[] {n.get("id").asText(), n.get("text").asText()});
      }
    }
    assertEquals(811, docs.size());
    JsonNode baseline = json.readTree(Path.of("src/test/resources/corpora/baseline_stories260k.json").toFile())
        .get("sources").get("tinystories_valid.jsonl");
    EditConfig cfg = EditConfig.defaults();
    ModelSettings settings = ModelSettings.defaults();
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      Vocabulary vocab = tokenizer.vocabulary();
      Editor editor = new Editor(cfg, vocab);
      List<Tokenized> tokens = new ArrayList<>();
      List<int[]> sequences = new ArrayList<>();
      for (String[] d : docs) {
        Tokenized t = truncate(tokenizer.encode(d[1]), MAX_IDS);
        tokens.add(t);
        sequences.add(t.ids());
      }
      List<TokenScores> scores = scorer.score(sequences);

      long predicted = 0;
      long over = 0;
      long changed = 0;
      double editorExpected = 0;
      double expected = 0; // recomputed here from the scores, independently of the editor
      double variance = 0;
      double nll = 0;
      for (int i = 0; i < docs.size(); i++) {
        EditResult r = editor.edit(docs.get(i)[0], tokens.get(i), scores.get(i));
        predicted += r.tokens();
        over += r.overThreshold();
        changed += r.changed();
        editorExpected += r.expectedChanged();
        nll += r.meanNll() * r.tokens();
        TokenScores s = scores.get(i);
        for (int t = 1; t < s.length(); t++) {
          if (Math.exp(s.logProbs()[t]) > cfg.threshold()) {
            double w = originalWeight(s, t, vocab, cfg);
            expected += 1 - w;
            variance += w * (1 - w);
          }
        }
      }
      double sigma = Math.sqrt(variance);
      System.out.printf("parity: predicted %d, over threshold %d (reference %d), changed %d, expected %.1f "
              + "(editor %.1f), sigma %.1f, mean NLL %.6f (reference %.6f)%n", predicted, over,
          baseline.get("count_p_ge").get("0.99").asLong(), changed, expected, editorExpected, sigma, nll / predicted,
          baseline.get("mean_nll").asDouble());
      assertEquals(baseline.get("predicted_tokens").asLong(), predicted);
      assertEquals(55_651, over, 30.0, "tokens over the threshold");
      assertEquals(expected, editorExpected, 0.01 * expected, "editor's expectation vs the closed form");
      assertTrue(Math.abs(changed - expected) <= 4 * sigma,
          "changed " + changed + " vs expected " + expected + " ± 4 × " + sigma);
    }
  }

  /** softmax(logprob / beta) weight of the original among top-k (specials and partial bytes removed) ∪ original. */
  static double originalWeight(TokenScores s, int t, Vocabulary vocab, EditConfig cfg) {
    double beta = cfg.effectiveBeta();
    int original = s.ids()[t];
    double wo = Math.exp(s.logProbs()[t] / beta);
    double sum = 0;
    boolean originalInTop = false;
    for (int i = 0; i < cfg.topK(); i++) {
      int id = s.topIds()[t][i];
      if (id == original) {
        originalInTop = true;
        wo = Math.exp(s.topLogProbs()[t][i] / beta);
        sum += wo;
      } else if (!vocab.isSpecial(id) && vocab.surface(id) != null) {
        sum += Math.exp(s.topLogProbs()[t][i] / beta);
      }
    }
    if (!originalInTop) {
      sum += wo;
    }
    return wo / sum;
  }

  static Tokenized truncate(Tokenized t, int max) {
    if (t.length() <= max) {
      return t;
    }
    return new Tokenized(t.text(), Arrays.copyOf(t.ids(), max), Arrays.copyOf(t.charStart(), max),
        Arrays.copyOf(t.charEnd(), max));
  }
}
