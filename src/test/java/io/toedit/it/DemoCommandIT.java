package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.cli.ExitCodes;
import io.toedit.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code toedit demo}: its own broker, the bundled model and sample, a complete and balanced summary. */
class DemoCommandIT {

  @Test
  void shouldRunTheDemoWithoutSetupAndAccountForEveryRecord() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.newCommandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute("demo", "--http-port", "0");
    String text = out.toString();
    assertEquals(ExitCodes.OK, code, text + err);
    assertTrue(text.contains("in = edited + dead letters: yes"), text);
    assertEquals(125, number(text, "records in\\s+(\\d+)"));
    assertEquals(120, number(text, "edited docs\\s+(\\d+)"));
    assertEquals(5, number(text, "dead letters\\s+(\\d+)"));
    assertTrue(number(text, "tokens scored\\s+(\\d+)") > 10_000, text);
    assertTrue(text.contains("reason=malformed JSON"), text);
    assertTrue(text.contains("reason=unknown Avro schema fingerprint"), text);
    assertTrue(text.contains("example edit in "), text);
  }

  private static long number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "no match for " + regex + " in\n" + text);
    return Long.parseLong(m.group(1));
  }
}
