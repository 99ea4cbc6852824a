package io.toedit.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code java -jar target/toedit-streams.jar <command>}. */
@Command(name = "toedit",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "ToEdit Streams: token-level editing of human text into semi-synthetic training data, on Kafka.",
    subcommands = {
        DemoCommand.class,
        RunCommand.class,
        EditCommand.class,
        ScoreCommand.class,
        BenchCommand.class,
        ProfileCommand.class,
        DriftCommand.class,
        ProduceCommand.class,
        ConsumeCommand.class,
        BrokerCommand.class,
        SynthModelCommand.class,
        CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The one factory used by {@link #main} and by the tests. */
  public static CommandLine newCommandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Main());
    cl.setOut(out);
    cl.setErr(err);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine cmd = ex.getCommandLine();
      cmd.getErr().println("error: " + ex.getMessage());
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, cmd.getErr());
      cmd.getErr().println("Run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
      return ExitCodes.USAGE;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      if (ex instanceof IllegalArgumentException || ex instanceof java.nio.file.NoSuchFileException) {
        cmd.getErr().println("error: " + ex.getMessage());
        return ExitCodes.USAGE;
      }
      cmd.getErr().println("error: " + ex);
      ex.printStackTrace(cmd.getErr());
      return ExitCodes.FAILURE;
    });
    return cl;
  }

  public static void main(String[] args) throws Exception {
    if (Relauncher.moduleMissing() && System.getenv(Relauncher.PARENT_ENV) == null) {
      System.exit(Relauncher.relaunch(args));
    }
    Relauncher.watchParent();
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = newCommandLine(out, err).execute(args);
    System.exit(code);
  }
}
