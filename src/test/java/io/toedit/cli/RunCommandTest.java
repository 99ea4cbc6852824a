package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code run} checks its pipeline settings before it connects to anything. */
class RunCommandTest {

  private static int run(StringWriter err, String... args) {
    return Main.newCommandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true)).execute(args);
  }

  @Test
  void shouldExitWithUsageWhenAPipelineSettingIsUnknown() {
    StringWriter err = new StringWriter();
    int code = run(err, "run", "--bootstrap-servers", "127.0.0.1:9", "-X", "toedit.batch.max.tokenz=100");
    assertEquals(ExitCodes.USAGE, code, err.toString());
    assertTrue(err.toString().contains("toedit.batch.max.tokens"), err.toString());
  }

  @Test
  void shouldExitWithUsageWhenTheInputFormatIsNotSupported() {
    StringWriter err = new StringWriter();
    int code = run(err, "run", "-b", "127.0.0.1:9", "-X", "toedit.input.format=xml");
    assertEquals(ExitCodes.USAGE, code, err.toString());
    assertTrue(err.toString().contains("json, avro or auto"), err.toString());
  }

  @Test
  void shouldExitWithUsageWhenTheStrategyIsUnknown() {
    StringWriter err = new StringWriter();
    int code = run(err, "run", "-b", "127.0.0.1:9", "--strategy", "überarbeiten");
    assertEquals(ExitCodes.USAGE, code, err.toString());
    assertTrue(err.toString().contains("up_revise"), err.toString());
  }

  @Test
  void shouldCreateTopicsOnlyWhenAskedAndThenWithTheClusterDefaults() {
    picocli.CommandLine cl = Main.newCommandLine(new PrintWriter(new StringWriter(), true),
        new PrintWriter(new StringWriter(), true));
    RunCommand plain = (RunCommand) cl.parseArgs("run", "-b", "127.0.0.1:9").subcommand().commandSpec().userObject();
    assertEquals(false, plain.createTopics, "run creates no topic unless --create-topics");
    cl = Main.newCommandLine(new PrintWriter(new StringWriter(), true), new PrintWriter(new StringWriter(), true));
    RunCommand asked = (RunCommand) cl.parseArgs("run", "-b", "127.0.0.1:9", "--create-topics").subcommand()
        .commandSpec().userObject();
    assertTrue(asked.createTopics);
    assertEquals(null, asked.partitions, "the cluster's num.partitions");
    assertEquals(null, asked.replication, "the cluster's default.replication.factor");
  }
}
