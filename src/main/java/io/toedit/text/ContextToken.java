package io.toedit.text;

/**
 * The token put before every document so that its first real token has a context to be scored in.
 *
 * @param id the token id (position 0 of every {@link Tokenized})
 * @param piece its vocabulary string, e.g. {@code <|begin_of_text|>}
 * @param source where the rule found it, e.g. {@code "tokenizer.json post_processor"} or
 *     {@code "config.json bos_token_id (the tokenizer adds no BOS)"}
 */
public record ContextToken(int id, String piece, String source) {

  /** One line for logs and output metadata, e.g. {@code <|endoftext|> (151643) from config.json ...}. */
  public String describe() {
    return piece + " (" + id + ") from " + source;
  }
}
