package io.toedit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "broker", mixinStandardHelpOptions = true,
    description = "Start a local single-node KRaft development broker.")
public final class BrokerCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw new UnsupportedOperationException("'broker' is not implemented yet");
  }
}
