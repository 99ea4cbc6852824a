package io.toedit.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.toedit.edit.EditResult;
import io.toedit.edit.TokenEdit;
import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The batch {@code edit} job: reads JSONL (or JSONL.gz, by extension), edits the text field of
 * every line with a {@link DocumentEditor}, writes the lines in input order with every other field
 * kept, and writes each line that cannot be edited to a rejects file with its line number and the
 * reason. The output is a pure function of the input and the configuration: batch size and thread
 * count never change a byte of it.
 *
 * <p>Output line: the input object, with the text field replaced by the edited text and one added
 * object field ({@link Options#infoField()}, {@code toedit} by default) holding {@code originalText},
 * {@code edits} (position, charStart, charEnd, originalId, originalPiece, newId, newPiece,
 * probOriginal), {@code tokens}, {@code overThreshold}, {@code changed}, {@code deleted},
 * {@code expectedChanged}, {@code excludedCandidates}, {@code meanNll}, {@code model},
 * {@code contextToken} (the token put before the text and the rule that chose it), {@code strategy},
 * {@code parameters} and {@code seed}, named as in the Avro {@code EditedDocument} where it has them.
 *
 * <p>Reject line: {@code {"line": n, "id": ..., "stage": ..., "reason": ..., "content": first 500
 * characters}}, stage one of {@code read} (too long, not UTF-8, not JSON, no text...),
 * {@code tokenize}, {@code score}, {@code edit}.
 */
public final class JsonlEditJob {

  /**
   * @param input {@code .jsonl} or {@code .jsonl.gz}
   * @param output {@code .jsonl} or {@code .jsonl.gz}
   * @param rejects where rejected lines go (created only when there is one)
   * @param textField the field to edit
   * @param idField the field that identifies a document (keys its random draws); when absent on a
   *     line, the line number is the id
   * @param infoField the object field added to each output line
   * @param batchSize documents per {@link DocumentEditor#process} call
   * @param threads concurrent {@link DocumentEditor#process} calls
   * @param maxLineBytes longer lines are rejected without being held in memory
   * @param maxDocumentChars longer texts are rejected
   */
  public record Options(Path input, Path output, Path rejects, String textField, String idField,
      String infoField, int batchSize, int threads, int maxLineBytes, int maxDocumentChars) {

    public static final int DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
    public static final int DEFAULT_MAX_DOCUMENT_CHARS = 1_000_000;

    public Options {
      if (batchSize < 1 || threads < 1) {
        throw new IllegalArgumentException("batch size and threads must be at least 1, got " + batchSize + " and " + threads);
      }
      if (maxLineBytes < 1 || maxDocumentChars < 1) {
        throw new IllegalArgumentException("size limits must be positive");
      }
      if (textField.equals(infoField) || idField.equals(infoField)) {
        throw new IllegalArgumentException("the info field '" + infoField + "' must differ from the text and id fields");
      }
    }

    public static Options defaults(Path input, Path output) {
      return new Options(input, output, defaultRejects(output), "text", "id", "toedit", 64, 1,
          DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_DOCUMENT_CHARS);
    }

    /** {@code out.jsonl.gz} → {@code out.rejects.jsonl} in the same folder. */
    public static Path defaultRejects(Path output) {
      String name = output.getFileName().toString();
      String base = name.replaceFirst("(?i)(\\.jsonl|\\.json|\\.ndjson)?(\\.gz)?$", "");
      return output.resolveSibling((base.isEmpty() ? name : base) + ".rejects.jsonl");
    }

    public Options withBatching(int batch, int workerThreads) {
      return new Options(input, output, rejects, textField, idField, infoField, batch, workerThreads, maxLineBytes,
          maxDocumentChars);
    }

    public Options withFields(String text, String id, String info) {
      return new Options(input, output, rejects, text, id, info, batchSize, threads, maxLineBytes, maxDocumentChars);
    }

    public Options withLimits(int lineBytes, int documentChars) {
      return new Options(input, output, rejects, textField, idField, infoField, batchSize, threads, lineBytes,
          documentChars);
    }

    public Options withRejects(Path path) {
      return new Options(input, output, path, textField, idField, infoField, batchSize, threads, maxLineBytes,
          maxDocumentChars);
    }
  }

  /** Totals of a run. {@code expectedChanged} is the model's expectation of {@code changed}. */
  public record Summary(long lines, long documents, long tokens, long overThreshold, long changed,
      double expectedChanged, long deleted, long excludedCandidates, long rejects, Path rejectsFile, double seconds,
      DocumentEditor.StageTimes stages) {

    /** Editing time as a percentage of scoring time (both summed over threads). */
    public double editOverheadPercent() {
      return stages.scoreNanos() == 0 ? Double.NaN : 100.0 * stages.editNanos() / stages.scoreNanos();
    }

    /** Percentage of over-threshold tokens that actually changed (NaN when none passed). */
    public double changedPercent() {
      return overThreshold == 0 ? Double.NaN : 100.0 * changed / overThreshold;
    }

    public double documentsPerSecond() {
      return seconds > 0 ? documents / seconds : Double.NaN;
    }

    public double tokensPerSecond() {
      return seconds > 0 ? tokens / seconds : Double.NaN;
    }

    /** A few human-readable lines. */
    public String describe() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format(Locale.ROOT, "documents  %,d edited of %,d lines in %.1f s (%.1f documents/s, %,.0f tokens/s)%n",
          documents, lines, seconds, documentsPerSecond(), tokensPerSecond()));
      sb.append(String.format(Locale.ROOT, "tokens     %,d scored, %,d over threshold%n", tokens, overThreshold));
      sb.append(String.format(Locale.ROOT, "changed    %,d (%.2f %% of over threshold; model expectation %.1f)%n",
          changed, changedPercent(), expectedChanged));
      sb.append(String.format(Locale.ROOT, "deleted    %,d%n", deleted));
      sb.append(String.format(Locale.ROOT, "excluded   %,d candidates without whole text (part of a UTF-8 character,"
          + " or a padded id)%n", excludedCandidates));
      sb.append(String.format(Locale.ROOT, "rejects    %,d%s%n", rejects,
          rejects > 0 ? " (written to " + rejectsFile + ")" : ""));
      sb.append(String.format(Locale.ROOT, "stages     tokenize %.2f s, score %.2f s, edit %.2f s (edit = %.2f %% of scoring)%n",
          stages.tokenizeNanos() / 1e9, stages.scoreNanos() / 1e9, stages.editNanos() / 1e9, editOverheadPercent()));
      return sb.toString();
    }
  }

  /** Called on the job's thread after each batch is written. */
  @FunctionalInterface
  public interface Progress {
    /**
     * @param bytesRead input bytes consumed so far (compressed bytes for .gz)
     * @param totalBytes input file size
     */
    void update(long documents, long tokens, long bytesRead, long totalBytes, long elapsedNanos);

    Progress NONE = (d, t, r, total, e) -> {
    };
  }

  private static final int CONTENT_PREVIEW = 500;

  private final DocumentEditor editor;
  private final Options options;
  private final ObjectMapper json;

  public JsonlEditJob(DocumentEditor editor, Options options) {
    this.editor = editor;
    this.options = options;
    this.json = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
        .build();
  }

  /** One input line: parsed and waiting for its outcome, or already rejected. */
  private static final class Entry {
    final long line;
    ObjectNode node;
    String id;
    String stage;
    String reason;
    String content;

    Entry(long line) {
      this.line = line;
    }
  }

  private record Batch(List<Entry> entries, Future<List<DocumentOutcome>> outcomes) {
  }

  /** Runs the job. Throws on I/O failure; bad lines are rejects, never exceptions. */
  public Summary run(Progress progress) throws IOException {
    long start = System.nanoTime();
    DocumentEditor.StageTimes before = editor.stageTimes();
    long totalBytes = Files.size(options.input());
    ExecutorService pool = Executors.newFixedThreadPool(options.threads(), r -> {
      Thread t = new Thread(r, "toedit-edit-job");
      t.setDaemon(true);
      return t;
    });
    Counters c = new Counters();
    try (CountingInputStream raw = new CountingInputStream(Files.newInputStream(options.input()));
         InputStream in = isGzip(options.input()) ? new GZIPInputStream(raw, 64 * 1024) : raw;
         Writer out = writer(options.output())) {
      BoundedLineReader reader = new BoundedLineReader(in, options.maxLineBytes());
      ArrayDeque<Batch> inFlight = new ArrayDeque<>();
      List<Entry> entries = new ArrayList<>();
      int docs = 0;
      BoundedLineReader.Line line;
      while ((line = readLine(reader)) != null) {
        c.lines++;
        entries.add(parse(line));
        if (entries.get(entries.size() - 1).node != null) {
          docs++;
        }
        if (docs >= options.batchSize()) {
          inFlight.add(submit(pool, entries));
          entries = new ArrayList<>();
          docs = 0;
          while (inFlight.size() > options.threads()) {
            write(inFlight.poll(), out, c);
            progress.update(c.documents, c.tokens, raw.count(), totalBytes, System.nanoTime() - start);
          }
        }
      }
      if (!entries.isEmpty()) {
        inFlight.add(submit(pool, entries));
      }
      while (!inFlight.isEmpty()) {
        write(inFlight.poll(), out, c);
        progress.update(c.documents, c.tokens, raw.count(), totalBytes, System.nanoTime() - start);
      }
    } finally {
      pool.shutdownNow();
      if (c.rejectsWriter != null) {
        c.rejectsWriter.close();
      }
    }
    return new Summary(c.lines, c.documents, c.tokens, c.overThreshold, c.changed, c.expectedChanged, c.deleted,
        c.excludedCandidates, c.rejects, c.rejects > 0 ? options.rejects() : null, (System.nanoTime() - start) / 1e9,
        editor.stageTimes().minus(before));
  }

  private BoundedLineReader.Line readLine(BoundedLineReader reader) throws IOException {
    try {
      return reader.next();
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      throw new IllegalArgumentException(options.input() + ": the gzip stream is corrupt or truncated ("
          + e.getMessage() + "); the output holds the lines before it", e);
    }
  }

  private static final class Counters {
    long lines;
    long documents;
    long tokens;
    long overThreshold;
    long changed;
    double expectedChanged;
    long excludedCandidates;
    long deleted;
    long rejects;
    Writer rejectsWriter;
  }

  private Batch submit(ExecutorService pool, List<Entry> entries) {
    List<SourceDocument> docs = new ArrayList<>();
    for (Entry e : entries) {
      if (e.node != null) {
        docs.add(new SourceDocument(e.id, e.node.get(options.textField()).textValue()));
      }
    }
    return new Batch(entries, pool.submit(() -> editor.process(docs)));
  }

  private void write(Batch batch, Writer out, Counters c) throws IOException {
    List<DocumentOutcome> outcomes;
    try {
      outcomes = batch.outcomes().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a batch", e);
    } catch (ExecutionException e) {
      // process() isolates single documents; reaching this is a bug or an Error: reject the whole batch, loudly
      outcomes = null;
      for (Entry en : batch.entries()) {
        if (en.node != null) {
          en.stage = "pipeline";
          en.reason = "batch failed: " + e.getCause();
          en.content = preview(en.node.get(options.textField()).textValue());
          en.node = null;
        }
      }
    }
    int k = 0;
    for (Entry e : batch.entries()) {
      if (e.node == null) {
        reject(c, e.line, e.id, e.stage, e.reason, e.content);
        continue;
      }
      DocumentOutcome o = outcomes.get(k++);
      if (!o.ok()) {
        reject(c, e.line, e.id, o.stage(), String.valueOf(o.failure()), preview(e.node.get(options.textField()).textValue()));
        continue;
      }
      EditResult r = o.result();
      String original = e.node.get(options.textField()).textValue();
      e.node.put(options.textField(), r.text());
      e.node.set(options.infoField(), info(original, r));
      out.write(json.writeValueAsString(e.node));
      out.write('\n');
      c.documents++;
      c.tokens += r.tokens();
      c.overThreshold += r.overThreshold();
      c.changed += r.changed();
      c.expectedChanged += r.expectedChanged();
      c.deleted += r.deleted();
      c.excludedCandidates += r.excludedCandidates();
    }
  }

  private ObjectNode info(String original, EditResult r) {
    ObjectNode info = json.createObjectNode();
    info.put("originalText", original);
    ArrayNode edits = info.putArray("edits");
    for (TokenEdit te : r.edits()) {
      ObjectNode e = edits.addObject();
      e.put("position", te.position());
      e.put("charStart", te.charStart());
      e.put("charEnd", te.charEnd());
      e.put("originalId", te.originalId());
      e.put("originalPiece", te.originalPiece());
      e.put("newId", te.newId());
      e.put("newPiece", te.newPiece());
      e.put("probOriginal", te.probOriginal());
    }
    info.put("tokens", r.tokens());
    info.put("overThreshold", r.overThreshold());
    info.put("changed", r.changed());
    info.put("deleted", r.deleted());
    info.put("expectedChanged", r.expectedChanged());
    info.put("excludedCandidates", r.excludedCandidates());
    if (Double.isNaN(r.meanNll())) {
      info.putNull("meanNll");
    } else {
      info.put("meanNll", r.meanNll());
    }
    info.put("model", editor.modelId());
    info.put("contextToken", editor.contextToken().describe());
    info.put("strategy", r.strategy().wireName());
    ObjectNode params = info.putObject("parameters");
    for (Map.Entry<String, String> p : r.parameters().entrySet()) {
      params.put(p.getKey(), p.getValue());
    }
    info.put("seed", r.seed());
    return info;
  }

  /** Parses one line; on any problem the entry is a reject with stage {@code read}. */
  private Entry parse(BoundedLineReader.Line line) {
    Entry e = new Entry(line.number());
    e.stage = "read";
    if (line.oversized()) {
      e.reason = "line is " + line.fullLength() + " bytes, over the limit of " + options.maxLineBytes()
          + " (raise --max-line-bytes to accept it)";
      e.content = preview(new String(line.bytes(), 0, Math.min(line.length(), CONTENT_PREVIEW * 4), StandardCharsets.UTF_8));
      return e;
    }
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(line.bytes(), 0, line.length())).toString();
    } catch (CharacterCodingException ex) {
      e.reason = "line is not valid UTF-8";
      e.content = preview(new String(line.bytes(), 0, line.length(), StandardCharsets.UTF_8));
      return e;
    }
    e.content = preview(s);
    if (s.isBlank()) {
      e.reason = "empty line";
      return e;
    }
    JsonNode node;
    try {
      node = json.readTree(s);
    } catch (JsonProcessingException ex) {
      e.reason = "not valid JSON: " + ex.getOriginalMessage();
      return e;
    }
    if (!(node instanceof ObjectNode obj)) {
      e.reason = "not a JSON object";
      return e;
    }
    JsonNode idNode = obj.get(options.idField());
    if (idNode == null || idNode.isNull()) {
      e.id = Long.toString(line.number());
    } else if (idNode.isTextual() || idNode.isIntegralNumber()) {
      e.id = idNode.asText();
    } else {
      e.reason = "field '" + options.idField() + "' must be a string or an integer, got " + idNode.getNodeType();
      return e;
    }
    JsonNode text = obj.get(options.textField());
    if (text == null) {
      e.reason = "no field '" + options.textField() + "' (choose the text field with --text-field)";
      return e;
    }
    if (!text.isTextual()) {
      e.reason = "field '" + options.textField() + "' is " + text.getNodeType() + ", not a string";
      return e;
    }
    String t = text.textValue();
    if (t.length() > options.maxDocumentChars()) {
      e.reason = "text is " + t.length() + " characters, over the limit of " + options.maxDocumentChars()
          + " (raise --max-document-chars to accept it)";
      return e;
    }
    int bad = unpairedSurrogate(t);
    if (bad >= 0) {
      e.reason = String.format(Locale.ROOT, "text has an unpaired surrogate \\u%04X at character %d: not valid Unicode",
          (int) t.charAt(bad), bad);
      return e;
    }
    if (obj.has(options.infoField())) {
      e.reason = "line already has a field '" + options.infoField()
          + "' (edited already? choose another name with --info-field)";
      return e;
    }
    e.node = obj;
    e.stage = null;
    e.content = null;
    return e;
  }

  private static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (Character.isHighSurrogate(ch)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          return i;
        }
      } else if (Character.isLowSurrogate(ch)) {
        return i;
      }
    }
    return -1;
  }

  private void reject(Counters c, long line, String id, String stage, String reason, String content) throws IOException {
    if (c.rejectsWriter == null) {
      c.rejectsWriter = writer(options.rejects());
    }
    ObjectNode r = json.createObjectNode();
    r.put("line", line);
    if (id != null) {
      r.put("id", id);
    }
    r.put("stage", stage);
    r.put("reason", reason);
    r.put("content", content);
    c.rejectsWriter.write(json.writeValueAsString(r));
    c.rejectsWriter.write('\n');
    c.rejects++;
  }

  private static String preview(String s) {
    if (s == null || s.length() <= CONTENT_PREVIEW) {
      return s;
    }
    int end = CONTENT_PREVIEW;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end) + "…";
  }

  private static boolean isGzip(Path p) {
    return p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
  }

  private static Writer writer(Path p) throws IOException {
    Path parent = p.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    OutputStream os = new BufferedOutputStream(Files.newOutputStream(p), 64 * 1024);
    if (isGzip(p)) {
      os = new GZIPOutputStream(os, 64 * 1024);
    }
    return new BufferedWriter(new OutputStreamWriter(os, StandardCharsets.UTF_8), 64 * 1024);
  }

  /** Counts the bytes read from the file, for the progress ETA. */
  private static final class CountingInputStream extends FilterInputStream {
    private volatile long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    long count() {
      return count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
