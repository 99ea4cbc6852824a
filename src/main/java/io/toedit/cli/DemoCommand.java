package io.toedit.cli;

import io.toedit.local.Demo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the whole pipeline locally: embedded broker, bundled model, a drift reference built from"
        + " bundled human text, then human text, a stretch of model-generated text and human text again; prints"
        + " the drift windows and alerts.")
public final class DemoCommand implements Callable<Integer> {

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--timeout-s", defaultValue = "300",
      description = "Give up when the output is not complete after this many seconds (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Option(names = "--http-port", defaultValue = "8080",
      description = "Port of the dashboard, /metrics and /api on 127.0.0.1; 0 picks a free one, -1 turns HTTP off"
          + " (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--linger-s", defaultValue = "0",
      description = "Keep the pipeline and the dashboard up this many seconds after the summary (default: ${DEFAULT-VALUE}).")
  long lingerSeconds;

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("toedit-demo-");
    java.io.PrintWriter out = spec.commandLine().getOut();
    try (OperatorSurface surface = httpPort < 0 ? null : OperatorSurface.start("127.0.0.1", httpPort)) {
      Demo.Hooks hooks = surface == null ? Demo.Hooks.NONE : new Demo.Hooks() {
        @Override
        public void configure(java.util.Properties props) {
          surface.advertise(props);
        }

        @Override
        public io.toedit.stream.drift.DriftListener driftListener() {
          return surface.metrics();
        }

        @Override
        public void started(io.toedit.stream.PipelineRunner runner, java.util.Properties props,
            io.toedit.text.TextTokenizer tokenizer, io.toedit.model.Scorer scorer) {
          surface.attach(runner, props, tokenizer, scorer);
          out.println("Dashboard: http://127.0.0.1:" + surface.port() + "/  (metrics: /metrics, drift: /api/drift?source=" + Demo.SOURCE + ")");
          out.flush();
        }

        @Override
        public void finished(Demo.Summary summary) throws InterruptedException {
          if (lingerSeconds > 0) {
            out.println("Keeping the dashboard up for " + lingerSeconds + " s ...");
            out.flush();
            Thread.sleep(lingerSeconds * 1000);
          }
        }
      };
      Demo.Summary s = Demo.run(out, work, Duration.ofSeconds(timeoutSeconds), hooks);
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
