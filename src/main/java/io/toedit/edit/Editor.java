package io.toedit.edit;

import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Applies the ToEdit rule to one scored document. Pure function of (config, document id, tokens,
 * scores): the same inputs give byte-identical results on any thread, batch or replay.
 *
 * <h2>The rule (paper code's defaults, {@code up_revise})</h2>
 * For every predicted position {@code t >= 1} with {@code P = exp(logProbs[t])}:
 * <ul>
 *   <li>if {@code P > threshold} ({@code >=} when inclusive) the token is <em>over threshold</em> and
 *       is resampled from the candidates: the model's top-k for {@code t} (cut to the smallest
 *       prefix reaching top-p when set), minus tokens that cannot be drawn, plus the original token
 *       when it is not already among them (never duplicated, as in vLLM's logprobs dict), minus the
 *       original when {@code excludeOriginal}. Weights are softmax(logprob / beta); the draw uses
 *       {@link DrawKeys#uniform(long, long, int)}. Drawing the original changes nothing;</li>
 *   <li>otherwise, for {@code low_drop_up_revise} and {@code filtering}, a token with
 *       {@code P < dropThreshold} is deleted.</li>
 * </ul>
 * Position 0 (the context token) is never edited; position 1 (the first real token) is. Special
 * tokens (BOS, EOS, pad, unk...), ids without bytes (padded vocabulary rows) and tokens whose bytes
 * are not whole UTF-8 characters ({@link Vocabulary#surface} is {@code null}) are never drawn; the
 * last two are counted in {@link EditResult#excludedCandidates()}.
 *
 * <h2>Text faithfulness</h2>
 * The output text is the input text with each edited unit's character span replaced by the drawn
 * token's text (exactly its {@link Vocabulary#bytes}) or removed, for a deletion; everything else is
 * copied unchanged. A unit is one token, or a <em>partial-character group</em>: consecutive tokens
 * that share one span because their boundaries fall inside a UTF-8 character (the byte-fallback
 * pieces of one character, or byte-level pieces that split an emoji, a CJK or a Devanagari
 * character). So that this can never produce text the tokenizer did not mean, a unit is resampled
 * only when the bytes of its tokens are exactly its span's text. A group is resampled as a whole: the
 * draw is at its first position (when that position is over the threshold), from that position's
 * candidates, and the drawn token replaces the whole group; the group's other positions count as
 * {@code tokens} and, when their P passes, as {@code overThreshold}, but are never drawn. A group is
 * deleted only all together (every position under the drop threshold). Tokens whose bytes are not
 * their span's text (text the tokenizer normalised, an unknown token) are left alone. The
 * dummy-prefix space SentencePiece adds before the first token maps to no text: a replacement of the
 * first token drops the leading space of its surface when the original had none in the text.
 */
public final class Editor {

  private final EditConfig config;
  private final Vocabulary vocabulary;
  private final Map<String, String> parameters;
  private final boolean[] drawable;

  public Editor(EditConfig config, Vocabulary vocabulary) {
    this.config = config;
    this.vocabulary = vocabulary;
    this.parameters = config.parameters();
    this.drawable = new boolean[vocabulary.size()];
    for (int id = 0; id < drawable.length; id++) {
      String surface = vocabulary.surface(id);
      drawable[id] = !vocabulary.isSpecial(id) && surface != null && !surface.isEmpty();
    }
  }

  public EditConfig config() {
    return config;
  }

  /**
   * Edits one document.
   *
   * @param documentId keys the random draws together with the seed and the position
   * @param tokens the tokenization of the original text (BOS first), with character spans
   * @param scores the model's scores of {@code tokens.ids()}
   * @throws IllegalArgumentException when the scores do not belong to these tokens or are not
   *     usable (NaN, fewer candidates than {@code topK})
   */
  public EditResult edit(String documentId, Tokenized tokens, TokenScores scores) {
    int n = tokens.length();
    if (!Arrays.equals(tokens.ids(), scores.ids())) {
      throw new IllegalArgumentException("Scores of document '" + documentId
          + "' are for a different token sequence (" + scores.length() + " ids vs " + n + " tokenized)");
    }
    String text = tokens.text();
    int[] ids = tokens.ids();
    float[] logProbs = scores.logProbs();
    Units units = Units.of(tokens, vocabulary);
    long idHash = DrawKeys.idHash(documentId);
    double beta = config.effectiveBeta();

    List<TokenEdit> edits = new ArrayList<>();
    int overThreshold = 0;
    int changed = 0;
    int deleted = 0;
    double nll = 0.0;
    double expected = 0.0;
    // per-position probabilities, computed once
    double[] p = new double[n];
    for (int t = 1; t < n; t++) {
      float lp = logProbs[t];
      if (Float.isNaN(lp)) {
        throw new IllegalArgumentException("Score of position " + t + " of document '" + documentId + "' is NaN");
      }
      nll -= lp;
      p[t] = Math.exp(lp);
      if (config.revises() && config.overThreshold(p[t])) {
        overThreshold++;
      }
    }
    Candidates cand = new Candidates(config.topK() + 1);
    for (int u = 0; u < units.count; u++) {
      int first = units.first[u];
      int last = units.last[u];
      // A unit is one token, or the tokens of a partial-character group: drawn at its first position,
      // and a drawn token replaces the whole unit.
      int t = first;
      boolean revised = false;
      if (config.revises() && config.overThreshold(p[t]) && units.revisable[u]) {
        revised = true;
        cand.build(t, ids[t], logProbs[t], scores, documentId);
        if (cand.size > 0) {
          double wOriginal = cand.weights(beta);
          expected += 1.0 - wOriginal;
          int newId = cand.draw(DrawKeys.uniform(config.seed(), idHash, t));
          if (newId != ids[t]) {
            String surface = vocabulary.surface(newId);
            if (units.virtualSpace[u] && !surface.isEmpty() && surface.charAt(0) == ' ') {
              surface = surface.substring(1);
            }
            edits.add(new TokenEdit(t, tokens.charStart()[t], tokens.charEnd()[t], ids[t],
                vocabulary.piece(ids[t]), newId, surface, (float) p[t]));
            changed++;
          }
        }
      }
      if (!revised && config.drops() && units.deletable[u]) {
        boolean all = true;
        for (int k = first; k <= last && all; k++) {
          all = p[k] < config.dropThreshold() && (first == last || !(config.revises() && config.overThreshold(p[k])));
        }
        if (all) {
          for (int k = first; k <= last; k++) {
            edits.add(deletion(tokens, k, p[k]));
            deleted++;
          }
        }
      }
    }
    String out = edits.isEmpty() ? text : splice(text, edits);
    int predicted = n - 1;
    double meanNll = predicted > 0 ? nll / predicted : Double.NaN;
    return new EditResult(out, List.copyOf(edits), predicted, overThreshold, changed, deleted, meanNll,
        expected, cand.excluded, config.strategy(), parameters, config.seed());
  }

  private TokenEdit deletion(Tokenized tokens, int t, double p) {
    int id = tokens.ids()[t];
    return new TokenEdit(t, tokens.charStart()[t], tokens.charEnd()[t], id, vocabulary.piece(id), -1, "", (float) p);
  }

  /** Copies the text, replacing each edit's span; several edits on one span (a group) replace it once. */
  private static String splice(String text, List<TokenEdit> edits) {
    StringBuilder sb = new StringBuilder(text.length() + 16);
    int cursor = 0;
    for (TokenEdit e : edits) {
      if (e.charStart() < cursor) {
        continue; // another member of an already-deleted group
      }
      sb.append(text, cursor, e.charStart());
      sb.append(e.newPiece());
      cursor = e.charEnd();
    }
    sb.append(text, cursor, text.length());
    return sb.toString();
  }

  /** The candidate set of one position: reused across positions to avoid garbage. */
  private final class Candidates {
    int[] ids;
    double[] logits;
    double[] weights;
    int size;
    int originalIndex;
    /** Candidates left out because they have no whole text (part of a UTF-8 character, or no bytes). */
    int excluded;

    Candidates(int capacity) {
      ids = new int[capacity];
      logits = new double[capacity];
      weights = new double[capacity];
    }

    void build(int t, int original, float originalLogProb, TokenScores scores, String documentId) {
      int[] top = scores.topIds()[t];
      float[] topLp = scores.topLogProbs()[t];
      int k = config.topK();
      if (top.length < k || topLp.length < k) {
        throw new IllegalArgumentException("Position " + t + " of document '" + documentId + "' has "
            + Math.min(top.length, topLp.length) + " candidates but the edit config needs top_k=" + k
            + ": score with a model top-k of at least " + k);
      }
      size = 0;
      originalIndex = -1;
      double mass = 0.0;
      for (int i = 0; i < k; i++) {
        if (config.usesTopP() && mass >= config.topP()) {
          break;
        }
        mass += Math.exp(topLp[i]);
        int id = top[i];
        if (id == original) {
          if (!config.excludeOriginal()) {
            originalIndex = size;
            add(id, topLp[i]);
          }
        } else if (id >= 0 && id < drawable.length && drawable[id]) {
          add(id, topLp[i]);
        } else if (id < 0 || id >= drawable.length || !vocabulary.isSpecial(id)) {
          excluded++;
        }
      }
      if (originalIndex < 0 && !config.excludeOriginal()) {
        originalIndex = size;
        add(original, originalLogProb);
      }
    }

    private void add(int id, double lp) {
      ids[size] = id;
      logits[size] = lp;
      size++;
    }

    /** Fills normalised softmax(logit / beta) weights; returns the original's weight (0 if excluded). */
    double weights(double beta) {
      double max = Double.NEGATIVE_INFINITY;
      for (int i = 0; i < size; i++) {
        max = Math.max(max, logits[i] / beta);
      }
      double sum = 0.0;
      for (int i = 0; i < size; i++) {
        weights[i] = Math.exp(logits[i] / beta - max);
        sum += weights[i];
      }
      for (int i = 0; i < size; i++) {
        weights[i] /= sum;
      }
      return originalIndex >= 0 ? weights[originalIndex] : 0.0;
    }

    /** Inverse-CDF draw with {@code u} in [0, 1). */
    int draw(double u) {
      double cum = 0.0;
      for (int i = 0; i < size; i++) {
        cum += weights[i];
        if (u < cum) {
          return ids[i];
        }
      }
      return ids[size - 1];
    }
  }

  /**
   * The editable units of a tokenization: runs of consecutive positions that share one character
   * span (usually a single token). Computed once per document.
   */
  private static final class Units {
    int count;
    int[] first;
    int[] last;
    boolean[] revisable;
    boolean[] deletable;
    boolean[] virtualSpace;

    static Units of(Tokenized tokens, Vocabulary vocab) {
      int n = tokens.length();
      int[] ids = tokens.ids();
      int[] cs = tokens.charStart();
      int[] ce = tokens.charEnd();
      String text = tokens.text();
      Units u = new Units();
      u.first = new int[n];
      u.last = new int[n];
      u.revisable = new boolean[n];
      u.deletable = new boolean[n];
      u.virtualSpace = new boolean[n];
      int t = 1;
      // A first token that is the bare dummy-prefix piece maps to no text: the tokenizer reports the
      // span of the character after it. It is never edited.
      if (n > 2 && cs[2] == cs[1] && " ".equals(vocab.surface(ids[1]))) {
        t = 2;
      }
      // units and their spans
      while (t < n) {
        int f = t;
        while (t + 1 < n && cs[t + 1] == cs[f] && ce[t + 1] == ce[f]) {
          t++;
        }
        u.first[u.count] = f;
        u.last[u.count] = t;
        u.count++;
        t++;
      }
      int prevEnd = 0;
      for (int i = 0; i < u.count; i++) {
        int f = u.first[i];
        int l = u.last[i];
        int s = cs[f];
        int e = ce[f];
        int nextStart = i + 1 < u.count ? cs[u.first[i + 1]] : text.length();
        boolean clean = s < e && s >= prevEnd && e <= nextStart && e <= text.length();
        prevEnd = Math.max(prevEnd, e);
        for (int k = f; k <= l && clean; k++) {
          clean = ids[k] >= 0 && ids[k] < vocab.size() && !vocab.isSpecial(ids[k]);
        }
        u.deletable[i] = clean;
        if (clean && f < l) {
          // a partial-character group: revisable as a whole when its bytes are exactly its span's text
          java.io.ByteArrayOutputStream group = new java.io.ByteArrayOutputStream();
          for (int k = f; k <= l; k++) {
            byte[] b = vocab.bytes(ids[k]);
            if (b == null) {
              group = null;
              break;
            }
            group.writeBytes(b);
          }
          u.revisable[i] = group != null && e <= text.length()
              && Arrays.equals(group.toByteArray(), text.substring(s, e).getBytes(StandardCharsets.UTF_8));
        }
        if (clean && f == l) {
          String surface = vocab.surface(ids[f]);
          if (surface != null) {
            int len = e - s;
            if (surface.length() == len && text.regionMatches(s, surface, 0, len)) {
              u.revisable[i] = true;
            } else if (f == 1 && s == 0 && surface.length() == len + 1 && surface.charAt(0) == ' '
                && text.regionMatches(s, surface, 1, len)) {
              // "▁Once" over "Once": the first token carries the dummy-prefix space
              u.revisable[i] = true;
              u.virtualSpace[i] = true;
            }
          }
        }
      }
      return u;
    }
  }
}
