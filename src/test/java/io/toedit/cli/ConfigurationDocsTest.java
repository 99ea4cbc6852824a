package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.stream.PipelineConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/configuration.md and the code agree: every {@code toedit.*} property of
 * {@link PipelineConfig#KEYS} and every flag of every command (the picocli model) is documented,
 * and everything documented exists. Deprecated names are listed in their own section.
 *
 * <p>The document's shape: {@code ## Properties} (tables whose first cell names a key),
 * {@code ## Commands} with one {@code ### `command`} section per command (a link to
 * {@code #model-options} or {@code #kafka-options} stands for those shared flags), the shared
 * sections {@code ### Model options} and {@code ### Kafka options}, and {@code ## Deprecated names}.
 */
class ConfigurationDocsTest {

  private static final Path DOC = Path.of("docs/configuration.md");
  private static final Pattern KEY = Pattern.compile("`(toedit\\.[a-z0-9.]+)`");
  private static final Pattern FLAG = Pattern.compile("`(-{1,2}[A-Za-z0-9][A-Za-z0-9-]*)`");
  private static final Map<Class<?>, String> SHARED = Map.of(ModelOptions.class, "Model options",
      KafkaOptions.class, "Kafka options");

  @Test
  void shouldDocumentEveryPropertyAndFlagAndNothingElse() throws IOException {
    Map<String, List<String>> sections = sections(Files.readAllLines(DOC, StandardCharsets.UTF_8));
    List<String> problems = new ArrayList<>();

    compare(problems, "## Properties: toedit.* keys", PipelineConfig.KEYS.keySet(),
        firstCells(sections.get("## Properties"), KEY));

    CommandLine cli = Main.newCommandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
    Map<String, Set<String>> shared = new LinkedHashMap<>();
    Set<String> hidden = new TreeSet<>();
    for (Map.Entry<String, CommandLine> sub : cli.getSubcommands().entrySet()) {
      if (sub.getKey().equals("help")) {
        continue;
      }
      CommandSpec spec = sub.getValue().getCommandSpec();
      Set<String> own = new TreeSet<>();
      Set<String> fromMixins = new TreeSet<>();
      List<String> links = new ArrayList<>();
      for (CommandSpec mixin : spec.mixins().values()) {
        String title = SHARED.get(mixin.userObject().getClass());
        if (title != null) {
          Set<String> names = names(mixin.options());
          shared.computeIfAbsent(title, t -> new TreeSet<>()).addAll(names);
          fromMixins.addAll(names);
          links.add(title);
        }
      }
      for (OptionSpec o : spec.options()) {
        if (o.usageHelp() || o.versionHelp()) {
          continue;
        }
        for (String n : o.names()) {
          if (o.hidden()) {
            hidden.add(n);
          } else if (!fromMixins.contains(n)) {
            own.add(n);
          }
        }
      }
      String heading = "### `" + sub.getKey() + "`";
      List<String> lines = sections.get(heading);
      if (lines == null) {
        problems.add(heading + ": no such section (command '" + sub.getKey() + "' is undocumented)");
        continue;
      }
      compare(problems, heading, own, firstCells(lines, FLAG));
      String body = String.join("\n", lines);
      for (String title : links) {
        String anchor = "(#" + title.toLowerCase(java.util.Locale.ROOT).replace(' ', '-') + ")";
        if (!body.contains(anchor)) {
          problems.add(heading + ": takes the " + title + " but does not link " + anchor);
        }
      }
    }
    for (Map.Entry<String, Set<String>> s : shared.entrySet()) {
      compare(problems, "### " + s.getKey(), s.getValue(), firstCells(sections.get("### " + s.getKey()), FLAG));
    }
    List<String> deprecated = sections.get("## Deprecated names");
    compare(problems, "## Deprecated names: properties", PipelineConfig.DEPRECATED_KEYS.keySet(),
        firstCells(deprecated, KEY));
    compare(problems, "## Deprecated names: flags", hidden, firstCells(deprecated, FLAG));

    assertTrue(problems.isEmpty(), DOC + " and the code disagree (update the doc, or the code):\n  "
        + String.join("\n  ", problems));
  }

  private static Set<String> names(List<OptionSpec> options) {
    Set<String> out = new TreeSet<>();
    for (OptionSpec o : options) {
      if (!o.usageHelp() && !o.versionHelp() && !o.hidden()) {
        out.addAll(List.of(o.names()));
      }
    }
    return out;
  }

  private static void compare(List<String> problems, String where, Set<String> inCode, Set<String> inDoc) {
    Set<String> missing = new TreeSet<>(inCode);
    missing.removeAll(inDoc);
    Set<String> unknown = new TreeSet<>(inDoc);
    unknown.removeAll(inCode);
    if (!missing.isEmpty()) {
      problems.add(where + ": in the code but not in the doc: " + missing);
    }
    if (!unknown.isEmpty()) {
      problems.add(where + ": in the doc but not in the code: " + unknown);
    }
  }

  /** Lines by heading (## and ###); a ## section also holds its ### subsections' lines. */
  private static Map<String, List<String>> sections(List<String> lines) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    List<String> h2 = null;
    List<String> h3 = null;
    for (String line : lines) {
      if (line.startsWith("## ")) {
        h2 = out.computeIfAbsent(line.strip(), k -> new ArrayList<>());
        h3 = null;
      } else if (line.startsWith("### ")) {
        h3 = out.computeIfAbsent(line.strip(), k -> new ArrayList<>());
      } else {
        if (h2 != null) {
          h2.add(line);
        }
        if (h3 != null) {
          h3.add(line);
        }
      }
    }
    return out;
  }

  /** The names matched in the first cell of each table row. */
  private static Set<String> firstCells(List<String> lines, Pattern name) {
    Set<String> out = new TreeSet<>();
    if (lines == null) {
      return out;
    }
    for (String line : lines) {
      String s = line.strip();
      if (!s.startsWith("|")) {
        continue;
      }
      int end = s.indexOf('|', 1);
      String cell = end < 0 ? s.substring(1) : s.substring(1, end);
      Matcher m = name.matcher(cell);
      while (m.find()) {
        out.add(m.group(1));
      }
    }
    return out;
  }
}
