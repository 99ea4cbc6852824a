package io.toedit.model;

import io.toedit.text.TokenScores;
import java.util.List;

/**
 * A scorer that forwards every call to another one, for tests that observe or slow down the calls
 * (override {@link #score}). {@link #close()} does not close the inner scorer: its owner does.
 */
public abstract class ForwardingScorer implements Scorer {

  protected final Scorer inner;

  protected ForwardingScorer(Scorer inner) {
    this.inner = inner;
  }

  @Override
  public List<TokenScores> score(List<int[]> sequences) {
    return inner.score(sequences);
  }

  @Override
  public int topK() {
    return inner.topK();
  }

  @Override
  public String modelId() {
    return inner.modelId();
  }

  @Override
  public String device() {
    return inner.device();
  }

  @Override
  public void close() {
  }
}
