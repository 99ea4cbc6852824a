package io.toedit.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBrokerClasspathTest {

  @Test
  void shouldExpandManifestClassPathRelativeToTheJarWhenRunFromJar(@TempDir Path dir) throws Exception {
    Path lib = Files.createDirectories(dir.resolve("lib"));
    Path inner = lib.resolve("kafka_2.13-x.jar");
    writeJar(inner, null);
    Path nested = Files.createDirectories(dir.resolve("other dir ü"));
    Path app = dir.resolve("app.jar");
    writeJar(app, "lib/kafka_2.13-x.jar " + nested.toUri() + " lib/missing.jar");

    String expanded = LocalBroker.expandClasspath(app.toString());

    assertEquals(List.of(app.toAbsolutePath().normalize().toString(), inner.toString(), nested.toString(),
        lib.resolve("missing.jar").toString()), List.of(expanded.split(File.pathSeparator)));
  }

  @Test
  void shouldKeepPlainEntriesOnceWhenExpanding(@TempDir Path dir) throws Exception {
    Path a = Files.createDirectories(dir.resolve("classes"));
    String cp = a + File.pathSeparator + a + File.pathSeparator;
    assertEquals(a.toString(), LocalBroker.expandClasspath(cp));
  }

  private static void writeJar(Path jar, String classPath) throws Exception {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    if (classPath != null) {
      m.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
    }
    try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, m)) {
      j.flush();
    }
  }
}
