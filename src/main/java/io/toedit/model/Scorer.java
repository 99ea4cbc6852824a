package io.toedit.model;

import io.toedit.text.TokenScores;
import java.util.List;

/**
 * Teacher-forced scoring of token sequences by a prior language model.
 *
 * <p>Every position is conditioned on the original prefix; nothing is generated. Implementations
 * score a whole batch in as few forward passes as memory allows, and return plain Java arrays (no
 * native memory escapes). Sequences of any length are accepted: longer than the model context they
 * are scored in overlapping windows so every token keeps context.
 *
 * <p>Implementations are thread-safe unless documented otherwise.
 */
public interface Scorer extends AutoCloseable {

  /**
   * Scores each sequence. Each sequence must start with BOS. The result has one entry per input, in
   * order.
   */
  List<TokenScores> score(List<int[]> sequences);

  /** Number of candidates returned per position. */
  int topK();

  /** A short identifier of the model, e.g. the folder name plus a weights digest. */
  String modelId();

  /** Human-readable device description, e.g. {@code cpu} or {@code gpu(0)}. */
  String device();

  /**
   * Floating-point operations of the forward passes that {@link #score} runs on these sequences, counting real
   * tokens only (padding excluded; window overlap included, since it is computed): every matrix product
   * (2 per multiply-add, the head included) and causal attention. {@code NaN} when unknown.
   */
  default double forwardFlops(List<int[]> sequences) {
    return Double.NaN;
  }

  /**
   * The rate, in FLOP/s, of matrix products of the model's hidden size on the scoring device, in its
   * compute dtype, one per worker at once, best of a few rounds: the attainable peak that {@link #forwardFlops}
   * rates are compared with (a measurement, not a spec-sheet figure; on a shared machine it is as noisy as the
   * rate it is compared with). Takes a few seconds. {@code NaN} when unknown.
   */
  default double matmulPeakFlops() {
    return Double.NaN;
  }

  @Override
  void close();
}
