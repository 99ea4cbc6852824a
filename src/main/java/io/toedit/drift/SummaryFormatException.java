package io.toedit.drift;

/**
 * Serialized drift state that cannot be read: wrong magic, version, sizes or checksum. The message
 * says which byte range was wrong and what it had to be, DataSketches style ("Possible corruption:
 * ... must be X: Y").
 */
public final class SummaryFormatException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public SummaryFormatException(String message) {
    super(message);
  }

  public SummaryFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
