package io.toedit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class KafkaOptionsTest {

  private static Properties parse(Map<String, String> defaults, String... args) {
    KafkaOptions options = new KafkaOptions();
    new CommandLine(options).parseArgs(args);
    return options.toProperties(defaults);
  }

  @Test
  void shouldPreferOverridesThenBootstrapFlagThenFileThenDefaults(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("kafka.properties");
    Files.writeString(file, "bootstrap.servers=from-file:9092\nsecurity.protocol=SSL\nclient.id=file-ü\n",
        StandardCharsets.UTF_8);
    Properties p = parse(Map.of("client.id", "default", "acks", "all"),
        "--config-file", file.toString(), "-b", "flag:9092", "-X", "security.protocol=SASL_SSL");
    assertEquals("flag:9092", p.getProperty("bootstrap.servers"));
    assertEquals("SASL_SSL", p.getProperty("security.protocol"));
    assertEquals("file-ü", p.getProperty("client.id"));
    assertEquals("all", p.getProperty("acks"));

    Properties x = parse(Map.of(), "-b", "flag:9092", "--property", "bootstrap.servers=x:1");
    assertEquals("x:1", x.getProperty("bootstrap.servers"), "-X beats --bootstrap-servers");
  }

  @Test
  void shouldDefaultToLocalBrokerPortWhenNothingIsGiven() {
    assertEquals(KafkaOptions.DEFAULT_BOOTSTRAP, parse(Map.of()).getProperty("bootstrap.servers"));
  }
}
