package io.toedit.text;


/** Text to token ids with character spans; never truncates. Thread-safe. */
public interface TextTokenizer extends AutoCloseable {

  /** Encodes {@code text} with BOS prepended, keeping each token's character span. */
  Tokenized encode(String text);

  Vocabulary vocabulary();

  @Override
  void close();
}
