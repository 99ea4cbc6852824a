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
 * With the real stories260k scorer, the edited file is byte-identical whatever the batch size and
 * the number of batches in flight (the scorer pads and packs sequences differently in each case).
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
      DocumentEditor editor = new DocumentEditor(tokenizer, scorer, new Editor(cfg, tokenizer.vocabulary()));
      byte[] reference = null;
      for (int[] shape : List.of(new int[] {120, 1}, new int[] {1, 1}, new int[] {7, 2}, new int[] {32, 3})) {
        Path out = dir.resolve("out-" + shape[0] + "-" + shape[1] + ".jsonl");
        JsonlEditJob.Summary s = new JsonlEditJob(editor, JsonlEditJob.Options.defaults(in, out)
            .withChunking(shape[0], shape[1])).run(JsonlEditJob.Progress.NONE);
        assertEquals(120, s.documents());
        assertTrue(s.changed() > 1000, "changed " + s.changed());
        byte[] bytes = Files.readAllBytes(out);
        if (reference == null) {
          reference = bytes;
        } else {
          assertArrayEquals(reference, bytes, "batch " + shape[0] + ", " + shape[1] + " in flight");
        }
      }
    }
  }
}
