package io.toedit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The GPU check of {@code ops/gpu/} runs only on a lent GPU machine, a few minutes at a time, so what can be checked
 * here is: both scripts parse, and what {@code device-check.sh} names in the project (test classes, commands and
 * their flags) exists, so that a rename fails here rather than on the device.
 */
class GpuCheckScriptsTest {

  private static final Path DIR = Path.of("ops/gpu");

  @Test
  void shouldParseBothScriptsWithBash() throws Exception {
    for (String script : List.of("prepare-bundle.sh", "device-check.sh")) {
      Process p = new ProcessBuilder("bash", "-n", DIR.resolve(script).toString()).redirectErrorStream(true).start();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), script);
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, p.exitValue(), script + ": " + out);
      assertTrue(Files.isExecutable(DIR.resolve(script)), script + " is executable");
    }
  }

  @Test
  void shouldSelectTestClassesThatExist() throws Exception {
    List<String> classes = matches("--select-class ([\\w.]+)");
    assertEquals(4, classes.size(), "device-check.sh runs four test classes: " + classes);
    for (String c : classes) {
      Class.forName(c);                                    // throws if a test class was renamed or moved
    }
  }

  @Test
  void shouldRunCommandsAndFlagsTheCliHas() throws Exception {
    CommandLine cli = Main.newCommandLine(new java.io.PrintWriter(java.io.Writer.nullWriter()),
        new java.io.PrintWriter(java.io.Writer.nullWriter()));
    // every `toedit-streams.jar <command> ...` and the flags given to it in the script
    List<String> lines = new ArrayList<>();
    String text = Files.readString(DIR.resolve("device-check.sh"));
    Matcher m = Pattern.compile("toedit-streams\\.jar\" (bench|synth-model)((?:\\\\\\n|[^\\n])*)").matcher(text);
    while (m.find()) {
      lines.add(m.group(1) + m.group(2));
    }
    // bench's own arguments come through "$@" from the bench() calls
    Matcher calls = Pattern.compile("^\\s*bench [\\w-]+ \"[^\"]+\" \"[^\"]+\"(.*)$", Pattern.MULTILINE).matcher(text);
    while (calls.find()) {
      lines.add("bench" + calls.group(1));
    }
    assertTrue(lines.size() >= 5, lines.toString());
    for (String line : lines) {
      String command = line.split(" ", 2)[0];
      CommandLine sub = cli.getSubcommands().get(command);
      assertTrue(sub != null, "no command " + command);
      Matcher flags = Pattern.compile("(--[a-z][\\w-]*)").matcher(line);
      while (flags.find()) {
        String flag = flags.group(1);
        var option = sub.getCommandSpec().findOption(flag);
        if (option == null && flag.startsWith("--no-")) {                 // --no-peak: a negatable --peak
          option = sub.getCommandSpec().findOption("--" + flag.substring(5));
          assertTrue(option == null || option.negatable(), command + " " + flag + ": --" + flag.substring(5)
              + " is not negatable");
        }
        assertTrue(option != null, command + " has no option " + flag);
      }
    }
  }

  private static List<String> matches(String regex) throws IOException {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile(regex).matcher(Files.readString(DIR.resolve("device-check.sh")));
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }
}
