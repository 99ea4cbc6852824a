package io.toedit.cli;

/** Process exit codes of every command. */
public final class ExitCodes {
  public static final int OK = 0;
  /** Unexpected failure at run time (broker unreachable, model failed to load...). */
  public static final int FAILURE = 1;
  /** Bad flags, bad paths, bad input file: the user must change something. */
  public static final int USAGE = 2;
  /** The run finished but some input was rejected (written to a rejects file or dead-letter topic). */
  public static final int PARTIAL = 3;
  /** {@code drift}: the audit finished and at least one window raised the synthetic-text alert. */
  public static final int DRIFT_ALERT = 4;

  private ExitCodes() {
  }
}
