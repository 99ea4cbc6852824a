package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.edit.EditConfig;
import io.toedit.edit.EditResult;
import io.toedit.edit.Editor;
import io.toedit.edit.Strategy;
import io.toedit.edit.TokenEdit;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.text.TextTokenizer;
import io.toedit.text.TokenScores;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Text faithfulness on the three bundled corpora, full documents, real tokenizer: with no edits the
 * output is the input; with edits forced on every token the text outside the edited spans is kept
 * byte for byte and the output stays valid UTF-16/UTF-8. Scores are synthetic (P = 1 or P ≈ 0
 * everywhere), so every editable token is edited.
 */
class TextFidelityTest {

  static TextTokenizer tokenizer;
  static Vocabulary vocab;
  static int[] candidates;

  @BeforeAll
  static void open() {
    tokenizer = Models.openTokenizer(ModelSettings.defaults());
    vocab = tokenizer.vocabulary();
    // a mix: word pieces with and without ▁, ASCII byte tokens, special tokens, half a character
    List<Integer> c = new ArrayList<>();
    for (int id = 0; id < vocab.size() && c.size() < 4; id++) {
      String s = vocab.surface(id);
      if (s != null && s.length() > 2 && s.startsWith(" ")) {
        c.add(id);
      }
    }
    for (int id = vocab.size() - 1; id >= 0 && c.size() < 6; id--) {
      String s = vocab.surface(id);
      if (s != null && !s.startsWith(" ")) {
        c.add(id);
      }
    }
    c.add(vocab.bosId());
    for (int id = 0; id < vocab.size(); id++) {
      if (vocab.piece(id).equals("<0xE7>") || vocab.piece(id).equals("<0x0A>")) {
        c.add(id);
      }
    }
    candidates = c.stream().mapToInt(Integer::intValue).toArray();
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  static List<String[]> corpus(String name) throws IOException {
    List<String[]> docs = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(Path.of("src/test/resources/corpora", name))), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        JsonNode n = json.readTree(line);
        docs.add(new String[] {n.path("id").asText(), n.path("text").asText()});
      }
    }
    return docs;
  }

  /** Same P for every position, the same candidates everywhere (log-probs -1, -2, ...). */
  static TokenScores flat(int[] ids, float lp) {
    int n = ids.length;
    float[] lps = new float[n];
    int[][] top = new int[n][];
    float[][] topLp = new float[n][];
    float[] row = new float[candidates.length];
    for (int i = 0; i < row.length; i++) {
      row[i] = -1f - i;
    }
    lps[0] = Float.NaN;
    top[0] = new int[0];
    topLp[0] = new float[0];
    for (int t = 1; t < n; t++) {
      lps[t] = lp;
      top[t] = candidates;
      topLp[t] = row;
    }
    return new TokenScores(ids, lps, top, topLp);
  }

  @ParameterizedTest
  @ValueSource(strings = {"tinystories_valid.jsonl.gz", "tinyshakespeare.jsonl.gz", "brown_first100.jsonl.gz"})
  void shouldKeepTextOutsideEditedSpansByteForByte(String corpus) throws IOException {
    List<String[]> docs = corpus(corpus);
    assertTrue(docs.size() >= 100);
    Editor none = new Editor(EditConfig.defaults().withThreshold(1.0, false), vocab);
    EditConfig all = EditConfig.defaults().withThreshold(0.0, true).withExcludeOriginal(true)
        .withCandidates(candidates.length, 0.0);
    Editor revise = new Editor(all, vocab);
    Editor delete = new Editor(EditConfig.defaults().withStrategy(Strategy.FILTERING).withDropThreshold(1.0), vocab);
    long tokens = 0;
    long changed = 0;
    long deleted = 0;
    for (String[] doc : docs) {
      String id = doc[0];
      String text = doc[1];
      Tokenized tok = tokenizer.encode(text);
      tokens += tok.length() - 1;

      EditResult kept = none.edit(id, tok, flat(tok.ids(), 0f));
      assertTrue(kept.edits().isEmpty());
      assertSame(text, kept.text(), id);

      EditResult r = revise.edit(id, tok, flat(tok.ids(), 0f));
      checkFaithful(id, text, tok, r, false);
      changed += r.changed();

      EditResult d = delete.edit(id, tok, flat(tok.ids(), -30f));
      checkFaithful(id, text, tok, d, true);
      deleted += d.deleted();
    }
    // edits were really forced: almost every token changed, or was deleted
    assertTrue(changed > 0.9 * tokens, corpus + ": changed " + changed + " of " + tokens);
    assertTrue(deleted > 0.9 * tokens, corpus + ": deleted " + deleted + " of " + tokens);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Once upon a time", "  two leading spaces", " one", "\nHello\r\n\tWorld  ",
      "猫 sat on the 🐈‍⬛ mat 😀😀", "x😀y", "😀", "café naïve e\u0301 Ωmega", "a\u2581b \u2581c", "<s>hi</s> there",
      "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and ﬁ ligature", "trailing space ", " ", "ü"})
  void shouldKeepUnicodeTextFaithfulUnderForcedEdits(String text) {
    Tokenized tok = tokenizer.encode(text);
    EditConfig all = EditConfig.defaults().withThreshold(0.0, true).withExcludeOriginal(true)
        .withCandidates(candidates.length, 0.0);
    assertSame(text, new Editor(EditConfig.defaults(), vocab).edit("u", tok, flat(tok.ids(), -1f)).text());
    for (long seed = 0; seed < 5; seed++) {
      checkFaithful(text, text, tok, new Editor(all.withSeed(seed), vocab).edit("u", tok, flat(tok.ids(), 0f)), false);
    }
    EditResult d = new Editor(EditConfig.defaults().withStrategy(Strategy.FILTERING).withDropThreshold(1.0), vocab)
        .edit("u", tok, flat(tok.ids(), -30f));
    checkFaithful(text, text, tok, d, true);
  }

  /** Rebuilds the output from the original by replacing spans from the end (a second, independent splice). */
  static void checkFaithful(String id, String text, Tokenized tok, EditResult r, boolean deletions) {
    List<TokenEdit> edits = r.edits();
    StringBuilder rebuilt = new StringBuilder(text);
    int prevStart = Integer.MAX_VALUE;
    for (int i = edits.size() - 1; i >= 0; i--) {
      TokenEdit e = edits.get(i);
      assertEquals(deletions, e.isDeletion(), () -> id);
      assertTrue(e.charStart() < e.charEnd() && e.charEnd() <= text.length(), () -> id + " " + e);
      assertFalse(Character.isLowSurrogate(text.charAt(e.charStart())), () -> id + " splits a surrogate pair: " + e);
      assertTrue(e.charEnd() == text.length() || !Character.isLowSurrogate(text.charAt(e.charEnd())), () -> id + " " + e);
      if (e.charStart() == prevStart) {
        continue; // one byte-fallback group, deleted as a whole
      }
      int limit = prevStart;
      assertTrue(e.charEnd() <= limit, () -> id + ": overlapping edits " + e);
      prevStart = e.charStart();
      String originalText = text.substring(e.charStart(), e.charEnd());
      // the text of the tokens of this span: one token, or a partial-character group replaced as a whole
      java.io.ByteArrayOutputStream group = new java.io.ByteArrayOutputStream();
      for (int t = 1; t < tok.length(); t++) {
        if (tok.charStart()[t] == e.charStart() && tok.charEnd()[t] == e.charEnd()) {
          group.writeBytes(vocab.bytes(tok.ids()[t]));
        }
      }
      String surface = group.toString(StandardCharsets.UTF_8);
      if (!deletions) {
        boolean dummyPrefix = e.position() == 1 && e.charStart() == 0 && !originalText.startsWith(" ");
        assertEquals(dummyPrefix ? surface.substring(1) : surface, originalText, () -> id + ": replaced text is not the token");
        String newSurface = vocab.surface(e.newId());
        assertFalse(vocab.isSpecial(e.newId()), () -> id + " drew a special token " + e);
        assertEquals(dummyPrefix && newSurface.startsWith(" ") ? newSurface.substring(1) : newSurface, e.newPiece());
        assertTrue(e.newId() != e.originalId());
      }
      rebuilt.replace(e.charStart(), e.charEnd(), e.newPiece());
    }
    assertEquals(rebuilt.toString(), r.text(), id);
    String out = r.text();
    for (int i = 0; i < out.length(); i++) {
      char c = out.charAt(i);
      if (Character.isHighSurrogate(c)) {
        int at = i;
        assertTrue(i + 1 < out.length() && Character.isLowSurrogate(out.charAt(i + 1)), () -> id + ": lone surrogate at " + at);
        i++;
      } else {
        int at = i;
        assertFalse(Character.isLowSurrogate(c), () -> id + ": lone surrogate at " + at);
      }
    }
    assertEquals(out, new String(out.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
  }
}
