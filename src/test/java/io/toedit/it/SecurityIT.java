package io.toedit.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.cli.ExitCodes;
import io.toedit.cli.KafkaOptions;
import io.toedit.local.LocalBroker;
import io.toedit.stream.KafkaConfigs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Kafka security passes through to the clients: a LocalBroker of its own whose only client listener
 * is SASL_PLAINTEXT with SCRAM-SHA-256 (credentials created at storage format time), the CLI
 * configured with -X overrides, and no password in anything the commands print.
 */
class SecurityIT {

  // Test-only credentials of a throw-away broker on 127.0.0.1.
  private static final String USER = "alice";
  private static final String PASSWORD = "pässwörd-Xq7-never-logged";
  private static final String ADMIN_PASSWORD = "admin-Zr9-never-logged";

  @TempDir
  static Path dir;
  private static LocalBroker broker;

  @BeforeAll
  static void startSecuredBroker() {
    String brokerJaas = "org.apache.kafka.common.security.scram.ScramLoginModule required "
        + "username=\"admin\" password=\"" + ADMIN_PASSWORD + "\";";
    broker = LocalBroker.start(dir.resolve("kafka"), 0, Map.of(
        "listeners", "SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller.port}",
        "advertised.listeners", "SASL_PLAINTEXT://127.0.0.1:${port}",
        "listener.security.protocol.map", "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
        "inter.broker.listener.name", "SASL_PLAINTEXT",
        "sasl.enabled.mechanisms", "SCRAM-SHA-256",
        "sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-256",
        "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config", brokerJaas,
        LocalBroker.ADD_SCRAM, "SCRAM-SHA-256=[name=admin,password=" + ADMIN_PASSWORD + "]\n"
            + "SCRAM-SHA-256=[name=" + USER + ",password=" + PASSWORD + "]"));
  }

  @AfterAll
  static void stopBroker() {
    if (broker != null) {
      broker.close();
    }
  }

  private static String[] sasl(String password) {
    return new String[] {
        "-b", broker.bootstrapServers(),
        "-X", "security.protocol=SASL_PLAINTEXT",
        "-X", "sasl.mechanism=SCRAM-SHA-256",
        "-X", "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            + "username=\"" + USER + "\" password=\"" + password + "\";"};
  }

  @Test
  void shouldRoundTripThroughSaslScramListenerWithoutPrintingThePassword(@TempDir Path work) throws Exception {
    String topic = "secure-topic";
    Path input = work.resolve("in.jsonl");
    Files.writeString(input, "{\"id\":\"s-1\",\"text\":\"secret-free text: 鍵 🔐\"}\n", StandardCharsets.UTF_8);

    ProduceConsumeCommandIT.Cli produced = ProduceConsumeCommandIT.cli(concat(
        new String[] {"produce", "-t", topic, "--format", "json"}, sasl(PASSWORD), new String[] {input.toString()}));
    assertEquals(ExitCodes.OK, produced.code(), produced.all());

    Path out = work.resolve("shards");
    ProduceConsumeCommandIT.Cli consumed = ProduceConsumeCommandIT.cli(concat(
        new String[] {"consume", "-t", topic, "--format", "json", "-o", out.toString(), "--from-beginning",
            "--max-records", "1", "--idle-timeout", "60s"}, sasl(PASSWORD), new String[0]));
    assertEquals(ExitCodes.OK, consumed.code(), consumed.all());
    JsonNode line = new ObjectMapper().readTree(Files.readString(out.resolve("edited-00000.jsonl")));
    assertEquals("secret-free text: 鍵 🔐", line.get("text").asText());

    for (ProduceConsumeCommandIT.Cli run : List.of(produced, consumed)) {
      assertTrue(run.err().contains("sasl.jaas.config=" + KafkaConfigs.REDACTED), run.all());
      assertTrue(run.err().contains("security.protocol=SASL_PLAINTEXT"), run.all());
      assertFalse(run.all().contains(PASSWORD), "the password must never be printed");
    }
  }

  @Test
  void shouldRejectWrongPasswordSoTheListenerReallyAuthenticates() {
    KafkaOptions options = new KafkaOptions();
    new CommandLine(options).parseArgs(sasl("wrong-password"));
    Properties props = options.toProperties(Map.of("default.api.timeout.ms", "30000"));
    try (Admin admin = Admin.create(props)) {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> admin.describeCluster().nodes().get(45, TimeUnit.SECONDS));
      assertInstanceOf(SaslAuthenticationException.class, e.getCause(), String.valueOf(e.getCause()));
    }
  }

  @Test
  void shouldRedactEverySecretWhenDescribingClientConfig() {
    KafkaOptions options = new KafkaOptions();
    new CommandLine(options).parseArgs(concat(sasl(PASSWORD),
        new String[] {"-X", "ssl.truststore.password=" + PASSWORD, "-X", "ssl.key.password=" + PASSWORD}));
    Properties props = options.toProperties();
    String described = KafkaConfigs.describe(props);
    assertFalse(described.contains(PASSWORD), described);
    assertFalse(KafkaConfigs.redacted(props).toString().contains(PASSWORD));
    assertTrue(described.contains("ssl.truststore.password=" + KafkaConfigs.REDACTED), described);
    assertTrue(props.getProperty("sasl.jaas.config").contains(PASSWORD), "the client itself gets the real value");
  }

  private static String[] concat(String[]... parts) {
    return java.util.Arrays.stream(parts).flatMap(java.util.Arrays::stream).toArray(String[]::new);
  }
}
