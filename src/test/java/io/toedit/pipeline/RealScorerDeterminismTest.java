package io.toedit.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.toedit.edit.EditConfig;
import io.toedit.edit.Editor;
import io.toedit.model.ModelSettings;
import io.toedit.model.Models;
import io.toedit.model.Scorer;
import io.toedit.text.TextTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the real stories260k scorer, the edited file is byte-identical whatever the batch size, the
 * number of batches in flight and the scoring mode (batched, the default, packs whole batches into
 * padded forward passes; per-document scores each document alone): exact batch invariance on CPU.
 * Edits are forced often (threshold 0.5, beta 3) so that a score that moved by one ulp would show.
 */
class RealScorerDeterminismTest {

  @TempDir
  Path dir;

  @Test
  void shouldWriteIdenticalBytesWhateverTheBatchingWithTheRealModel() throws Exception {
    Path in = Path.of("src/main/resources/data/sample.jsonl");
    ModelSettings settings = ModelSettings.defaults();
    EditConfig cfg = EditConfig.defaults().withThreshold(0.5, false).withBeta(3.0);
    try (TextTokenizer tokenizer = Models.openTokenizer(settings); Scorer scorer = Models.openScorer(settings)) {
      byte[] reference = null;
      for (int[] shape : List.of(new int[] {120, 1, 0}, new int[] {1, 1, 0}, new int[] {7, 2, 0},
          new int[] {32, 3, 0}, new int[] {120, 1, 1}, new int[] {7, 2, 1})) {
        DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(cfg, tokenizer.vocabulary()),
            shape[2] == 0 ? DocumentEditor.ScoringMode.BATCHED : DocumentEditor.ScoringMode.PER_DOCUMENT);
        Path out = dir.resolve("out-" + shape[0] + "-" + shape[1] + "-" + shape[2] + ".jsonl");
        JsonlEditJob.Summary s = new JsonlEditJob(editor, JsonlEditJob.Options.defaults(in, out)
            .withChunking(shape[0], shape[1])).run(JsonlEditJob.Progress.NONE);
        assertEquals(120, s.documents());
        assertTrue(s.changed() > 1000, "changed " + s.changed());
        byte[] bytes = Files.readAllBytes(out);
        if (reference == null) {
          reference = bytes;
        } else {
          assertArrayEquals(reference, bytes, "batch " + shape[0] + ", " + shape[1] + " in flight, "
              + editor.scoringMode());
        }
      }
    }
  }
}
