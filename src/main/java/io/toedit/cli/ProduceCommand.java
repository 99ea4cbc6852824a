package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "produce", mixinStandardHelpOptions = true,
    description = "Produce JSONL documents into the input topic.")
public final class ProduceCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'produce' is not implemented yet");
  }
}
