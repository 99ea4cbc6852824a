package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.edit.EditConfig;
import io.toedit.edit.EditResult;
import io.toedit.edit.Editor;
import io.toedit.model.BundledTokenizer;
import io.toedit.model.FakeScorer;
import io.toedit.text.TextTokenizer;
import io.toedit.text.Tokenized;
import io.toedit.text.Vocabulary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class DocumentEditorTest {

  static final TextTokenizer tokenizer = BundledTokenizer.get();

  /** Throws for texts containing "BOOM", delegates otherwise. */
  static TextTokenizer explosive() {
    return new TextTokenizer() {
      @Override
      public Tokenized encode(String text) {
        if (text.contains("BOOM")) {
          throw new IllegalArgumentException("cannot tokenize BOOM");
        }
        return tokenizer.encode(text);
      }

      @Override
      public Vocabulary vocabulary() {
        return tokenizer.vocabulary();
      }

      @Override
      public void close() {
      }
    };
  }

  static List<SourceDocument> docs(int n) {
    List<SourceDocument> docs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      docs.add(new SourceDocument("doc-" + i, "Once upon a time, Lily (" + i + ") saw a café with a 猫. "
          + "She was very happy and said: \"Let's play!\" ".repeat(1 + i % 3)));
    }
    return docs;
  }

  static DocumentEditor editor(FakeScorer scorer) {
    return new DocumentEditor(explosive(), scorer, new Editor(EditConfig.defaults().withBeta(20.0), tokenizer.vocabulary()),
        DocumentEditor.ScoringMode.BATCHED);
  }

  @Test
  void shouldReturnOneOutcomePerDocumentInInputOrder() {
    List<SourceDocument> docs = docs(12);
    List<DocumentOutcome> out = editor(FakeScorer.bigram(tokenizer.vocabulary().size())).process(docs);
    assertEquals(12, out.size());
    int changed = 0;
    for (int i = 0; i < 12; i++) {
      DocumentOutcome o = out.get(i);
      assertTrue(o.ok(), () -> String.valueOf(o.failure()));
      assertEquals("doc-" + i, o.id());
      assertEquals(docs.get(i).text(), o.tokens().text());
      assertTrue(o.result().overThreshold() > 0);
      changed += o.result().changed();
    }
    assertTrue(changed > 0, "beta 20 flattens the draw: some tokens must change");
  }

  @Test
  void shouldIsolateAPoisonDocumentBySplittingTheScoringBatch() {
    List<SourceDocument> docs = docs(16);
    int[] poison = tokenizer.encode(docs.get(5).text()).ids();
    FakeScorer poisoned = FakeScorer.bigram(tokenizer.vocabulary().size(), 8, ids -> Arrays.equals(ids, poison));
    List<DocumentOutcome> out = editor(poisoned).process(docs);
    List<DocumentOutcome> clean = editor(FakeScorer.bigram(tokenizer.vocabulary().size())).process(docs);
    for (int i = 0; i < 16; i++) {
      if (i == 5) {
        assertFalse(out.get(i).ok());
        assertEquals("score", out.get(i).stage());
        assertEquals("doc-5", out.get(i).id());
        assertTrue(out.get(i).failure().getMessage().contains("poison"));
      } else {
        assertTrue(out.get(i).ok(), "doc " + i);
        assertEquals(clean.get(i).result(), out.get(i).result(), "doc " + i);
      }
    }
    // 1 failing call of 16, then halving down to the poison: 2 calls per level of a 4-level tree
    assertEquals(1 + 2 * 4, poisoned.calls.get());
  }

  @Test
  void shouldScoreEachDocumentInItsOwnCallInPerDocumentMode() {
    List<SourceDocument> docs = new ArrayList<>(docs(6));
    docs.add(new SourceDocument("empty", ""));
    int[] poison = tokenizer.encode(docs.get(2).text()).ids();
    FakeScorer scorer = FakeScorer.bigram(tokenizer.vocabulary().size(), 8, ids -> Arrays.equals(ids, poison));
    assertEquals(DocumentEditor.ScoringMode.BATCHED, new DocumentEditor(tokenizer, scorer,
        new Editor(EditConfig.defaults(), tokenizer.vocabulary())).scoringMode(), "batched by default");
    DocumentEditor perDoc = new DocumentEditor(tokenizer, scorer, new Editor(EditConfig.defaults(), tokenizer.vocabulary()),
        DocumentEditor.ScoringMode.PER_DOCUMENT);
    List<DocumentOutcome> out = perDoc.process(docs);
    assertEquals(6, scorer.calls.get(), "one call per non-empty document");
    assertEquals("score", out.get(2).stage());
    assertEquals(6, out.stream().filter(DocumentOutcome::ok).count());
    List<DocumentOutcome> batched = editor(FakeScorer.bigram(tokenizer.vocabulary().size())).process(docs);
    for (int i = 0; i < docs.size(); i++) {
      if (i != 2) {
        assertEquals(batched.get(i).tokens().text(), out.get(i).tokens().text());
      }
    }
  }

  @Test
  void shouldReportATokenizerFailureWithoutFailingItsNeighbours() {
    List<SourceDocument> docs = new ArrayList<>(docs(3));
    docs.add(1, new SourceDocument("bad", "BOOM 💥"));
    docs.add(new SourceDocument("empty", ""));
    List<DocumentOutcome> out = editor(FakeScorer.bigram(tokenizer.vocabulary().size())).process(docs);
    assertEquals(List.of("doc-0", "bad", "doc-1", "doc-2", "empty"), out.stream().map(DocumentOutcome::id).toList());
    assertEquals("tokenize", out.get(1).stage());
    assertInstanceOf(IllegalArgumentException.class, out.get(1).failure());
    assertTrue(out.get(0).ok() && out.get(2).ok() && out.get(3).ok());
    // an empty text is fine: nothing to score, nothing to edit
    assertTrue(out.get(4).ok());
    assertEquals("", out.get(4).result().text());
    assertEquals(0, out.get(4).result().tokens());
  }

  @Test
  void shouldFailOnlyTheDocumentWhoseScoresCannotBeEdited() {
    // a scorer with k = 2 cannot serve top_k = 8 for any over-threshold token: those documents fail at "edit"
    FakeScorer narrow = FakeScorer.bigram(tokenizer.vocabulary().size(), 2, ids -> false);
    List<DocumentOutcome> out = editor(narrow).process(List.of(new SourceDocument("a", "Once upon a time, there was a cat."),
        new SourceDocument("b", "")));
    assertEquals("edit", out.get(0).stage());
    assertTrue(out.get(0).failure().getMessage().contains("top_k=8"), out.get(0).failure().getMessage());
    assertTrue(out.get(1).ok());
  }

  @Test
  void shouldGiveTheSameResultsWhateverTheBatchComposition() {
    List<SourceDocument> docs = docs(10);
    DocumentEditor editor = editor(FakeScorer.bigram(tokenizer.vocabulary().size()));
    List<EditResult> whole = editor.process(docs).stream().map(DocumentOutcome::result).toList();
    List<EditResult> single = new ArrayList<>();
    for (SourceDocument d : docs) {
      single.add(editor.process(List.of(d)).get(0).result());
    }
    List<SourceDocument> backwards = new ArrayList<>(docs);
    Collections.reverse(backwards);
    List<EditResult> reversed = new ArrayList<>(editor.process(backwards).stream().map(DocumentOutcome::result).toList());
    Collections.reverse(reversed);
    assertEquals(whole, single);
    assertEquals(whole, reversed);
  }
  @Test
  void shouldUseTheTokensADocumentCarries() {
    List<SourceDocument> plain = docs(4);
    List<SourceDocument> carried = new ArrayList<>();
    for (SourceDocument d : plain) {
      carried.add(new SourceDocument(d.id(), d.text(), tokenizer.encode(d.text())));
    }
    // "BOOM" would fail the explosive tokenizer: carried tokens are not tokenized again.
    String boom = "BOOM goes the drum.";
    carried.add(new SourceDocument("boom", boom, tokenizer.encode(boom)));
    DocumentEditor editor = editor(FakeScorer.bigram(tokenizer.vocabulary().size()));
    List<DocumentOutcome> expected = editor.process(plain);
    List<DocumentOutcome> got = editor.process(carried);
    for (int i = 0; i < plain.size(); i++) {
      assertEquals(expected.get(i).result().text(), got.get(i).result().text());
      assertEquals(expected.get(i).result().edits(), got.get(i).result().edits());
    }
    assertTrue(got.get(plain.size()).ok(), () -> String.valueOf(got.get(plain.size()).failure()));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new SourceDocument("x", "one text", tokenizer.encode("another text")));
  }
}
