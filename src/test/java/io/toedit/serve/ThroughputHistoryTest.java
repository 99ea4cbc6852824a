package io.toedit.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.toedit.stream.PipelineStats;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThroughputHistoryTest {

  private final AtomicLong clock = new AtomicLong();
  private final AtomicLong edited = new AtomicLong();

  private ThroughputHistory history(int capacity) {
    return new ThroughputHistory(() -> new PipelineStats.Snapshot(edited.get() + 1, edited.get(), 2, 10 * edited.get(),
        0, 0, 0, 0, 0), 1000, capacity, clock::get);
  }

  private static List<Long> times(ThroughputHistory h) {
    return h.samples().stream().map(ThroughputHistory.Sample::timeMs).toList();
  }

  @Test
  void shouldSampleTheCountersOncePerInterval() {
    ThroughputHistory h = history(10);
    for (long t = 0; t <= 3000; t += 500) {
      clock.set(t);
      edited.set(t / 100);
      h.sample();
    }
    assertEquals(List.of(0L, 1000L, 2000L, 3000L), times(h));
    ThroughputHistory.Sample last = h.samples().get(3);
    assertEquals(new ThroughputHistory.Sample(3000, 31, 30, 2, 300), last);
    assertEquals(5, h.rows().get(0).length);
  }

  @Test
  void shouldHalveTheResolutionWhenFullAndStillSpanTheWholeRun() {
    ThroughputHistory h = history(4);
    for (long t = 0; t <= 4000; t += 1000) {
      clock.set(t);
      h.sample();
    }
    // Five samples for a capacity of four: every other one goes, the interval doubles to 2 s.
    assertEquals(List.of(0L, 2000L, 4000L), times(h));
    clock.set(5000);
    h.sample();
    assertEquals(List.of(0L, 2000L, 4000L), times(h), "within the doubled interval");
    clock.set(6000);
    h.sample();
    assertEquals(List.of(0L, 2000L, 4000L, 6000L), times(h));
    for (long t = 8000; t <= 40_000; t += 1000) {
      clock.set(t);
      h.sample();
    }
    List<Long> times = times(h);
    assertEquals(0L, times.get(0), "the run's start is kept");
    assertEquals(true, times.size() <= 4 && times.get(times.size() - 1) >= 32_000L, times.toString());
  }

  @Test
  void shouldRejectBadSettings() {
    assertThrows(IllegalArgumentException.class, () -> new ThroughputHistory(() -> null, 0, 10, clock::get));
    assertThrows(IllegalArgumentException.class, () -> new ThroughputHistory(() -> null, 1000, 3, clock::get));
  }
}
