package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "score", mixinStandardHelpOptions = true,
    description = "Score a JSONL file with the prior model and print per-document NLL.")
public final class ScoreCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'score' is not implemented yet");
  }
}
