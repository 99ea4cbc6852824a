package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "profile", mixinStandardHelpOptions = true,
    description = "Build a drift reference profile from a trusted corpus.")
public final class ProfileCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'profile' is not implemented yet");
  }
}
