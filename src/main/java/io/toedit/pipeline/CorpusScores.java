package io.toedit.pipeline;

import io.toedit.text.TokenScores;


/** Per-document summary of teacher-forced scores: predicted tokens, mean NLL, confident tokens. */
public record CorpusScores(int predicted, double meanNll, int confident) {

  /** Summarises one document; {@code threshold} is a probability, e.g. 0.99. */
  public static CorpusScores of(TokenScores s, double threshold) {
    double logThreshold = Math.log(threshold);
    double nll = 0;
    int n = 0;
    int confident = 0;
    for (int t = 1; t < s.length(); t++) {
      nll -= s.logProbs()[t];
      n++;
      if (s.logProbs()[t] >= logThreshold) {
        confident++;
      }
    }
    return new CorpusScores(n, n == 0 ? Double.NaN : nll / n, confident);
  }
}
