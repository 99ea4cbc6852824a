package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline locally: embedded broker, bundled model and sample text.")
public final class DemoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'demo' is not implemented yet");
  }
}
