package io.toedit.pipeline;

import io.toedit.edit.EditResult;
import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;

/**
 * What happened to one document: either it was tokenized, scored and edited ({@link #ok()}), or
 * {@code failure} says why not and {@code stage} where ({@code tokenize}, {@code score} or
 * {@code edit}). Fields of stages not reached are {@code null}.
 */
public record DocumentOutcome(String id, Tokenized tokens, TokenScores scores, EditResult result,
    Exception failure, String stage) {

  public boolean ok() {
    return failure == null;
  }

  /**
   * The reason of a failed document, as the stream's dead letters and {@code edit}'s rejects give
   * it: {@code "<stage> failed: <the failure's message>"}.
   */
  public String reason() {
    return stage + " failed: " + (failure.getMessage() == null ? failure.getClass().getSimpleName()
        : failure.getMessage());
  }

  public static DocumentOutcome success(String id, Tokenized tokens, TokenScores scores, EditResult result) {
    return new DocumentOutcome(id, tokens, scores, result, null, "done");
  }

  public static DocumentOutcome failed(String id, Tokenized tokens, Exception failure, String stage) {
    return new DocumentOutcome(id, tokens, null, null, failure, stage);
  }
}
