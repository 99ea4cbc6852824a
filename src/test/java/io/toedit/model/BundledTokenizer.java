package io.toedit.model;

import io.toedit.text.TextTokenizer;

/**
 * The bundled stories260k tokenizer for tests, opened once per test JVM and shared by the test
 * classes that use it (it is thread-safe); the JVM's exit releases it.
 */
public final class BundledTokenizer {

  private static TextTokenizer tokenizer;

  private BundledTokenizer() {
  }

  public static synchronized TextTokenizer get() {
    if (tokenizer == null) {
      tokenizer = Models.openTokenizer(ModelSettings.defaults());
    }
    return tokenizer;
  }
}
