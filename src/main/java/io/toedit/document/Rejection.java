package io.toedit.document;

/**
 * The reasons a record or line is refused, one table for the stream's dead letters, {@code edit}'s
 * rejects file and {@code produce}'s errors. Each reason text starts with its {@link #prefix()};
 * the rest says what exactly was wrong. The prefixes are an interface users see (they filter dead
 * letters by them): change them only with the docs.
 */
public enum Rejection {
  /** The bytes are not valid UTF-8, not JSON, truncated JSON, or JSON with trailing data. */
  MALFORMED_JSON("malformed JSON"),
  /** A JSON value that is not an object. */
  NOT_AN_OBJECT("malformed JSON: expected an object"),
  /** No text field, or {@code null}. */
  MISSING_TEXT("missing text"),
  /** The text field is a number, object, array or boolean. */
  TEXT_NOT_A_STRING("text is not a string"),
  /** The text is {@code ""}. */
  EMPTY_TEXT("empty text"),
  /** The text is only whitespace. */
  WHITESPACE_TEXT("whitespace-only text"),
  /** The text is longer than the configured limit (UTF-16 code units). */
  OVERSIZED_TEXT("oversized text"),
  /** The text holds a lone UTF-16 surrogate. */
  INVALID_UNICODE("invalid Unicode"),
  /** No id in the document and no fallback (record key, line number). */
  MISSING_ID("missing id"),
  /** The id is an object, array or boolean. */
  ID_NOT_A_STRING("id is not a string"),
  /** The id is {@code ""} or blank. */
  EMPTY_ID("empty document id"),
  /** {@code metadata} is not a JSON object. */
  METADATA_NOT_AN_OBJECT("metadata is not an object"),
  /** {@code timestamp} is not an integer number of epoch milliseconds. */
  BAD_TIMESTAMP("timestamp must be an integer"),
  /** Stream: a record without a value (a tombstone). */
  NULL_VALUE("null value"),
  /** Stream: a record without a key while keys are required. */
  NULL_KEY("null key"),
  /** Stream: the record key is not valid UTF-8. */
  INVALID_KEY("invalid UTF-8 in the record key"),
  /** Stream: an Avro value that does not decode. */
  MALFORMED_AVRO("malformed Avro RawDocument"),
  /** Stream: an Avro value whose strings are not valid UTF-8. */
  INVALID_AVRO_UTF8("invalid UTF-8 in an Avro RawDocument string"),
  /** Stream: an Avro value written with a schema this build does not know. */
  UNKNOWN_AVRO_SCHEMA("unknown Avro schema fingerprint"),
  /** {@code edit}: a line longer than {@code --max-line-bytes}. */
  LINE_TOO_LONG("line too long"),
  /** {@code edit}: the line already has the info field (edited already?). */
  ALREADY_EDITED("already edited");

  private final String prefix;

  Rejection(String prefix) {
    this.prefix = prefix;
  }

  /** The text every reason of this kind starts with. */
  public String prefix() {
    return prefix;
  }

  /**
   * {@code prefix + ": " + detail}; the prefix alone for a null detail; a detail that starts with a
   * comma is appended as it is.
   */
  public String reason(String detail) {
    if (detail == null) {
      return prefix;
    }
    return detail.startsWith(",") ? prefix + detail : prefix + ": " + detail;
  }

  /** An exception carrying this rejection. */
  public InvalidDocumentException exception(String detail) {
    return new InvalidDocumentException(this, reason(detail), null);
  }

  /** An exception carrying this rejection, caused by a parser's exception. */
  public InvalidDocumentException exception(String detail, Throwable cause) {
    return new InvalidDocumentException(this, reason(detail), cause);
  }
}
