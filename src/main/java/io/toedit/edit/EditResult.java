package io.toedit.edit;

import java.util.List;
import java.util.Map;

/**
 * The outcome of editing one document.
 *
 * @param text the edited text (equal to the input text when {@code edits} is empty)
 * @param edits the changed and deleted tokens, by position
 * @param tokens predicted tokens scored (BOS excluded)
 * @param overThreshold tokens whose P(original) passed the revise threshold
 * @param changed tokens replaced by a different token
 * @param deleted tokens deleted
 * @param meanNll mean negative log-likelihood of the original tokens, nats per token
 * @param expectedChanged expected number of changes given the model's distributions: the sum, over
 *     resampled positions, of the probability mass not on the original token
 * @param excludedCandidates top-k candidates left out of the draws because they have no whole text:
 *     their bytes are only part of a UTF-8 character (byte-fallback and byte-level pieces), or the id
 *     has no bytes (a padded vocabulary row). Special tokens are always left out and not counted
 * @param strategy the strategy used
 * @param parameters every knob, as strings, for provenance
 * @param seed the configured seed
 */
public record EditResult(String text, List<TokenEdit> edits, int tokens, int overThreshold, int changed,
    int deleted, double meanNll, double expectedChanged, int excludedCandidates, Strategy strategy,
    Map<String, String> parameters, long seed) {
}
