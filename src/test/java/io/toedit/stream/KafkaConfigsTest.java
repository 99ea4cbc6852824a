package io.toedit.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaConfigsTest {

  @Test
  void shouldApplyFileThenOverridesThenDefaultsWhenMerging(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("client.properties");
    Files.writeString(file, "bootstrap.servers=file:9092\nacks=1\nclient.id=from-file-ü\n", StandardCharsets.UTF_8);
    Properties p = KafkaConfigs.merge(file, Map.of("acks", "all"),
        Map.of("acks", "0", "linger.ms", "5", "client.id", "default"));
    assertEquals("file:9092", p.getProperty("bootstrap.servers"));
    assertEquals("all", p.getProperty("acks"), "an override beats the file, a default never wins");
    assertEquals("from-file-ü", p.getProperty("client.id"), "the file is read as UTF-8");
    assertEquals("5", p.getProperty("linger.ms"), "a default fills an absent key");
  }

  @Test
  void shouldSplitOverridesAtFirstEqualsSign() {
    Map<String, String> o = KafkaConfigs.parseOverrides(List.of(
        "sasl.jaas.config=Module required username=\"u\" password=\"p=q\";", "empty.value="));
    assertEquals("Module required username=\"u\" password=\"p=q\";", o.get("sasl.jaas.config"));
    assertEquals("", o.get("empty.value"));
  }

  @Test
  void shouldRejectOverrideWithoutEqualsWithoutEchoingIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KafkaConfigs.parseOverrides(List.of("hunter2-secret")));
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
  }

  @Test
  void shouldFailWithFileNameWhenConfigFileIsMissing(@TempDir Path dir) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> KafkaConfigs.merge(dir.resolve("nope.properties"), Map.of(), Map.of()));
    assertTrue(e.getMessage().contains("nope.properties"), e.getMessage());
  }

  @Test
  void shouldRedactSecretKeysButKeepOthersWhenDescribing() {
    Properties p = new Properties();
    p.setProperty("sasl.jaas.config", "x password=\"s3cr3t-ä\";");
    p.setProperty("ssl.keystore.password", "s3cr3t-ä");
    p.setProperty("ssl.key.password", "s3cr3t-ä");
    p.setProperty("SSL.TRUSTSTORE.PASSWORD", "s3cr3t-ä");
    p.setProperty("sasl.oauthbearer.client.credentials.client.secret", "s3cr3t-ä");
    p.setProperty("basic.auth.user.info", "u:s3cr3t-ä");
    p.setProperty("ssl.keystore.key", "-----BEGIN PRIVATE KEY----- s3cr3t-ä");
    p.setProperty("security.protocol", "SASL_SSL");
    p.setProperty("sasl.mechanism", "SCRAM-SHA-512");
    String described = KafkaConfigs.describe(p);
    assertFalse(described.contains("s3cr3t"), described);
    assertTrue(described.contains("security.protocol=SASL_SSL"), described);
    assertTrue(described.contains("sasl.mechanism=SCRAM-SHA-512"), described);
    Properties r = KafkaConfigs.redacted(p);
    assertEquals(KafkaConfigs.REDACTED, r.getProperty("sasl.jaas.config"));
    assertEquals(p.size(), r.size());
    assertEquals("x password=\"s3cr3t-ä\";", p.getProperty("sasl.jaas.config"), "the original is unchanged");
  }
}
