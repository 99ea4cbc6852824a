package io.toedit.drift;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.model.BundledModel;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Vocabulary;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * Makes the demo's model-generated documents, {@code src/main/resources/data/generated-t0.7.jsonl}:
 * {@value #SAMPLES} ancestral samples of the bundled stories260k model ({@link KvLlama}, checked
 * against the float64 goldens by {@code KvLlamaTest}) at temperature {@value #TEMPERATURE}, from BOS,
 * at most {@value SampleGenerator#MAX_NEW} tokens, with {@code new Random(}{@value #SEED}{@code )};
 * see {@link SampleGenerator#sample}. Rerun (a few minutes on the shared 2-core machine):
 * <pre>
 * mvn -o -q -B test-compile
 * java -cp target/classes:target/test-classes:$CP io.toedit.drift.DemoSampleGenerator \
 *     src/main/resources/data/generated-t0.7.jsonl
 * </pre>
 * where {@code $CP} is the test classpath ({@code mvn dependency:build-classpath}).
 */
final class DemoSampleGenerator {

  static final int SAMPLES = 60;
  static final double TEMPERATURE = 0.7;
  static final long SEED = 20261130L;

  private DemoSampleGenerator() {
  }

  public static void main(String[] args) throws IOException {
    Path out = Path.of(args[0]);
    ObjectMapper json = new ObjectMapper();
    KvLlama model = new KvLlama(BundledModel.directory());
    Random rnd = new Random(SEED);
    long t0 = System.nanoTime();
    long tokens = 0;
    try (TextTokenizer tok = Models.openTokenizer(ModelSettings.defaults());
        Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      Vocabulary v = tok.vocabulary();
      for (int i = 0; i < SAMPLES; i++) {
        int[] ids = SampleGenerator.sample(model, v.bosId(), v.eosId(), SampleGenerator.MAX_NEW, TEMPERATURE, rnd);
        tokens += ids.length - 1;
        ObjectNode n = json.createObjectNode();
        n.put("id", String.format(Locale.ROOT, "stories260k-t%.1f-seed%d-%02d", TEMPERATURE, SEED, i));
        n.put("text", SampleGenerator.render(v, ids));
        w.write(json.writeValueAsString(n));
        w.write('\n');
      }
    }
    System.out.printf(Locale.ROOT, "T=%.1f seed %d: %d samples, %d tokens, %.1f s -> %s%n", TEMPERATURE, SEED,
        SAMPLES, tokens, (System.nanoTime() - t0) / 1e9, out);
  }
}
