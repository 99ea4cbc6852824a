package io.toedit.drift;

/** Which of the two paired streams a document belongs to. */
public enum StreamKind {
  /** The human-written input, as received. */
  RAW,
  /** The ToEdit output of the same documents. */
  EDITED
}
