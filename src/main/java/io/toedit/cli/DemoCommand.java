package io.toedit.cli;

import io.toedit.stream.Demo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline locally: embedded broker, bundled model and sample text.")
public final class DemoCommand implements Callable<Integer> {

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--timeout-s", defaultValue = "300",
      description = "Give up when the output is not complete after this many seconds (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("toedit-demo-");
    try {
      Demo.Summary s = Demo.run(spec.commandLine().getOut(), work, Duration.ofSeconds(timeoutSeconds));
      if (!s.balanced()) {
        spec.commandLine().getErr().println("error: only " + (s.edited() + s.deadLetters()) + " of " + s.produced()
            + " records came out within " + timeoutSeconds + " s");
        return ExitCodes.FAILURE;
      }
      return ExitCodes.OK;
    } finally {
      Demo.deleteTree(work);
    }
  }
}
