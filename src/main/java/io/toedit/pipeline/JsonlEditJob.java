package io.toedit.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The offline {@code edit} job: reads JSONL (or gzipped JSONL, by its magic bytes) with a
 * {@link JsonlReader}, edits the text field of every line with a {@link DocumentEditor} (the path
 * the stream shares), and writes with a {@link JsonlWriter} the lines in input order with every
 * other field kept, and each line that cannot be edited to a rejects file with its line number and
 * the reason. The output is a pure function of the input and the configuration: chunk size and thread
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
 * characters}}, stage one of {@code read} (line too long, or a {@link io.toedit.document.Rejection}
 * of the document format: not UTF-8, not JSON, no text...),
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
   * @param chunkSize documents per {@link DocumentEditor#process} call (a chunk)
   * @param threads chunks edited concurrently
   * @param maxLineBytes longer lines are rejected without being held in memory
   * @param maxDocumentChars longer texts are rejected
   */
  public record Options(Path input, Path output, Path rejects, String textField, String idField,
      String infoField, int chunkSize, int threads, int maxLineBytes, int maxDocumentChars) {

    public static final int DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
    public static final int DEFAULT_MAX_DOCUMENT_CHARS = 1_000_000;

    public Options {
      if (chunkSize < 1 || threads < 1) {
        throw new IllegalArgumentException("chunk size and threads must be at least 1, got " + chunkSize + " and " + threads);
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

    public Options withChunking(int chunk, int workerThreads) {
      return new Options(input, output, rejects, textField, idField, infoField, chunk, workerThreads, maxLineBytes,
          maxDocumentChars);
    }

    public Options withFields(String text, String id, String info) {
      return new Options(input, output, rejects, text, id, info, chunkSize, threads, maxLineBytes, maxDocumentChars);
    }

    public Options withLimits(int lineBytes, int documentChars) {
      return new Options(input, output, rejects, textField, idField, infoField, chunkSize, threads, lineBytes,
          documentChars);
    }

    public Options withRejects(Path path) {
      return new Options(input, output, path, textField, idField, infoField, chunkSize, threads, maxLineBytes,
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

  /** Called on the job's thread after each chunk is written. */
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

  private final DocumentEditor editor;
  private final Options options;

  public JsonlEditJob(DocumentEditor editor, Options options) {
    this.editor = editor;
    this.options = options;
  }

  private record Chunk(List<JsonlReader.Line> lines, Future<List<DocumentOutcome>> outcomes) {
  }

  /** Runs the job. Throws on I/O failure; bad lines are rejects, never exceptions. */
  public Summary run(Progress progress) throws IOException {
    long start = System.nanoTime();
    DocumentEditor.StageTimes before = editor.stageTimes();
    ExecutorService pool = Executors.newFixedThreadPool(options.threads(), r -> {
      Thread t = new Thread(r, "toedit-edit-job");
      t.setDaemon(true);
      return t;
    });
    JsonlWriter w;
    try (JsonlReader reader = new JsonlReader(options);
         JsonlWriter writer = new JsonlWriter(options, editor.modelId(), editor.contextToken().describe())) {
      w = writer;
      ArrayDeque<Chunk> inFlight = new ArrayDeque<>();
      List<JsonlReader.Line> lines = new ArrayList<>();
      int docs = 0;
      JsonlReader.Line line;
      while ((line = reader.next()) != null) {
        writer.lines++;
        lines.add(line);
        if (line.isDocument()) {
          docs++;
        }
        if (docs >= options.chunkSize()) {
          inFlight.add(submit(pool, lines));
          lines = new ArrayList<>();
          docs = 0;
          while (inFlight.size() > options.threads()) {
            write(inFlight.poll(), writer);
            progress.update(writer.documents, writer.tokens, reader.bytesRead(), reader.totalBytes(),
                System.nanoTime() - start);
          }
        }
      }
      if (!lines.isEmpty()) {
        inFlight.add(submit(pool, lines));
      }
      while (!inFlight.isEmpty()) {
        write(inFlight.poll(), writer);
        progress.update(writer.documents, writer.tokens, reader.bytesRead(), reader.totalBytes(),
            System.nanoTime() - start);
      }
    } finally {
      pool.shutdownNow();
    }
    return new Summary(w.lines, w.documents, w.tokens, w.overThreshold, w.changed, w.expectedChanged, w.deleted,
        w.excludedCandidates, w.rejects, w.rejects > 0 ? options.rejects() : null, (System.nanoTime() - start) / 1e9,
        editor.stageTimes().minus(before));
  }

  /** The editing step: the documents of a chunk through the shared {@link DocumentEditor} path. */
  private Chunk submit(ExecutorService pool, List<JsonlReader.Line> lines) {
    List<SourceDocument> docs = new ArrayList<>();
    for (JsonlReader.Line l : lines) {
      if (l.isDocument()) {
        docs.add(new SourceDocument(l.document.id(), l.document.text()));
      }
    }
    return new Chunk(lines, pool.submit(() -> editor.process(docs)));
  }

  private void write(Chunk chunk, JsonlWriter writer) throws IOException {
    List<DocumentOutcome> outcomes;
    try {
      outcomes = chunk.outcomes().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a chunk", e);
    } catch (ExecutionException e) {
      // process() isolates single documents; reaching this is a bug or an Error: reject the whole chunk, loudly
      outcomes = null;
      for (JsonlReader.Line l : chunk.lines()) {
        if (l.isDocument()) {
          l.reject("pipeline", "chunk failed: " + e.getCause());
        }
      }
    }
    int k = 0;
    for (JsonlReader.Line l : chunk.lines()) {
      if (!l.isDocument()) {
        writer.reject(l.number, null, l.stage, l.reason, l.content);
        continue;
      }
      DocumentOutcome o = outcomes.get(k++);
      if (!o.ok()) {
        writer.reject(l.number, l.document.id(), o.stage(), o.reason(),
            JsonlReader.preview(l.document.text()));
        continue;
      }
      writer.edited(l, o.result());
    }
  }
}
