package io.toedit.stream;

/**
 * A record the pipeline cannot process, with a reason meant for the dead-letter topic. The
 * {@linkplain #getCause() cause}, when present, is the parser's or model's own exception.
 */
public final class RejectedRecordException extends Exception {

  private final String stage;

  public RejectedRecordException(String stage, String reason) {
    super(reason);
    this.stage = stage;
  }

  public RejectedRecordException(String stage, String reason, Throwable cause) {
    super(reason, cause);
    this.stage = stage;
  }

  /** Where it was rejected: {@code validate}, {@code tokenize}, {@code score} or {@code edit}. */
  public String stage() {
    return stage;
  }

  /** The class named in the dead letter: the cause's when there is one. */
  public String errorClass() {
    return getCause() != null ? getCause().getClass().getName() : getClass().getName();
  }
}
