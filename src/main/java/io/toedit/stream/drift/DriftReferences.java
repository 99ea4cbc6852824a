package io.toedit.stream.drift;

import io.toedit.drift.Reference;
import io.toedit.drift.StreamKind;
import io.toedit.drift.WindowSummary;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The reference policy of the drift statistics: which {@link Reference} a window is compared with,
 * by {@code toedit.drift.reference} (see {@link DriftStreamConfig}).
 */
public final class DriftReferences {

  private DriftReferences() {
  }

  /**
   * The reference a window of {@code key} is compared with, or {@code null} when there is none
   * yet. {@code storedReferenceWindows} gives the windows kept so far for a first-windows
   * reference; {@code window} fetches another key's window summary at a start time (or null).
   */
  public static Reference reference(DriftStreamConfig settings, Reference fileReference, String key, long start,
      Function<String, List<byte[]>> storedReferenceWindows, BiFunction<String, Long, byte[]> window) {
    StreamKind stream = ObservationBatch.streamOf(key);
    switch (settings.referenceMode()) {
      case DriftStreamConfig.MODE_FILE:
        return fileReference;
      case DriftStreamConfig.MODE_PAIRED_RAW:
        if (stream == StreamKind.EDITED) {
          String rawKey = ObservationBatch.key(ObservationBatch.sourceOf(key), StreamKind.RAW);
          byte[] raw = window.apply(rawKey, start);
          return raw == null ? null : Reference.of("raw stream of " + ObservationBatch.sourceOf(key),
              WindowSummary.fromBytes(raw));
        }
        return firstWindows(settings, key, storedReferenceWindows.apply(key));
      default:
        return firstWindows(settings, key, storedReferenceWindows.apply(key));
    }
  }

  /** The first-windows reference built from {@code stored}, or null while fewer than configured. */
  static Reference firstWindows(DriftStreamConfig settings, String key, List<byte[]> stored) {
    if (stored.size() < settings.referenceWindows()) {
      return null;
    }
    Reference.Accumulator acc = Reference.accumulator("first " + settings.referenceWindows() + " windows of " + key,
        settings.summaryConfig());
    for (int i = 0; i < settings.referenceWindows(); i++) {
      acc.add(WindowSummary.fromBytes(stored.get(i)));
    }
    return acc.build();
  }

  /** The profile of {@code toedit.drift.reference.file} when the reference mode is {@code file}, else null. */
  public static Reference fileReference(DriftStreamConfig drift) {
    if (!drift.referenceMode().equals(DriftStreamConfig.MODE_FILE)) {
      return null;
    }
    Path file = Path.of(drift.referenceFile());
    try {
      return Reference.fromBytes(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the drift reference " + file
          + " (toedit.drift.reference.file; build one with 'profile --input human.jsonl --output ref.bin')", e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Not a drift reference profile: " + file + ": " + e.getMessage(), e);
    }
  }
}
