package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.toedit.edit.EditConfig;
import io.toedit.edit.EditResult;
import io.toedit.edit.Editor;
import io.toedit.edit.Strategy;
import io.toedit.edit.TokenEdit;
import io.toedit.model.FakeScorer;
import io.toedit.model.HfTokenizer;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.model.SyntheticModels;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Text fidelity with forced edits on a mixed-script corpus ({@code corpora/mixed_script.jsonl}:
 * English, Chinese, Japanese, Thai, Arabic, Hindi, emoji with ZWJ sequences, code with tabs, runs of
 * spaces and newlines, URLs), through {@link DocumentEditor} with the stories260k tokenizer
 * (SentencePiece with byte fallback) and the real Qwen3 tokenizer (byte-level BPE). The scorer is a
 * deterministic fake that puts every position over the threshold and proposes, at every position,
 * candidates from across the whole vocabulary (model rows beyond the tokenizer included) plus, with
 * the highest log-probs, a special token, a lone UTF-8 lead byte and a padded row, which must never be
 * drawn.
 *
 * <p>Checked for every strategy, independently of the editor: the output is valid UTF-8; the text
 * outside the edits is byte-identical (the output is rebuilt by splicing the original UTF-8 bytes);
 * every replaced span is exactly the original token's bytes and every inserted string is exactly the
 * drawn token's bytes; no piece characters ({@code Ġ Ċ ▁}) appear unless they were in the input;
 * edits happen in every script.
 */
class MixedScriptFidelityTest {

  static final int K = 8;
  static int groupsResampled;

  @TempDir
  static Path tmp;

  static final Map<String, TextTokenizer> TOKENIZERS = new LinkedHashMap<>();
  static final Map<String, Integer> MODEL_ROWS = Map.of("stories260k", 512, "qwen3", 151_936);
  static List<JsonNode> corpus;

  @BeforeAll
  static void open() throws IOException {
    TOKENIZERS.put("stories260k", Models.openTokenizer(ModelSettings.defaults()));
    TOKENIZERS.put("qwen3", HfTokenizer.open(SyntheticModels.tokenizerFolder(tmp, "qwen3-tiny")));
    corpus = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(Path.of("src/test/resources/corpora/mixed_script.jsonl"))) {
      corpus.add(json.readTree(line));
    }
  }

  @AfterAll
  static void close() {
    TOKENIZERS.values().forEach(TextTokenizer::close);
  }

  static EditConfig forced(Strategy s) {
    EditConfig base = EditConfig.defaults().withStrategy(s).withCandidates(K, 0.0).withExcludeOriginal(true);
    return switch (s) {
      case UP_REVISE -> base.withThreshold(0.0, true);
      // every token is either resampled (P > 0.5) or deleted (P < 0.5): the scorer gives P > 0.99
      case LOW_DROP_UP_REVISE -> base.withThreshold(0.5, false).withDropThreshold(0.5);
      case FILTERING -> base.withDropThreshold(1.0);
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"stories260k", "qwen3"})
  void forcedEditsShouldKeepTextFaithfulInEveryScript(String name) {
    TextTokenizer tokenizer = TOKENIZERS.get(name);
    Vocabulary v = tokenizer.vocabulary();
    int rows = MODEL_ROWS.get(name);
    int leadByte = pieceId(v, name.equals("qwen3") ? "ä" : "<0xE4>"); // byte E4 alone: a CJK lead byte
    assertNull(v.surface(leadByte));
    assertArrayEquals(new byte[] {(byte) 0xE4}, v.bytes(leadByte));
    int[] forbidden = rows > v.size() ? new int[] {v.bosId(), leadByte, rows - 1} : new int[] {v.bosId(), leadByte};
    Scorer scorer = FakeScorer.acrossVocabulary(rows, K, forbidden);
    List<SourceDocument> docs = corpus.stream()
        .map(d -> new SourceDocument(d.path("id").asText(), d.path("text").asText())).toList();
    Map<String, Map<Strategy, Integer>> editsInScript = new TreeMap<>();
    long tokens = 0;
    long changed = 0;
    long excluded = 0;
    int wordInitial = 0;
    int nonAscii = 0;
    groupsResampled = 0;
    for (Strategy s : Strategy.values()) {
      DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(forced(s), v));
      List<DocumentOutcome> outcomes = editor.process(docs);
      for (int i = 0; i < docs.size(); i++) {
        DocumentOutcome o = outcomes.get(i);
        assertNull(o.failure(), () -> o.id() + ": " + o.failure());
        String text = docs.get(i).text();
        EditResult r = o.result();
        checkFaithful(o.id() + "/" + s, text, o.tokens(), r, v);
        String script = corpus.get(i).path("script").asText();
        int inScript = 0;
        for (TokenEdit e : r.edits()) {
          if (touches(text.substring(e.charStart(), e.charEnd()), script)) {
            inScript++;
          }
          if (!e.isDeletion()) {
            byte[] b = v.bytes(e.originalId());
            wordInitial += b[0] == ' ' && b.length > 1 ? 1 : 0;
            nonAscii += text.substring(e.charStart(), e.charEnd()).chars().anyMatch(c -> c > 0x7f) ? 1 : 0;
          }
        }
        editsInScript.computeIfAbsent(o.id(), k -> new EnumMap<>(Strategy.class)).put(s, inScript);
        if (s != Strategy.FILTERING) {
          assertEquals(r.tokens(), r.overThreshold(), () -> o.id() + ": every position is over the threshold");
          assertTrue(r.excludedCandidates() >= (forbidden.length - 1) * r.changed(),
              () -> o.id() + ": each draw leaves out the lead byte (and the padded row): " + r.excludedCandidates());
        }
        if (s == Strategy.UP_REVISE) {
          // every unit (a token, or a partial-character group as a whole) is resampled, and changes
          assertEquals(units(o.tokens(), v), r.changed(), () -> o.id() + ": changed");
          tokens += r.tokens();
          changed += r.changed();
          excluded += r.excludedCandidates();
        }
      }
    }
    System.out.printf("%s: %d tokens, %d changed (up_revise), %d candidates excluded, %d word-initial and %d non-ASCII"
        + " replacements, %d partial-character groups resampled as a whole; edits touching each document's script:"
        + " %s%n", name, tokens, changed, excluded, wordInitial, nonAscii, groupsResampled, editsInScript);
    for (Map.Entry<String, Map<Strategy, Integer>> e : editsInScript.entrySet()) {
      Map<Strategy, Integer> m = e.getValue();
      assertTrue(m.get(Strategy.FILTERING) > 0, name + ": no deletion in the script of " + e.getKey());
      assertTrue(m.get(Strategy.UP_REVISE) > 0, name + ": no replacement in the script of " + e.getKey());
      assertTrue(m.get(Strategy.LOW_DROP_UP_REVISE) > 0, name + ": no edit in the script of " + e.getKey());
    }
    assertTrue(wordInitial > 0 && nonAscii > 0, name + ": word-initial " + wordInitial + ", non-ASCII " + nonAscii);
    assertTrue(excluded > 0);
    assertTrue(groupsResampled > 0, name + ": partial-character groups are resampled as a whole");
  }

  /**
   * Units of a tokenization: distinct non-empty spans of non-special tokens. A token alone, or the
   * tokens of a partial-character group, which share their span (SentencePiece's bare dummy-prefix
   * piece has the empty span before the first character).
   */
  static int units(Tokenized t, Vocabulary v) {
    int count = 0;
    for (int i = 1; i < t.length(); i++) {
      boolean continues = i > 1 && t.charStart()[i - 1] == t.charStart()[i] && t.charEnd()[i - 1] == t.charEnd()[i];
      count += !continues && t.charEnd()[i] > t.charStart()[i] && !v.isSpecial(t.ids()[i]) ? 1 : 0;
    }
    return count;
  }

  static int pieceId(Vocabulary v, String piece) {
    for (int id = 0; id < v.size(); id++) {
      if (v.piece(id).equals(piece)) {
        return id;
      }
    }
    throw new IllegalArgumentException("no piece " + piece);
  }

  /** True when the span has a character of the document's script (for emoji: a symbol outside the BMP). */
  static boolean touches(String span, String script) {
    return span.codePoints().anyMatch(cp -> script.equals("COMMON")
        ? cp >= 0x1F000 : Character.UnicodeScript.of(cp) == Character.UnicodeScript.valueOf(script));
  }

  /** Independent check of one result: rebuilds the output bytes from the original bytes and the edits. */
  static void checkFaithful(String id, String text, Tokenized tokens, EditResult r, Vocabulary v) {
    byte[] original = text.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
    int cursor = 0;
    List<TokenEdit> edits = r.edits();
    for (int i = 0; i < edits.size();) {
      TokenEdit e = edits.get(i);
      // the tokens of this span: one token, or a partial-character group (read from the tokenization)
      List<Integer> members = new ArrayList<>();
      ByteArrayOutputStream tokenBytes = new ByteArrayOutputStream();
      for (int t = 1; t < tokens.length(); t++) {
        if (tokens.charStart()[t] == e.charStart() && tokens.charEnd()[t] == e.charEnd()) {
          members.add(t);
          tokenBytes.writeBytes(v.bytes(tokens.ids()[t]));
        }
      }
      assertEquals(e.position(), members.get(0), () -> id + ": an edit is at the first position of its span " + e);
      int j = i + (e.isDeletion() ? members.size() : 1);
      for (int m = i; m < j; m++) {
        assertEquals(members.get(m - i), edits.get(m).position(), id + ": a group is deleted whole");
        assertEquals(tokens.ids()[edits.get(m).position()], edits.get(m).originalId(), id);
      }
      int bs = text.substring(0, e.charStart()).getBytes(StandardCharsets.UTF_8).length;
      int be = text.substring(0, e.charEnd()).getBytes(StandardCharsets.UTF_8).length;
      assertTrue(bs >= cursor && be > bs, () -> id + ": overlapping or empty edit " + e);
      byte[] span = Arrays.copyOfRange(original, bs, be);
      byte[] replaced = tokenBytes.toByteArray();
      // SentencePiece's dummy-prefix space: the first token carries a space that is not in the text
      boolean dummyPrefix = e.position() == 1 && bs == 0 && replaced.length == span.length + 1 && replaced[0] == ' ';
      assertArrayEquals(span, dummyPrefix ? Arrays.copyOfRange(replaced, 1, replaced.length) : replaced,
          () -> id + ": the replaced text is not the tokens' bytes " + e);
      rebuilt.write(original, cursor, bs - cursor);
      if (!e.isDeletion()) {
        assertFalse(v.isSpecial(e.newId()), () -> id + ": drew a special token " + e);
        assertTrue(e.newId() >= 0 && e.newId() < v.size(), () -> id + ": drew an id without text " + e);
        assertNotNull(v.surface(e.newId()), () -> id + ": drew part of a character " + e);
        byte[] drawn = v.bytes(e.newId());
        byte[] inserted = e.newPiece().getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(dummyPrefix && drawn[0] == ' ' ? Arrays.copyOfRange(drawn, 1, drawn.length) : drawn, inserted,
            () -> id + ": inserted text is not the drawn token's bytes " + e);
        rebuilt.writeBytes(inserted);
        groupsResampled += members.size() > 1 ? 1 : 0;
      }
      cursor = be;
      i = j;
    }
    rebuilt.write(original, cursor, original.length - cursor);
    byte[] out = r.text().getBytes(StandardCharsets.UTF_8);
    assertArrayEquals(rebuilt.toByteArray(), out, () -> id + ": output differs from the original outside the edits");
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out));
    } catch (CharacterCodingException ex) {
      throw new AssertionError(id + ": output is not valid UTF-8", ex);
    }
    String t = r.text();
    for (int i = 0; i < t.length(); i++) {
      if (Character.isHighSurrogate(t.charAt(i)) && i + 1 < t.length() && Character.isLowSurrogate(t.charAt(i + 1))) {
        i++;
      } else {
        assertFalse(Character.isSurrogate(t.charAt(i)), id + ": lone surrogate at " + i);
      }
    }
    for (char piece : new char[] {'Ġ', 'Ċ', '▁'}) {
      if (text.indexOf(piece) < 0) {
        assertTrue(r.text().indexOf(piece) < 0, () -> id + ": piece character " + piece + " in the output: " + r.text());
      }
    }
  }
}
