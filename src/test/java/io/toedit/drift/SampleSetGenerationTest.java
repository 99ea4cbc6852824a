package io.toedit.drift;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.model.BundledModel;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Vocabulary;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Makes the larger seeded sample sets behind the synthetic-fraction evidence
 * ({@link SyntheticFractionEvidenceTest}): {@value #COUNT} ancestral samples of stories260k per
 * temperature, same sampler as {@link SampleGenerator} (full distribution, softmax(logprob / T),
 * stop at BOS/EOS or {@value SampleGenerator#MAX_NEW} tokens), seed {@code 20261130 + round(10 T)}.
 * Each line: id, temperature, ids (BOS first), the NLL sum of the sample under the model (nats,
 * accumulated while sampling: the same log-probs teacher forcing gives) and the predicted count.
 * Only runs when asked, about 3 minutes on the shared 2-core machine:
 * <pre>
 * mvn -o -q -B test -Dtest=SampleSetGenerationTest -Dtoedit.samples.dir=src/test/resources/drift
 * </pre>
 */
class SampleSetGenerationTest {

  static final int COUNT = 400;

  @Test
  @EnabledIfSystemProperty(named = "toedit.samples.dir", matches = ".+")
  void generate() throws Exception {
    Path dir = Path.of(System.getProperty("toedit.samples.dir"));
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper();
    KvLlama model = new KvLlama(BundledModel.directory());
    try (TextTokenizer tok = Models.openTokenizer(ModelSettings.defaults())) {
      Vocabulary v = tok.vocabulary();
      for (double temp : new double[] {0.7, 1.0}) {
        long t0 = System.nanoTime();
        Random rnd = new Random(20261130L + Math.round(temp * 10));
        Path out = dir.resolve(String.format(Locale.ROOT, "samples_t%.1f_n%d.jsonl.gz", temp, COUNT));
        long tokens = 0;
        try (Writer w = new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(out)),
            StandardCharsets.UTF_8)) {
          for (int i = 0; i < COUNT; i++) {
            double[] nll = new double[1];
            int[] ids = sample(model, v.bosId(), v.eosId(), temp, rnd, nll);
            tokens += ids.length - 1;
            ObjectNode n = json.createObjectNode();
            n.put("id", String.format(Locale.ROOT, "stories260k-t%.1f-s%03d", temp, i));
            n.put("temperature", temp);
            n.set("ids", json.valueToTree(ids));
            n.put("nll_sum", nll[0]);
            n.put("predicted", ids.length - 1);
            w.write(json.writeValueAsString(n));
            w.write('\n');
          }
        }
        System.out.printf(Locale.ROOT, "T=%.1f: %d samples, %d tokens, %.1f s -> %s%n", temp, COUNT, tokens,
            (System.nanoTime() - t0) / 1e9, out);
      }
    }
  }

  /** {@link SampleGenerator#sample} that also sums -ln P(pick) under the untempered model. */
  private static int[] sample(KvLlama model, int bos, int eos, double temperature, Random rnd, double[] nll) {
    model.reset();
    int maxNew = SampleGenerator.MAX_NEW;
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
      for (int t = 0; t < lp.length; t++) {
        w[t] = Math.exp(lp[t] / temperature - max);
        total += w[t];
      }
      double u = rnd.nextDouble() * total;
      int pick = lp.length - 1;
      for (int t = 0; t < lp.length; t++) {
        u -= w[t];
        if (u <= 0) {
          pick = t;
          break;
        }
      }
      if (pick == bos || pick == eos) {
        break;
      }
      sum -= lp[pick];
      ids[n++] = pick;
    }
    nll[0] = sum;
    return java.util.Arrays.copyOf(ids, n);
  }
}
