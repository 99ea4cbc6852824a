package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "edit", mixinStandardHelpOptions = true,
    description = "Edit a JSONL or JSONL.gz file in batch.")
public final class EditCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'edit' is not implemented yet");
  }
}
