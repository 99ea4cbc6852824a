package io.toedit.drift;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.model.BundledModel;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Vocabulary;
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
import java.util.Locale;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Makes the committed fixtures of {@link ContaminationSignalTest} with the bundled stories260k
 * model ({@link KvLlama}, checked against the golden numbers by {@code KvLlamaTest}):
 * <ul>
 *   <li>{@code generated_t0.7.jsonl.gz}, {@code generated_t1.0.jsonl.gz}: ancestral samples from
 *       BOS over the full 512-token distribution, softmax(logprob / T), ending when the model emits
 *       BOS or EOS (the llama2.c convention) or at {@value #MAX_NEW} tokens;</li>
 *   <li>{@code tinystories_valid_nll.jsonl.gz}: per document of the bundled tinystories_valid, the
 *       teacher-forced NLL sum (nats) of the first 512 ids (the model's context) and the number of
 *       predicted tokens.</li>
 * </ul>
 * Every line also carries the NLL of the sample itself. Rerun (about 5 minutes on a loaded 2-core
 * machine): {@code java -cp target/classes:target/test-classes:$CP io.toedit.drift.SampleGenerator
 * src/test/resources/drift}.
 */
final class SampleGenerator {

  static final int SAMPLES = 24;
  static final int MAX_NEW = 400;

  private SampleGenerator() {
  }

  /** One sample: BOS first, the ending BOS/EOS not included. */
  static int[] sample(KvLlama model, int bos, int eos, int maxNew, double temperature, Random rnd) {
    return sample(model, bos, eos, maxNew, temperature, rnd, null);
  }

  /**
   * {@link #sample(KvLlama, int, int, int, double, Random)} that, when {@code nll} is not null, also
   * stores in {@code nll[0]} the sum of -ln P(pick) under the untempered model (the same draws).
   */
  static int[] sample(KvLlama model, int bos, int eos, int maxNew, double temperature, Random rnd,
      double[] nll) {
    model.reset();
    int[] ids = new int[maxNew + 1];
    ids[0] = bos;
    int n = 1;
    double[] w = new double[model.vocab];
    double sum = 0;
    while (n <= maxNew && n < model.maxPos) {
      double[] lp = model.next(ids[n - 1]);
      double max = Double.NEGATIVE_INFINITY;
      for (double x : lp) {
        max = Math.max(max, x / temperature);
      }
      double total = 0;
      for (int v = 0; v < lp.length; v++) {
        w[v] = Math.exp(lp[v] / temperature - max);
        total += w[v];
      }
      double u = rnd.nextDouble() * total;
      int pick = lp.length - 1;
      for (int v = 0; v < lp.length; v++) {
        u -= w[v];
        if (u <= 0) {
          pick = v;
          break;
        }
      }
      if (pick == bos || pick == eos) {
        break;
      }
      sum -= lp[pick];
      ids[n++] = pick;
    }
    if (nll != null) {
      nll[0] = sum;
    }
    return Arrays.copyOf(ids, n);
  }

  /** Teacher-forced NLL sum in nats over the first 512 ids. */
  static double nllSum(KvLlama model, int[] ids) {
    double[] lp = model.logProbs(ids);
    double s = 0;
    for (int t = 1; t < lp.length; t++) {
      s -= lp[t];
    }
    return s;
  }

  static String render(Vocabulary v, int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int t = 1; t < ids.length; t++) {
      String s = v.surface(ids[t]);
      sb.append(s != null ? s : v.piece(ids[t]));
    }
    return sb.toString().strip();
  }

  /** A UTF-8 writer of a new gzip file. */
  static Writer gzip(Path p) throws IOException {
    OutputStream f = Files.newOutputStream(p);
    return new OutputStreamWriter(new GZIPOutputStream(f), StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    ObjectMapper json = new ObjectMapper();
    KvLlama model = new KvLlama(BundledModel.directory());
    try (TextTokenizer tok = Models.openTokenizer(ModelSettings.defaults())) {
      Vocabulary v = tok.vocabulary();
      for (double temp : new double[] {0.7, 1.0}) {
        long t0 = System.nanoTime();
        Random rnd = new Random(Math.round(temp * 1000));
        Path out = dir.resolve(String.format(Locale.ROOT, "generated_t%.1f.jsonl.gz", temp));
        long tokens = 0;
        try (Writer w = gzip(out)) {
          for (int i = 0; i < SAMPLES; i++) {
            int[] ids = sample(model, v.bosId(), v.eosId(), MAX_NEW, temp, rnd);
            tokens += ids.length - 1;
            ObjectNode n = json.createObjectNode();
            n.put("id", String.format(Locale.ROOT, "stories260k-t%.1f-%02d", temp, i));
            n.put("temperature", temp);
            n.put("text", render(v, ids));
            n.set("ids", json.valueToTree(ids));
            n.put("nll_sum", nllSum(model, ids));
            n.put("predicted", Math.min(ids.length, model.maxPos) - 1);
            w.write(json.writeValueAsString(n));
            w.write('\n');
          }
        }
        System.out.printf(Locale.ROOT, "T=%.1f: %d samples, %d tokens, %.1f s -> %s%n", temp, SAMPLES, tokens,
            (System.nanoTime() - t0) / 1e9, out);
      }
      long t0 = System.nanoTime();
      List<com.fasterxml.jackson.databind.JsonNode> docs = CorpusFixtures.lines("/corpora/tinystories_valid.jsonl.gz");
      Path out = dir.resolve("tinystories_valid_nll.jsonl.gz");
      try (Writer w = gzip(out)) {
        for (com.fasterxml.jackson.databind.JsonNode d : docs) {
          int[] ids = tok.encode(d.get("text").asText()).ids();
          ObjectNode n = json.createObjectNode();
          n.put("id", d.get("id").asText());
          n.put("nll_sum", nllSum(model, ids));
          n.put("predicted", Math.min(ids.length, model.maxPos) - 1);
          w.write(json.writeValueAsString(n));
          w.write('\n');
        }
      }
      System.out.printf(Locale.ROOT, "tinystories_valid: %d documents, %.1f s -> %s%n", docs.size(),
          (System.nanoTime() - t0) / 1e9, out);
    }
  }
}
