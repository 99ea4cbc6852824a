package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.cli.ExitCodes;
import io.toedit.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code toedit demo}: its own broker, the bundled model and sample, a complete and balanced summary,
 * and the drift story: human windows near the reference raise no contamination signal, the
 * stretch of model-generated documents does.
 */
class DemoCommandIT {

  @Test
  void shouldRunTheDemoWithoutSetupAndAccountForEveryRecord() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute("demo", "--http-port", "0");
    String text = out.toString();
    assertEquals(ExitCodes.OK, code, text + err);
    assertTrue(text.contains("in = edited + dead letters: yes"), text);
    assertEquals(185, number(text, "records in\\s+(\\d+)"));
    assertEquals(180, number(text, "edited docs\\s+(\\d+)"));
    assertEquals(5, number(text, "dead letters\\s+(\\d+)"));
    assertTrue(number(text, "tokens scored\\s+(\\d+)") > 10_000, text);
    assertTrue(text.contains("reason=malformed JSON"), text);
    assertTrue(text.contains("reason=unknown Avro schema fingerprint"), text);
    assertTrue(text.contains("example edit in "), text);

    // The closed drift windows: 9 windows of 20 documents, all but the newest closed.
    Matcher row = Pattern.compile("(?m)^  \\d\\d:\\d\\d:\\d\\d  (human|generated|mixed)\\s+(\\d+)\\s.*\\s(YES|no)$")
        .matcher(text);
    List<String> contents = new ArrayList<>();
    List<String> contaminated = new ArrayList<>();
    while (row.find()) {
      assertEquals("20", row.group(2), row.group());
      contents.add(row.group(1));
      contaminated.add(row.group(3));
    }
    assertEquals(List.of("human", "human", "human", "human", "human", "generated", "generated", "generated"),
        contents, text);
    assertEquals(List.of("no", "no", "no", "no", "no"), contaminated.subList(0, 5), "no human window alerts:\n" + text);
    assertTrue(contaminated.subList(5, 8).contains("YES"), "a generated window raises the signal:\n" + text);
    assertTrue(number(text, "Drift alerts \\(toedit.alerts\\): (\\d+)") >= 1, text);
    // The contamination alert of the raw stream (its metric and wording belong to the drift package).
    assertTrue(Pattern.compile("(?m)^  ALERT \\d\\d:\\d\\d:\\d\\d stories/raw \\w+: possible synthetic").matcher(text).find(),
        text);
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "no match for " + regex + " in\n" + text);
    return Long.parseLong(m.group(1));
  }
}
