package io.toedit.document;

/** A document that does not follow the format, with the {@link Rejection} and the full reason. */
public final class InvalidDocumentException extends Exception {

  private final Rejection rejection;

  InvalidDocumentException(Rejection rejection, String reason, Throwable cause) {
    super(reason, cause);
    this.rejection = rejection;
  }

  /** The kind of problem (its prefix starts the {@linkplain #getMessage() reason}). */
  public Rejection rejection() {
    return rejection;
  }
}
