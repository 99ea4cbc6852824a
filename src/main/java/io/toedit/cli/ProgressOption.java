package io.toedit.cli;

import picocli.CommandLine.Option;

/** The {@code --[no-]progress} switch of the commands that work through a file (picocli mixin). */
public final class ProgressOption {

  @Option(names = "--progress", negatable = true,
      description = "Show a progress line on stderr (default: only on a terminal).")
  Boolean progress;

  /** Whether to show the progress line: as asked, else only when a terminal is attached. */
  boolean show() {
    return progress != null ? progress : System.console() != null;
  }
}
