package io.toedit.drift;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.edit.TokenScores;
import io.toedit.edit.Vocabulary;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.model.TextTokenizer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Ancestral sampling from the prior model with a teacher-forcing {@link Scorer} that returns the
 * full distribution (top-k = vocabulary size): every step scores each growing prefix with a dummy
 * token appended, and samples the next token from softmax(logprob / temperature) at the dummy's
 * position. A story ends when the model emits BOS or EOS (the llama2.c convention), or at
 * {@code maxNew} tokens. Quadratic in length (no KV cache): fine for a few dozen short stories.
 *
 * <p>Regenerates the committed samples: {@code java ... io.toedit.drift.SampleGenerator
 * src/test/resources/drift} (see the README, section drift).
 */
final class SampleGenerator {

  static final int SAMPLES = 24;
  static final int MAX_NEW = 300;

  private SampleGenerator() {
  }

  /** Returns {@code count} sequences, each starting with BOS, BOS/EOS of the end not included. */
  static List<int[]> generate(Scorer scorer, int vocab, int bos, int eos, int count, int maxNew,
      double temperature, long seed) {
    if (scorer.topK() < vocab) {
      throw new IllegalArgumentException("sampling needs the full distribution: topK " + scorer.topK()
          + " < vocabulary " + vocab + " (use ModelSettings.withTopK(" + vocab + "))");
    }
    Random rnd = new Random(seed);
    List<int[]> seqs = new ArrayList<>();
    boolean[] done = new boolean[count];
    for (int i = 0; i < count; i++) {
      seqs.add(new int[] {bos});
    }
    double[] weights = new double[vocab];
    for (int step = 0; step < maxNew; step++) {
      List<Integer> active = new ArrayList<>();
      List<int[]> batch = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        if (!done[i]) {
          int[] s = seqs.get(i);
          int[] withDummy = Arrays.copyOf(s, s.length + 1);
          withDummy[s.length] = bos; // its prediction row is the next-token distribution
          active.add(i);
          batch.add(withDummy);
        }
      }
      if (active.isEmpty()) {
        break;
      }
      List<TokenScores> scores = scorer.score(batch);
      for (int a = 0; a < active.size(); a++) {
        int i = active.get(a);
        TokenScores ts = scores.get(a);
        int last = ts.length() - 1;
        int[] ids = ts.topIds()[last];
        float[] lps = ts.topLogProbs()[last];
        double max = Double.NEGATIVE_INFINITY;
        for (float lp : lps) {
          max = Math.max(max, lp / temperature);
        }
        double total = 0;
        for (int k = 0; k < ids.length; k++) {
          weights[k] = Math.exp(lps[k] / temperature - max);
          total += weights[k];
        }
        double u = rnd.nextDouble() * total;
        int pick = ids[ids.length - 1];
        for (int k = 0; k < ids.length; k++) {
          u -= weights[k];
          if (u <= 0) {
            pick = ids[k];
            break;
          }
        }
        if (pick == bos || pick == eos) {
          done[i] = true;
        } else {
          int[] s = seqs.get(i);
          int[] grown = Arrays.copyOf(s, s.length + 1);
          grown[s.length] = pick;
          seqs.set(i, grown);
        }
      }
    }
    return seqs;
  }

  /** Best-effort text of ids (BOS dropped) for human inspection; byte tokens as their pieces. */
  static String render(Vocabulary v, int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int t = 1; t < ids.length; t++) {
      String s = v.surface(ids[t]);
      sb.append(s != null ? s : v.piece(ids[t]));
    }
    return sb.toString().strip();
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    ModelSettings settings = ModelSettings.defaults().withTopK(512);
    ObjectMapper json = new ObjectMapper();
    try (TextTokenizer tok = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      Vocabulary v = tok.vocabulary();
      for (double temp : new double[] {0.7, 1.0}) {
        long t0 = System.nanoTime();
        List<int[]> samples = generate(scorer, v.size(), v.bosId(), v.eosId(), SAMPLES, MAX_NEW, temp,
            Math.round(temp * 1000));
        Path out = dir.resolve(String.format(java.util.Locale.ROOT, "generated_t%.1f.jsonl.gz", temp));
        try (OutputStream f = Files.newOutputStream(out);
            Writer w = new OutputStreamWriter(new GZIPOutputStream(f), StandardCharsets.UTF_8)) {
          for (int i = 0; i < samples.size(); i++) {
            ObjectNode n = json.createObjectNode();
            n.put("id", String.format(java.util.Locale.ROOT, "stories260k-t%.1f-%02d", temp, i));
            n.put("temperature", temp);
            n.put("text", render(v, samples.get(i)));
            n.set("ids", json.valueToTree(samples.get(i)));
            w.write(json.writeValueAsString(n));
            w.write('\n');
          }
        }
        System.out.printf(java.util.Locale.ROOT, "T=%.1f: %d samples, %d tokens, %.1f s -> %s%n", temp,
            samples.size(), samples.stream().mapToInt(a -> a.length - 1).sum(), (System.nanoTime() - t0) / 1e9, out);
      }
    }
  }
}
