package io.toedit.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.avro.Edit;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.Scorer;
import io.toedit.pipeline.DocumentEditor;
import io.toedit.pipeline.DocumentOutcome;
import io.toedit.pipeline.SourceDocument;
import io.toedit.stream.AvroSerde;
import io.toedit.stream.AvroRecords;
import io.toedit.text.TextTokenizer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.zip.GZIPInputStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Shared pieces of the reliability ITs: input documents, producing them in both wire formats, and the
 * reference output of an uninterrupted run (the batch {@link DocumentEditor} path, which the pipeline
 * guarantees byte-identical).
 */
final class ReliabilityFixtures {

  static final ObjectMapper JSON = new ObjectMapper();
  static final String SOURCE = "tinystories-valid";

  private ReliabilityFixtures() {
  }

  /**
   * {@code n} documents: the paragraphs of the bundled TinyStories corpus (4,300 of them, about 180
   * chars each), cycled with a {@code -rK} id suffix when more are asked for. Ids are unique.
   */
  static List<RawDocument> documents(int n) {
    List<String[]> paragraphs = new ArrayList<>();
    try (InputStream raw = ReliabilityFixtures.class.getClassLoader()
        .getResourceAsStream("corpora/tinystories_valid.jsonl.gz")) {
      if (raw == null) {
        throw new IOException("missing test resource corpora/tinystories_valid.jsonl.gz");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.UTF_8));
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode doc = JSON.readTree(line);
        int k = 0;
        for (String p : doc.get("text").asText().split("\n\n")) {
          if (!p.isBlank()) {
            paragraphs.add(new String[] {doc.get("id").asText() + "#p" + k++, p});
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<RawDocument> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String[] p = paragraphs.get(i % paragraphs.size());
      int round = i / paragraphs.size();
      out.add(RawDocument.newBuilder().setId(round == 0 ? p[0] : p[0] + "-r" + round).setText(p[1])
          .setSource(SOURCE).build());
    }
    return out;
  }

  /** The value bytes of {@code doc}: JSON for even {@code i}, Avro single-object for odd. */
  static byte[] wire(RawDocument doc, int i) {
    if (i % 2 == 1) {
      return AvroSerde.raw().encode(doc);
    }
    ObjectNode n = JSON.createObjectNode();
    n.put("id", doc.getId());
    n.put("text", doc.getText());
    n.put("source", doc.getSource());
    try {
      return JSON.writeValueAsBytes(n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Produces every document keyed by its id (acks=all, idempotent), alternating JSON and Avro. */
  static void produce(Properties client, String topic, List<RawDocument> docs) {
    Properties p = new Properties();
    p.putAll(client);
    p.setProperty("acks", "all");
    p.setProperty("linger.ms", "5");
    // one request in flight: a retried batch can never race a later one into a sequence error
    p.setProperty("max.in.flight.requests.per.connection", "1");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < docs.size(); i++) {
        RawDocument d = docs.get(i);
        sent.add(producer.send(new ProducerRecord<>(topic, utf8(d.getId()), wire(d, i))));
      }
      producer.flush();
      // A send that failed must fail the test here, not surface later as a pipeline that "lost" input.
      for (int i = 0; i < sent.size(); i++) {
        try {
          sent.get(i).get();
        } catch (Exception e) {
          throw new IllegalStateException("producing input record " + i + " of " + sent.size() + " to " + topic
              + " failed (broker overloaded?): " + e.getCause(), e);
        }
      }
    }
  }

  /**
   * The {@code EditedDocument} bytes an uninterrupted run writes for each document, by id, computed
   * in-process with the batch path.
   */
  static Map<String, byte[]> reference(List<RawDocument> docs, TextTokenizer tokenizer, Scorer scorer,
      EditConfig edit) {
    DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(edit, tokenizer.vocabulary()));
    Map<String, byte[]> out = new LinkedHashMap<>();
    int batch = 64;
    for (int from = 0; from < docs.size(); from += batch) {
      List<RawDocument> slice = docs.subList(from, Math.min(docs.size(), from + batch));
      List<SourceDocument> sources = slice.stream().map(d -> new SourceDocument(d.getId(), d.getText())).toList();
      List<DocumentOutcome> outcomes = editor.process(sources);
      for (int j = 0; j < slice.size(); j++) {
        DocumentOutcome o = outcomes.get(j);
        if (!o.ok()) {
          throw new AssertionError("reference run failed on " + slice.get(j).getId(), o.failure());
        }
        out.put(slice.get(j).getId(), AvroSerde.edited().encode(
            AvroRecords.edited(slice.get(j), o.result(), scorer.modelId(),
                tokenizer.contextToken().describe(), false)));
      }
    }
    return out;
  }

  /**
   * Asserts that {@code got} (an {@code EditedDocument} read from Kafka) equals the reference record
   * byte for byte, except that the model's floating-point figures ({@code meanNll} and each edit's
   * {@code probOriginal}) may differ in their last bits: the forward pass sums in an order that
   * depends on how a batch is padded, and batches are composed differently after a crash. The text,
   * every edit's position, ids and pieces, the counts and the provenance must be identical.
   */
  static void assertSameAsReference(String id, byte[] reference, byte[] got) {
    if (got == null) {
      throw new AssertionError("missing output for " + id);
    }
    if (java.util.Arrays.equals(reference, got)) {
      return;
    }
    try {
      EditedDocument want = AvroSerde.edited().decode(reference);
      EditedDocument have = AvroSerde.edited().decode(got);
      if (!want.getText().equals(have.getText())) {
        throw new AssertionError("edited text differs from an uninterrupted run for " + id + ":\n  want: "
            + want.getText() + "\n  got:  " + have.getText());
      }
      if (want.getEdits().size() == have.getEdits().size()) {
        for (int i = 0; i < want.getEdits().size(); i++) {
          Edit w = want.getEdits().get(i);
          Edit h = have.getEdits().get(i);
          if (Math.abs(w.getProbOriginal() - h.getProbOriginal()) <= 1e-4f) {
            h.setProbOriginal(w.getProbOriginal());
          }
        }
      }
      if (Math.abs(want.getMeanNll() - have.getMeanNll()) <= 1e-5) {
        have.setMeanNll(want.getMeanNll());
      }
      // Field by field (a decoded map is a HashMap, so re-encoding it can reorder its entries).
      if (!want.equals(have)) {
        throw new AssertionError("output differs from an uninterrupted run for " + id + " beyond float rounding:\n  want: "
            + want + "\n  got:  " + AvroSerde.edited().decode(got));
      }
    } catch (IOException e) {
      throw new AssertionError("undecodable EditedDocument for " + id, e);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }
}
