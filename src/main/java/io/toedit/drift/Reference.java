package io.toedit.drift;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * What a window is compared with: a summary of trusted text plus, when it was built window by
 * window, the spread of four window-level statistics across those windows (mean and standard
 * deviation of: per-window mean document NLL, per-window standard deviation of document NLL,
 * per-window top-40 bigram share, and the natural log of each window's JSD to the rest of the
 * reference). The first three are what the contamination z-scores divide by; the last is the null
 * distribution of the n-gram test of {@link SyntheticEstimate}.
 *
 * <p>It also keeps the exact lowest per-document NLLs (at most {@value #MAX_LOW_TAIL}), so the
 * estimator's cutoff at a low quantile is exact rather than within the KLL sketch's rank error
 * (about 1.3 points at k 200, large against a 2 % quantile; KLL compaction is also randomized). The
 * tail is kept only while every window added had all its documents' NLLs (windows of at most
 * {@code kllK} scored documents); otherwise it is empty and the sketch is used.
 *
 * <p>The log-JSD null is computed at {@link Accumulator#build()}: each window's unigram+bigram
 * bucket counts against the reference total minus that window (leave one out), over at most
 * {@value #MAX_NULL_WINDOWS} windows (a seeded reservoir sample beyond that).
 *
 * <p>Three ways to get one:
 * <ul>
 *   <li>offline from a trusted corpus, cut into pseudo-windows of a fixed number of documents
 *       ({@link Accumulator#addDocuments}; the {@code profile} command);</li>
 *   <li>from the first N windows of a stream ({@link Accumulator#add} each closed window, then
 *       {@link Accumulator#build});</li>
 *   <li>the paired raw stream's summary of the same window ({@link #of}): divergences only, no
 *       window spread, so no contamination signal.</li>
 * </ul>
 * Immutable; serializable with {@link #toByteArray()} / {@link #fromBytes(byte[])}.
 */
public final class Reference {

  static final byte[] MAGIC = {'T', 'E', 'D', 'R'};
  /** Version 2 added the log-JSD statistic; version 1 bytes still read (without it). */
  static final int SERIAL_VERSION = 2;
  static final int MIN_SERIAL_VERSION = 1;
  /** Windows whose JSD to the rest of the reference make the n-gram null distribution. */
  static final int MAX_NULL_WINDOWS = 256;
  /** Lowest per-document NLLs kept exactly. */
  static final int MAX_LOW_TAIL = 4096;
  static final int FAMILY = 2;
  private static final String WHAT = "Reference";

  /** Window-level statistics whose spread the reference keeps, in this order. */
  enum Stat {
    DOCUMENT_NLL_MEAN, DOCUMENT_NLL_SD, TOP40_BIGRAM_SHARE, WINDOW_LOG_JSD
  }

  private final String name;
  private final WindowSummary summary;
  private final long[] n;
  private final double[] sum;
  private final double[] sumSq;
  private final float[] lowTail;

  private Reference(String name, WindowSummary summary, long[] n, double[] sum, double[] sumSq, float[] lowTail) {
    this.name = Objects.requireNonNull(name, "name");
    this.summary = summary;
    this.n = n;
    this.sum = sum;
    this.sumSq = sumSq;
    this.lowTail = lowTail;
  }

  /** A reference that is just one summary (e.g. the paired raw stream's window). */
  public static Reference of(String name, WindowSummary summary) {
    int k = Stat.values().length;
    WindowSummary copy = summary.copy();
    return new Reference(name, copy, new long[k], new double[k], new double[k], lowestOf(copy));
  }

  public static Accumulator accumulator(String name, SummaryConfig config) {
    return new Accumulator(name, config);
  }

  public String name() {
    return name;
  }

  /** A copy of the merged summary of everything the reference was built from. */
  public WindowSummary summary() {
    return summary.copy();
  }

  /** Read-only access for metrics, without copying. */
  WindowSummary summaryView() {
    return summary;
  }

  /** Number of windows behind the spread of {@code stat} (0 for {@link #of}). */
  long windows(Stat stat) {
    return n[stat.ordinal()];
  }

  /** Mean across windows of {@code stat}; {@code NaN} without windows. */
  double windowMean(Stat stat) {
    int i = stat.ordinal();
    return n[i] == 0 ? Double.NaN : sum[i] / n[i];
  }

  /** Sample standard deviation across windows of {@code stat}; {@code NaN} below 2 windows. */
  double windowSd(Stat stat) {
    int i = stat.ordinal();
    if (n[i] < 2) {
      return Double.NaN;
    }
    double mean = sum[i] / n[i];
    return Math.sqrt(Math.max(0, (sumSq[i] - n[i] * mean * mean) / (n[i] - 1)));
  }

  /**
   * The lowest per-document mean NLLs, ascending and exact (the {@code i}-th is the (i+1)-th smallest
   * of all scored documents), or an empty array when they are not known exactly.
   */
  float[] lowTail() {
    return lowTail.clone();
  }

  /** The sketch's items when it is exact, else none. */
  private static float[] lowestOf(WindowSummary s) {
    if (!s.documentNllsExact()) {
      return new float[0];
    }
    float[] items = s.documentNllItems();
    return java.util.Arrays.copyOf(items, Math.min(items.length, MAX_LOW_TAIL));
  }

  /** Number of windows the reference was built from. */
  public long windows() {
    return n[Stat.TOP40_BIGRAM_SHARE.ordinal()];
  }

  /**
   * Version 2: magic {@code TEDR}, version, family, 2 zero bytes, name, window spread (count, then
   * n, sum, sum of squares per statistic), summary, CRC-32. Version 1 had three statistics.
   */
  public byte[] toByteArray() {
    Codec.Writer w = new Codec.Writer().header(MAGIC, SERIAL_VERSION, FAMILY);
    w.blob(name.getBytes(StandardCharsets.UTF_8));
    w.i32(n.length);
    for (int i = 0; i < n.length; i++) {
      w.i64(n[i]).f64(sum[i]).f64(sumSq[i]);
    }
    w.blob(summary.toByteArray());
    w.i32(lowTail.length);
    for (float v : lowTail) {
      w.f64(v);
    }
    return w.finish();
  }

  public static Reference fromBytes(byte[] bytes) {
    Codec.Reader r = new Codec.Reader(bytes, WHAT, MAGIC, MIN_SERIAL_VERSION, SERIAL_VERSION, FAMILY);
    String name = new String(r.blob("name"), StandardCharsets.UTF_8);
    int k = r.i32();
    r.check(k, r.version() == 1 ? Stat.WINDOW_LOG_JSD.ordinal() : Stat.values().length, "window statistic count", "");
    long[] n = new long[Stat.values().length];
    double[] sum = new double[n.length];
    double[] sumSq = new double[n.length];
    for (int i = 0; i < k; i++) {
      n[i] = r.nonNegative("window count");
      sum[i] = r.f64();
      sumSq[i] = r.f64();
    }
    WindowSummary summary = WindowSummary.fromBytes(r.blob("summary"));
    float[] tail = new float[0];
    if (r.version() >= 2) {
      int t = r.i32();
      r.check(t < 0 || t > MAX_LOW_TAIL || t > summary.scoredDocuments() ? t : 0, 0, "low-tail length beyond"
          + " its bound " + Math.min(MAX_LOW_TAIL, summary.scoredDocuments()), "");
      tail = new float[t];
      for (int i = 0; i < t; i++) {
        tail[i] = (float) r.f64();
        r.check(i > 0 && tail[i] < tail[i - 1] ? -1 : 0, 0, "low-tail order at " + i, "");
      }
    } else {
      tail = lowestOf(summary);
    }
    r.end();
    return new Reference(name, summary, n, sum, sumSq, tail);
  }

  @Override
  public String toString() {
    return "Reference{name=" + name + ", windows=" + windows() + ", summary=" + summary + "}";
  }

  /** Builds a {@link Reference} window by window. Not thread-safe. */
  public static final class Accumulator {
    private final String name;
    private final WindowSummary total;
    private final long[] n = new long[Stat.values().length];
    private final double[] sum = new double[Stat.values().length];
    private final double[] sumSq = new double[Stat.values().length];
    private final List<int[]> nullWindows = new ArrayList<>();
    private final Random reservoir = new Random(0x70ED17L);
    private final java.util.PriorityQueue<Float> lowest = new java.util.PriorityQueue<>(
        java.util.Comparator.reverseOrder());
    private boolean lowestExact = true;
    private long windowsSeen;
    private WindowSummary pending;
    private int pendingSize;

    private Accumulator(String name, SummaryConfig config) {
      this.name = Objects.requireNonNull(name, "name");
      this.total = new WindowSummary(config);
    }

    /** Adds one closed window: merged into the total, and its statistics into the spread. */
    public Accumulator add(WindowSummary window) {
      total.merge(window);
      record(Stat.DOCUMENT_NLL_MEAN, window.documentNllMean());
      record(Stat.DOCUMENT_NLL_SD, window.documentNllSd());
      record(Stat.TOP40_BIGRAM_SHARE, DriftMetrics.topBigramShare(window));
      keepForNull(window);
      keepLowest(window);
      return this;
    }

    /** The {@value #MAX_LOW_TAIL} lowest document NLLs so far (a max-heap), while they are exact. */
    private void keepLowest(WindowSummary window) {
      if (!lowestExact) {
        return;
      }
      if (!window.documentNllsExact()) {
        lowestExact = false;
        lowest.clear();
        return;
      }
      for (float v : window.documentNllItems()) {
        if (lowest.size() < MAX_LOW_TAIL) {
          lowest.add(v);
        } else if (v < lowest.peek()) {
          lowest.poll();
          lowest.add(v);
        }
      }
    }

    /** Reservoir sampling (algorithm R, fixed seed) of the windows' unigram+bigram counts. */
    private void keepForNull(WindowSummary window) {
      if (window.ngramCount(1) == 0) {
        return;
      }
      long[] counts = window.unigramBigramCounts();
      int[] small = new int[counts.length];
      for (int i = 0; i < counts.length; i++) {
        small[i] = (int) Math.min(Integer.MAX_VALUE, counts[i]);
      }
      windowsSeen++;
      if (nullWindows.size() < MAX_NULL_WINDOWS) {
        nullWindows.add(small);
      } else {
        long j = (long) (reservoir.nextDouble() * windowsSeen);
        if (j < MAX_NULL_WINDOWS) {
          nullWindows.set((int) j, small);
        }
      }
    }

    /**
     * Cuts {@code documents} into consecutive pseudo-windows of {@code documentsPerWindow} documents
     * and adds each (see {@link #addDocument}). Use the size of the live windows the reference will
     * be compared with: the spread depends on it.
     */
    public Accumulator addDocuments(Iterable<DocumentObservation> documents, int documentsPerWindow) {
      for (DocumentObservation d : documents) {
        addDocument(d, documentsPerWindow);
      }
      return this;
    }

    /**
     * Adds one document of a corpus to the current pseudo-window, which is added as a window once it
     * holds {@code documentsPerWindow} documents. At {@link #build()} a last, shorter window counts as
     * a window if it has at least half as many documents; otherwise it is only merged into the total.
     */
    public Accumulator addDocument(DocumentObservation document, int documentsPerWindow) {
      if (documentsPerWindow < 2) {
        throw new IllegalArgumentException("documentsPerWindow must be at least 2: " + documentsPerWindow);
      }
      if (pending == null) {
        pending = new WindowSummary(total.config());
      }
      pendingSize = documentsPerWindow;
      pending.update(document);
      if (pending.documents() >= documentsPerWindow) {
        add(pending);
        pending = null;
      }
      return this;
    }

    public long windows() {
      return n[Stat.TOP40_BIGRAM_SHARE.ordinal()];
    }

    /** The reference so far, with any pending pseudo-window flushed first. */
    public Reference build() {
      if (pending != null) {
        if (pending.documents() * 2 >= pendingSize) {
          add(pending);
        } else {
          total.merge(pending);
          keepLowest(pending);
        }
        pending = null;
      }
      long[] nn = n.clone();
      double[] ss = sum.clone();
      double[] sq = sumSq.clone();
      long[] all = total.unigramBigramCounts();
      long[] rest = new long[all.length];
      long[] window = new long[all.length];
      int j = Stat.WINDOW_LOG_JSD.ordinal();
      for (int[] w : nullWindows) {
        for (int i = 0; i < all.length; i++) {
          window[i] = w[i];
          rest[i] = all[i] - w[i];
        }
        double jsd = Distributions.jsd(window, rest);
        if (jsd > 0) {
          double v = Math.log(jsd);
          nn[j]++;
          ss[j] += v;
          sq[j] += v * v;
        }
      }
      float[] tail = new float[lowestExact ? lowest.size() : 0];
      if (lowestExact) {
        int i = 0;
        for (float v : lowest) {
          tail[i++] = v;
        }
        java.util.Arrays.sort(tail);
      }
      return new Reference(name, total.copy(), nn, ss, sq, tail);
    }

    private void record(Stat stat, double value) {
      if (Double.isNaN(value)) {
        return;
      }
      int i = stat.ordinal();
      n[i]++;
      sum[i] += value;
      sumSq[i] += value * value;
    }
  }
}
