package io.toedit.edit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EditorTest {

  static final ListVocabulary V = ListVocabulary.of("▁Once", "▁upon", "▁a", "▁time", "▁The", "ing", "▁",
      "<0xE7>", "<0x8C>", "<0xAB>", "x", "<0x0A>", "▁cat", "▁dog", "▁big", "▁red", "▁sun", "▁moon", "▁sky",
      "▁tree", "<0xF0>", "é");

  /** "Once upon a time" as the real tokenizer splits it (the first ▁ is the dummy prefix). */
  static final String ONCE = "Once upon a time";
  static final Tokenized ONCE_TOKENS = new Tokenized(ONCE,
      ids("<s>", "▁Once", "▁upon", "▁a", "▁time"), new int[] {0, 0, 4, 9, 11}, new int[] {0, 4, 9, 11, 16});

  static int[] ids(String... pieces) {
    int[] ids = new int[pieces.length];
    for (int i = 0; i < pieces.length; i++) {
      ids[i] = V.id(pieces[i]);
    }
    return ids;
  }

  /**
   * Scores where every position has P(original) = exp(lpOriginal[t]) and the same top-k: {@code top}
   * with log-probs {@code topLp} (the original is not among them unless listed).
   */
  static TokenScores scores(int[] ids, float[] lpOriginal, int[] top, float[] topLp) {
    int n = ids.length;
    float[] lp = new float[n];
    int[][] ti = new int[n][];
    float[][] tl = new float[n][];
    lp[0] = Float.NaN;
    ti[0] = new int[0];
    tl[0] = new float[0];
    for (int t = 1; t < n; t++) {
      lp[t] = lpOriginal[t];
      ti[t] = top.clone();
      tl[t] = topLp.clone();
    }
    return new TokenScores(ids.clone(), lp, ti, tl);
  }

  static float[] all(int n, double p) {
    float[] a = new float[n];
    for (int i = 1; i < n; i++) {
      a[i] = (float) Math.log(p);
    }
    a[0] = Float.NaN;
    return a;
  }

  /** Eight alternatives with log-probs -1..-8: the original is not among them. */
  static final int[] ALT = ids("▁cat", "▁dog", "▁big", "▁red", "▁sun", "▁moon", "▁sky", "▁tree");
  static final float[] ALT_LP = {-1f, -2f, -3f, -4f, -5f, -6f, -7f, -8f};

  static EditConfig forceAll() {
    return EditConfig.defaults().withThreshold(0.0, true).withExcludeOriginal(true);
  }

  @Test
  void shouldReturnTheInputTextUnchangedWhenNoTokenPassesTheThreshold() {
    Editor editor = new Editor(EditConfig.defaults(), V);
    EditResult r = editor.edit("doc-ä", ONCE_TOKENS, scores(ONCE_TOKENS.ids(), all(5, 0.5), ALT, ALT_LP));
    assertEquals(ONCE, r.text());
    assertTrue(r.edits().isEmpty());
    assertEquals(4, r.tokens());
    assertEquals(0, r.overThreshold());
    assertEquals(0, r.changed());
    assertEquals(-Math.log(0.5), r.meanNll(), 1e-6);
    assertEquals(0.0, r.expectedChanged());
    assertEquals(Strategy.UP_REVISE, r.strategy());
    assertEquals(EditConfig.DEFAULT_SEED, r.seed());
  }

  @Test
  void shouldEditTheFirstRealTokenButNeverBosAndAddNoLeadingSpace() {
    Editor editor = new Editor(forceAll(), V);
    EditResult r = editor.edit("doc", ONCE_TOKENS, scores(ONCE_TOKENS.ids(), all(5, 0.999), ALT, ALT_LP));
    assertEquals(4, r.changed());
    assertEquals(4, r.overThreshold());
    assertEquals(List.of(1, 2, 3, 4), r.edits().stream().map(TokenEdit::position).toList());
    TokenEdit first = r.edits().get(0);
    assertEquals(0, first.charStart());
    assertEquals(4, first.charEnd());
    assertEquals("▁Once", first.originalPiece());
    // "▁Once" covered "Once" (its ▁ is the dummy prefix): the replacement must not start with a space
    assertFalse(first.newPiece().startsWith(" "), first.newPiece());
    assertFalse(r.text().startsWith(" "), r.text());
    StringBuilder expected = new StringBuilder();
    for (TokenEdit e : r.edits()) {
      assertTrue(e.newPiece().startsWith(" ") || e.position() == 1);
      expected.append(e.newPiece());
    }
    assertEquals(expected.toString(), r.text());
  }

  @Test
  void shouldCompareStrictlyByDefaultAndInclusivelyWhenAsked() {
    float lp = (float) Math.log(0.995);
    double p = Math.exp(lp); // exactly what the editor compares
    float[] lps = {Float.NaN, lp, -5f, -5f, -5f};
    TokenScores s = scores(ONCE_TOKENS.ids(), lps, ALT, ALT_LP);
    EditConfig strict = EditConfig.defaults().withThreshold(p, false).withExcludeOriginal(true);
    EditResult r1 = new Editor(strict, V).edit("d", ONCE_TOKENS, s);
    assertEquals(0, r1.overThreshold());
    assertEquals(ONCE, r1.text());
    EditResult r2 = new Editor(strict.withThreshold(p, true), V).edit("d", ONCE_TOKENS, s);
    assertEquals(1, r2.overThreshold());
    assertEquals(1, r2.changed());
    assertEquals(">=", r2.parameters().get("comparison"));
    assertEquals(">", r1.parameters().get("comparison"));
  }

  @Test
  void shouldNeverDrawSpecialOrPartialByteTokens() {
    // the model's favourites are special or half a character; only ▁cat is a legal replacement
    int[] top = {0, 1, 2, V.id("<0xE7>"), V.id("<0xF0>"), V.id("▁cat")};
    float[] topLp = {-0.1f, -0.2f, -0.3f, -0.4f, -0.5f, -9f};
    EditConfig cfg = forceAll().withCandidates(6, 0.0);
    Editor editor = new Editor(cfg, V);
    Set<Integer> drawn = new HashSet<>();
    for (int d = 0; d < 200; d++) {
      EditResult r = editor.edit("doc-" + d, ONCE_TOKENS, scores(ONCE_TOKENS.ids(), all(5, 0.999), top, topLp));
      r.edits().forEach(e -> drawn.add(e.newId()));
      assertEquals(4, r.changed());
    }
    assertEquals(Set.of(V.id("▁cat")), drawn);
  }

  @Test
  void shouldLeaveATokenAloneWhenItsOnlyCandidatesAreSpecialAndTheOriginalIsExcluded() {
    EditConfig cfg = forceAll().withCandidates(3, 0.0);
    EditResult r = new Editor(cfg, V).edit("d", ONCE_TOKENS,
        scores(ONCE_TOKENS.ids(), all(5, 0.999), new int[] {0, 1, 2}, new float[] {-1f, -2f, -3f}));
    assertEquals(ONCE, r.text());
    assertEquals(4, r.overThreshold());
    assertEquals(0, r.changed());
  }

  @Test
  void shouldNotDuplicateTheOriginalWhenItIsAmongTheTopK() {
    // position 2 (▁upon) is in its own top-k: candidates are exactly these 3 tokens, weights softmax(lp / 1.5)
    int[] ids = ONCE_TOKENS.ids();
    int upon = V.id("▁upon");
    float[] topLp = {(float) Math.log(0.995), -6f, -7f};
    int[] top = {upon, V.id("▁cat"), V.id("▁dog")};
    float[] lps = {Float.NaN, -9f, topLp[0], -9f, -9f};
    EditResult r = new Editor(EditConfig.defaults().withCandidates(3, 0.0), V).edit("d", ONCE_TOKENS,
        scores(ids, lps, top, topLp));
    double a = Math.exp(topLp[0] / 1.5);
    double b = Math.exp(-6.0 / 1.5);
    double c = Math.exp(-7.0 / 1.5);
    assertEquals(1, r.overThreshold());
    assertEquals(1.0 - a / (a + b + c), r.expectedChanged(), 1e-12);
    // had the original been added a second time, its weight would be 2a / (2a + b + c)
    assertNotEquals(1.0 - 2 * a / (2 * a + b + c), r.expectedChanged(), 1e-6);
  }

  @Test
  void shouldAddTheOriginalWhenItIsNotAmongTheTopK() {
    float lp = (float) Math.log(0.995);
    float[] lps = {Float.NaN, -9f, lp, -9f, -9f};
    EditResult r = new Editor(EditConfig.defaults().withCandidates(2, 0.0), V).edit("d", ONCE_TOKENS,
        scores(ONCE_TOKENS.ids(), lps, ALT, ALT_LP));
    double o = Math.exp(lp / 1.5);
    double a = Math.exp(-1.0 / 1.5);
    double b = Math.exp(-2.0 / 1.5);
    assertEquals(1.0 - o / (o + a + b), r.expectedChanged(), 1e-12);
  }

  @Test
  void shouldKeepOnlyTheTopPPrefixOfTheCandidates() {
    // top-1 has mass 0.6 >= top_p 0.5: candidates are ▁cat and the (excluded) original → always ▁cat
    float[] topLp = {(float) Math.log(0.6), (float) Math.log(0.2), (float) Math.log(0.1)};
    int[] top = {V.id("▁cat"), V.id("▁dog"), V.id("▁big")};
    EditConfig cfg = forceAll().withCandidates(3, 0.5);
    for (int d = 0; d < 50; d++) {
      EditResult r = new Editor(cfg, V).edit("d" + d, ONCE_TOKENS, scores(ONCE_TOKENS.ids(), all(5, 0.999), top, topLp));
      assertTrue(r.edits().stream().allMatch(e -> e.newId() == V.id("▁cat")), r.edits().toString());
    }
    // with top_p 0.7 the second candidate becomes possible
    Set<Integer> drawn = new HashSet<>();
    for (int d = 0; d < 200; d++) {
      new Editor(cfg.withCandidates(3, 0.7), V).edit("d" + d, ONCE_TOKENS,
          scores(ONCE_TOKENS.ids(), all(5, 0.999), top, topLp)).edits().forEach(e -> drawn.add(e.newId()));
    }
    assertEquals(Set.of(V.id("▁cat"), V.id("▁dog")), drawn);
  }

  @Test
  void shouldChangeEveryOverThresholdTokenWhenTheOriginalIsExcluded() {
    EditResult r = new Editor(EditConfig.defaults().withExcludeOriginal(true), V).edit("d", ONCE_TOKENS,
        scores(ONCE_TOKENS.ids(), new float[] {Float.NaN, -3f, 0f, -3f, 0f}, ALT, ALT_LP));
    assertEquals(2, r.overThreshold());
    assertEquals(2, r.changed());
    assertEquals(2.0, r.expectedChanged(), 1e-12);
    assertEquals(List.of(2, 4), r.edits().stream().map(TokenEdit::position).toList());
    assertTrue(r.text().startsWith("Once "), r.text());
    assertTrue(r.text().contains(" a "), r.text());
  }

  @Test
  void lowDropUpReviseShouldUseBetaOneAndDeleteUnlikelyTokens() {
    EditConfig cfg = EditConfig.defaults().withStrategy(Strategy.LOW_DROP_UP_REVISE).withExcludeOriginal(true);
    assertEquals(1.0, cfg.effectiveBeta());
    float[] lps = {Float.NaN, -3f, (float) Math.log(0.0005), 0f, -1f};
    EditResult r = new Editor(cfg, V).edit("d", ONCE_TOKENS, scores(ONCE_TOKENS.ids(), lps, ALT, ALT_LP));
    assertEquals("1.0", r.parameters().get("beta"));
    assertEquals("0.001", r.parameters().get("drop_threshold"));
    assertEquals(1, r.deleted());
    assertEquals(1, r.changed());
    TokenEdit del = r.edits().get(0);
    assertTrue(del.isDeletion());
    assertEquals(2, del.position());
    assertEquals("", del.newPiece());
    // " upon" removed, " a" replaced, the rest byte for byte
    assertTrue(r.text().startsWith("Once") && r.text().endsWith(" time"), r.text());
    assertEquals("Once" + r.edits().get(1).newPiece() + " time", r.text());
  }

  @Test
  void filteringShouldOnlyDelete() {
    EditConfig cfg = EditConfig.defaults().withStrategy(Strategy.FILTERING);
    float[] lps = {Float.NaN, 0f, -10f, 0f, -10f};
    EditResult r = new Editor(cfg, V).edit("d", ONCE_TOKENS, scores(ONCE_TOKENS.ids(), lps, ALT, ALT_LP));
    assertEquals("Once a", r.text());
    assertEquals(2, r.deleted());
    assertEquals(0, r.changed());
    assertEquals(0, r.overThreshold());
    assertFalse(r.parameters().containsKey("top_k"));
  }

  @Test
  void shouldReviseAByteFallbackCharacterOnlyAsAWholeOrDeleteItWhole() {
    // "猫 x" → ▁(dummy, reports the span of 猫) <0xE7> <0x8C> <0xAB> ▁ x, as DJL reports it
    String text = "猫 x";
    Tokenized tok = new Tokenized(text, ids("<s>", "▁", "<0xE7>", "<0x8C>", "<0xAB>", "▁", "x"),
        new int[] {0, 0, 0, 0, 0, 1, 2}, new int[] {0, 1, 1, 1, 1, 2, 3});
    int[] legal = ids("▁cat");
    float[] legalLp = {-1f};
    // every position over the threshold: the group is drawn once, at its first byte, and replaced whole;
    // the dummy ▁ is never edited
    EditConfig cfg = forceAll().withCandidates(1, 0.0);
    EditResult r = new Editor(cfg, V).edit("d", tok, scores(tok.ids(), all(7, 0.999), legal, legalLp));
    assertEquals(6, r.overThreshold());
    assertEquals(List.of(2, 5, 6), r.edits().stream().map(TokenEdit::position).toList());
    assertEquals(0, r.edits().get(0).charStart());
    assertEquals(1, r.edits().get(0).charEnd());
    assertEquals(3, r.changed());
    assertEquals(" cat cat cat", r.text());
    // only the inner bytes over the threshold: the group is not drawn
    float[] inner = {Float.NaN, -5f, -5f, 0f, 0f, -5f, -5f};
    assertEquals(text, new Editor(cfg.withThreshold(0.99, false), V)
        .edit("d", tok, scores(tok.ids(), inner, legal, legalLp)).text());
    // the last byte alone is unlikely: the character stays
    EditConfig filter = EditConfig.defaults().withStrategy(Strategy.FILTERING);
    float[] oneLow = {Float.NaN, 0f, 0f, 0f, -10f, 0f, 0f};
    assertEquals(text, new Editor(filter, V).edit("d", tok, scores(tok.ids(), oneLow, legal, legalLp)).text());
    // all three bytes unlikely: the character goes as a whole
    float[] allLow = {Float.NaN, 0f, -10f, -10f, -10f, 0f, 0f};
    EditResult gone = new Editor(filter, V).edit("d", tok, scores(tok.ids(), allLow, legal, legalLp));
    assertEquals(" x", gone.text());
    assertEquals(3, gone.deleted());
  }

  @Test
  void shouldNeverReviseATokenWhoseTextIsNotItsSurface() {
    // a literal U+2581 in the input is read as a space: "a▁b" → ▁a[0,1) ▁b[1,3); "▁b" ≠ " b"
    String text = "a\u2581b";
    ListVocabulary v = ListVocabulary.of("▁a", "▁b", "▁cat");
    Tokenized tok = new Tokenized(text, new int[] {1, 3, 4}, new int[] {0, 0, 1}, new int[] {0, 1, 3});
    TokenScores s = new TokenScores(tok.ids(), new float[] {Float.NaN, 0f, 0f},
        new int[][] {{}, {5}, {5}}, new float[][] {{}, {-1f}, {-1f}});
    EditResult r = new Editor(forceAll().withCandidates(1, 0.0), v).edit("d", tok, s);
    assertEquals(List.of(1), r.edits().stream().map(TokenEdit::position).toList());
    assertEquals("cat\u2581b", r.text());
  }

  @Test
  void shouldGiveIdenticalResultsForTheSameKeyAndOtherDrawsForAnotherSeed() {
    TokenScores s = scores(ONCE_TOKENS.ids(), all(5, 0.999), ALT, ALT_LP);
    EditConfig cfg = EditConfig.defaults().withThreshold(0.0, true).withBeta(100.0);
    Set<String> texts = new HashSet<>();
    for (long seed = 0; seed < 20; seed++) {
      EditResult a = new Editor(cfg.withSeed(seed), V).edit("doc-猫", ONCE_TOKENS, s);
      EditResult b = new Editor(cfg.withSeed(seed), V).edit("doc-猫", ONCE_TOKENS, s);
      assertEquals(a, b);
      texts.add(a.text());
    }
    assertTrue(texts.size() > 10, "only " + texts.size() + " distinct outputs over 20 seeds");
  }

  @Test
  void shouldRejectScoresOfAnotherSequenceOrNaNOrTooFewCandidates() {
    Editor editor = new Editor(EditConfig.defaults(), V);
    int[] other = ids("<s>", "▁Once", "▁upon", "▁a", "▁cat");
    assertThrows(IllegalArgumentException.class,
        () -> editor.edit("d", ONCE_TOKENS, scores(other, all(5, 0.5), ALT, ALT_LP)));
    float[] nan = all(5, 0.5);
    nan[3] = Float.NaN;
    assertThrows(IllegalArgumentException.class,
        () -> editor.edit("d", ONCE_TOKENS, scores(ONCE_TOKENS.ids(), nan, ALT, ALT_LP)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> editor.edit("d", ONCE_TOKENS, scores(ONCE_TOKENS.ids(), all(5, 0.999), new int[] {5}, new float[] {-1f})));
    assertTrue(e.getMessage().contains("top_k=8"), e.getMessage());
  }

  @Test
  void shouldRejectNonsenseConfiguration() {
    assertThrows(IllegalArgumentException.class, () -> EditConfig.defaults().withThreshold(1.5, false));
    assertThrows(IllegalArgumentException.class, () -> EditConfig.defaults().withBeta(0.0));
    assertThrows(IllegalArgumentException.class, () -> EditConfig.defaults().withCandidates(0, 0.0));
    assertThrows(IllegalArgumentException.class, () -> EditConfig.defaults().withCandidates(8, -0.1));
    assertEquals(1.5, EditConfig.defaults().effectiveBeta());
  }

  @Test
  void shouldHandleADocumentWithNoPredictedTokens() {
    Tokenized empty = new Tokenized("", new int[] {1}, new int[] {0}, new int[] {0});
    TokenScores s = new TokenScores(new int[] {1}, new float[] {Float.NaN}, new int[][] {{}}, new float[][] {{}});
    EditResult r = new Editor(EditConfig.defaults(), V).edit("d", empty, s);
    assertEquals("", r.text());
    assertEquals(0, r.tokens());
    assertTrue(Double.isNaN(r.meanNll()));
  }
}
