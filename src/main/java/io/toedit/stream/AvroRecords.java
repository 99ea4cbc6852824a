package io.toedit.stream;

import io.toedit.avro.DeadLetter;
import io.toedit.avro.Edit;
import io.toedit.avro.EditedDocument;
import io.toedit.avro.RawDocument;
import io.toedit.avro.ScoredDocument;
import io.toedit.edit.EditResult;
import io.toedit.edit.TokenEdit;
import io.toedit.text.TokenScores;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Converts the pipeline's Java results into the Avro records of the contract (edited, scored, dead letter). */
public final class AvroRecords {

  private AvroRecords() {
  }

  /**
   * The output record of one edited document; {@code contextToken} is the tokenizer's
   * {@code ContextToken.describe()}, as {@code edit} writes it.
   */
  public static EditedDocument edited(RawDocument raw, EditResult r, String model, String contextToken,
      boolean includeOriginal) {
    List<Edit> edits = new ArrayList<>(r.edits().size());
    for (TokenEdit e : r.edits()) {
      edits.add(Edit.newBuilder().setPosition(e.position()).setCharStart(e.charStart()).setCharEnd(e.charEnd())
          .setOriginalId(e.originalId()).setOriginalPiece(e.originalPiece()).setNewId(e.newId())
          .setNewPiece(e.newPiece()).setProbOriginal(e.probOriginal()).build());
    }
    return EditedDocument.newBuilder()
        .setId(raw.getId())
        .setSource(raw.getSource())
        .setText(r.text())
        .setOriginalText(includeOriginal ? raw.getText() : null)
        .setEdits(edits)
        .setTokens(r.tokens())
        .setOverThreshold(r.overThreshold())
        .setChanged(r.changed())
        .setDeleted(r.deleted())
        .setExpectedChanged(r.expectedChanged())
        .setExcludedCandidates(r.excludedCandidates())
        .setMeanNll(r.meanNll())
        .setModel(model)
        .setContextToken(contextToken)
        .setStrategy(r.strategy().wireName())
        .setParameters(new LinkedHashMap<>(r.parameters()))
        .setSeed(r.seed())
        .setMetadata(raw.getMetadata() == null ? null : new LinkedHashMap<>(raw.getMetadata()))
        .build();
  }

  /** The enrichment itself: token ids, log-probs and optionally the top-k candidates. */
  public static ScoredDocument scored(RawDocument raw, TokenScores s, String model, boolean withTopK) {
    List<Integer> ids = new ArrayList<>(s.length());
    List<Float> lp = new ArrayList<>(s.length());
    for (int t = 0; t < s.length(); t++) {
      ids.add(s.ids()[t]);
      lp.add(s.logProbs()[t]);
    }
    List<List<Integer>> topIds = null;
    List<List<Float>> topLp = null;
    if (withTopK) {
      topIds = new ArrayList<>(s.length());
      topLp = new ArrayList<>(s.length());
      for (int t = 0; t < s.length(); t++) {
        List<Integer> ri = new ArrayList<>(s.topIds()[t].length);
        for (int id : s.topIds()[t]) {
          ri.add(id);
        }
        List<Float> rl = new ArrayList<>(s.topLogProbs()[t].length);
        for (float f : s.topLogProbs()[t]) {
          rl.add(f);
        }
        topIds.add(ri);
        topLp.add(rl);
      }
    }
    return ScoredDocument.newBuilder().setId(raw.getId()).setSource(raw.getSource()).setModel(model)
        .setTokenIds(ids).setLogProbs(lp).setTopIds(topIds).setTopLogProbs(topLp).build();
  }

  /** A dead letter carrying the original bytes unchanged. */
  static DeadLetter deadLetter(String topic, int partition, long offset, byte[] key, byte[] value, String documentId,
      String errorClass, String reason, String stage, long timeMs) {
    return deadLetter(topic, partition, offset, key, value, documentId, errorClass, reason, stage, timeMs,
        Integer.MAX_VALUE);
  }

  /**
   * A dead letter carrying at most {@code maxValueBytes} of the original value (its first bytes,
   * {@code valueTruncated} set), always with the original's length and SHA-256.
   */
  static DeadLetter deadLetter(String topic, int partition, long offset, byte[] key, byte[] value, String documentId,
      String errorClass, String reason, String stage, long timeMs, int maxValueBytes) {
    boolean truncated = value != null && value.length > maxValueBytes;
    byte[] kept = truncated ? java.util.Arrays.copyOf(value, maxValueBytes) : value;
    return DeadLetter.newBuilder()
        .setKey(key == null ? null : ByteBuffer.wrap(key))
        .setValue(kept == null ? null : ByteBuffer.wrap(kept))
        .setValueLength(value == null ? null : (long) value.length)
        .setValueSha256(value == null ? null : OutputRecords.sha256Hex(value))
        .setValueTruncated(truncated)
        .setTopic(topic)
        .setPartition(partition)
        .setOffset(offset)
        .setDocumentId(documentId)
        .setErrorClass(errorClass)
        .setReason(reason)
        .setStage(stage)
        .setTime(Instant.ofEpochMilli(timeMs))
        .build();
  }

  /** Metadata copy helper for callers that build raw documents. */
  static Map<String, String> copy(Map<String, String> m) {
    return m == null ? null : new LinkedHashMap<>(m);
  }
}
