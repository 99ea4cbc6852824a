package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "consume", mixinStandardHelpOptions = true,
    description = "Consume edited documents into rolling JSONL shards.")
public final class ConsumeCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'consume' is not implemented yet");
  }
}
