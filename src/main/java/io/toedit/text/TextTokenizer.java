package io.toedit.text;


/** Text to token ids with character spans; never truncates. Thread-safe. */
public interface TextTokenizer extends AutoCloseable {

  /** Encodes {@code text} with the {@link #contextToken()} prepended, keeping each token's character span. */
  Tokenized encode(String text);

  Vocabulary vocabulary();

  /** The token put before every document, and where it comes from. */
  default ContextToken contextToken() {
    int id = vocabulary().bosId();
    return new ContextToken(id, vocabulary().piece(id), "the vocabulary's BOS");
  }

  @Override
  void close();
}
