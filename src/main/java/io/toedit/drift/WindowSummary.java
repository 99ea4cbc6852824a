package io.toedit.drift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.datasketches.common.SketchesException;
import org.apache.datasketches.frequencies.ErrorType;
import org.apache.datasketches.frequencies.LongsSketch;
import org.apache.datasketches.hll.HllSketch;
import org.apache.datasketches.hll.TgtHllType;
import org.apache.datasketches.hll.Union;
import org.apache.datasketches.kll.KllFloatsSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;

/**
 * Mergeable n-gram and likelihood statistics of the documents of one window (one source, one
 * stream), in memory and serialized size bounded by its {@link SummaryConfig} alone.
 *
 * <p>Per n-gram order n = 1..3 (n-grams never cross document boundaries; BOS is not a token here,
 * see {@link DocumentObservation}):
 * <ul>
 *   <li>counts hashed into {@code buckets} fixed buckets (exact per bucket, collisions merge
 *       n-grams);</li>
 *   <li>a DataSketches frequent-items {@code LongsSketch} keyed by the exactly packed n-gram, so
 *       heavy hitters decode back to token ids ({@link #topNGrams});</li>
 *   <li>an HLL sketch of distinct n-grams.</li>
 * </ul>
 * Plus a 10-bin histogram of P(actual) on [0, 1] (bin i holds [i/10, (i+1)/10), bin 9 also holds
 * 1.0) and KLL quantile sketches of P(actual) per token and of mean NLL per document, and exact
 * counters: documents, tokens, predicted tokens, NLL sum, over-threshold, changed and deleted
 * tokens, and the first and second moments of per-document mean NLL.
 *
 * <p>{@link #merge} of summaries of disjoint document sets gives the summary of their union:
 * exactly for the counters and buckets, exactly for the sketches while below capacity, and within
 * the sketches' error bounds beyond. Not thread-safe (a Kafka Streams aggregate is updated by one
 * thread).
 */
public final class WindowSummary {

  static final byte[] MAGIC = {'T', 'E', 'D', 'S'};
  static final int SERIAL_VERSION = 1;
  static final int FAMILY = 1;
  private static final String WHAT = "WindowSummary";
  private static final int HIST_BINS = 10;
  private static final int ORDERS = NGrams.MAX_ORDER;

  private final SummaryConfig config;
  private final long[][] buckets;
  private final LongsSketch[] frequent;
  private final HllSketch[] distinct;
  private final long[] ngrams;
  private final long[] histogram;
  private KllFloatsSketch tokenProbs;
  private KllFloatsSketch docNlls;
  private long documents;
  private long tokens;
  private long predictedTokens;
  private long overThreshold;
  private long changed;
  private long deleted;
  private long scoredDocuments;
  private long minTimestamp = Long.MAX_VALUE;
  private long maxTimestamp = Long.MIN_VALUE;
  private double nllSum;
  private double docNllSum;
  private double docNllSumSq;

  public WindowSummary(SummaryConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.buckets = new long[ORDERS][config.buckets()];
    this.frequent = new LongsSketch[ORDERS];
    this.distinct = new HllSketch[ORDERS];
    for (int i = 0; i < ORDERS; i++) {
      frequent[i] = new LongsSketch(config.frequentMapSize());
      distinct[i] = new HllSketch(config.hllLgK(), TgtHllType.HLL_4);
    }
    this.ngrams = new long[ORDERS];
    this.histogram = new long[HIST_BINS];
    this.tokenProbs = KllFloatsSketch.newHeapInstance(config.kllK());
    this.docNlls = KllFloatsSketch.newHeapInstance(config.kllK());
  }

  /** Adds one document. Returns {@code this}. */
  public WindowSummary update(DocumentObservation doc) {
    int[] ids = doc.tokenIds();
    documents++;
    tokens += ids.length;
    int nb = config.buckets();
    for (int n = 1; n <= ORDERS; n++) {
      long[] counts = buckets[n - 1];
      LongsSketch fi = frequent[n - 1];
      HllSketch hll = distinct[n - 1];
      for (int i = 0; i + n <= ids.length; i++) {
        long key = NGrams.key(ids, i, n);
        counts[NGrams.bucket(key, n, nb)]++;
        fi.update(key);
        hll.update(key);
      }
      ngrams[n - 1] += Math.max(0, ids.length - n + 1);
    }
    float[] probs = doc.tokenProbs();
    if (probs != null) {
      for (float p : probs) {
        float c = Float.isNaN(p) ? 0f : Math.min(1f, Math.max(0f, p));
        histogram[Math.min(HIST_BINS - 1, (int) (c * HIST_BINS))]++;
        tokenProbs.update(c);
      }
    }
    if (doc.predictedTokens() > 0) {
      double m = doc.meanNll();
      scoredDocuments++;
      docNllSum += m;
      docNllSumSq += m * m;
      docNlls.update((float) m);
    }
    predictedTokens += doc.predictedTokens();
    nllSum += doc.nllSum();
    overThreshold += doc.overThreshold();
    changed += doc.changed();
    deleted += doc.deleted();
    minTimestamp = Math.min(minTimestamp, doc.timestampMs());
    maxTimestamp = Math.max(maxTimestamp, doc.timestampMs());
    return this;
  }

  /**
   * Adds {@code other} into this summary ({@code other} is unchanged). Both must have the same
   * {@link SummaryConfig}. Returns {@code this}.
   */
  public WindowSummary merge(WindowSummary other) {
    if (!config.equals(other.config)) {
      throw new IllegalArgumentException("Cannot merge summaries of different configurations: " + config
          + " vs " + other.config + " (rebuild one of them with the other's SummaryConfig)");
    }
    for (int n = 0; n < ORDERS; n++) {
      long[] a = buckets[n];
      long[] b = other.buckets[n];
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      frequent[n].merge(other.frequent[n]);
      Union u = new Union(config.hllLgK());
      u.update(distinct[n]);
      u.update(other.distinct[n]);
      distinct[n] = u.getResult(TgtHllType.HLL_4);
      ngrams[n] += other.ngrams[n];
    }
    for (int i = 0; i < HIST_BINS; i++) {
      histogram[i] += other.histogram[i];
    }
    tokenProbs.merge(other.tokenProbs);
    docNlls.merge(other.docNlls);
    documents += other.documents;
    tokens += other.tokens;
    predictedTokens += other.predictedTokens;
    overThreshold += other.overThreshold;
    changed += other.changed;
    deleted += other.deleted;
    scoredDocuments += other.scoredDocuments;
    minTimestamp = Math.min(minTimestamp, other.minTimestamp);
    maxTimestamp = Math.max(maxTimestamp, other.maxTimestamp);
    nllSum += other.nllSum;
    docNllSum += other.docNllSum;
    docNllSumSq += other.docNllSumSq;
    return this;
  }

  /** A deep copy, through the serialized form. */
  public WindowSummary copy() {
    return fromBytes(toByteArray());
  }

  // ---------------------------------------------------------------- getters

  public SummaryConfig config() {
    return config;
  }

  public long documents() {
    return documents;
  }

  /** Content tokens (BOS excluded). */
  public long tokens() {
    return tokens;
  }

  public long predictedTokens() {
    return predictedTokens;
  }

  /** Sum of -ln P(actual) over predicted tokens, in nats. */
  public double nllSum() {
    return nllSum;
  }

  /** Mean NLL per predicted token in nats; {@code NaN} if nothing was scored. */
  public double meanNll() {
    return predictedTokens == 0 ? Double.NaN : nllSum / predictedTokens;
  }

  public long overThreshold() {
    return overThreshold;
  }

  public long changed() {
    return changed;
  }

  public long deleted() {
    return deleted;
  }

  /** Documents with at least one predicted token. */
  public long scoredDocuments() {
    return scoredDocuments;
  }

  /** Mean over scored documents of their mean NLL per token (each document weighs the same). */
  public double documentNllMean() {
    return scoredDocuments == 0 ? Double.NaN : docNllSum / scoredDocuments;
  }

  /** Sample standard deviation across scored documents of their mean NLL; {@code NaN} below 2. */
  public double documentNllSd() {
    if (scoredDocuments < 2) {
      return Double.NaN;
    }
    double mean = docNllSum / scoredDocuments;
    double var = (docNllSumSq - scoredDocuments * mean * mean) / (scoredDocuments - 1);
    return Math.sqrt(Math.max(0, var));
  }

  /** Earliest event time seen, or {@code Long.MAX_VALUE} when empty. */
  public long minTimestamp() {
    return minTimestamp;
  }

  /** Latest event time seen, or {@code Long.MIN_VALUE} when empty. */
  public long maxTimestamp() {
    return maxTimestamp;
  }

  /** Number of n-grams of order {@code n} (1..3) counted, repeats included. */
  public long ngramCount(int n) {
    return ngrams[checkOrder(n) - 1];
  }

  /** HLL estimate of distinct n-grams of order {@code n}. */
  public double distinctEstimate(int n) {
    return distinct[checkOrder(n) - 1].getEstimate();
  }

  /** A copy of the hashed bucket counts of order {@code n}. */
  public long[] bucketCounts(int n) {
    return buckets[checkOrder(n) - 1].clone();
  }

  /** The paper's feature space: unigram and bigram counts hashed into the same buckets. */
  public long[] unigramBigramCounts() {
    long[] f = buckets[0].clone();
    long[] b = buckets[1];
    for (int i = 0; i < f.length; i++) {
      f[i] += b[i];
    }
    return f;
  }

  /** A copy of the 10-bin histogram of P(actual); bin i counts [i/10, (i+1)/10), bin 9 includes 1. */
  public long[] probabilityHistogram() {
    return histogram.clone();
  }

  /** Quantile of P(actual) over predicted tokens (KLL, rank error about 1.3 % at k 200). */
  public double tokenProbabilityQuantile(double rank) {
    return tokenProbs.isEmpty() ? Double.NaN : tokenProbs.getQuantile(rank, QuantileSearchCriteria.INCLUSIVE);
  }

  /** Quantile of the per-document mean NLL (KLL). */
  public double documentNllQuantile(double rank) {
    return docNlls.isEmpty() ? Double.NaN : docNlls.getQuantile(rank, QuantileSearchCriteria.INCLUSIVE);
  }

  /**
   * Normalized rank of {@code x} among the per-document mean NLLs (KLL): the share of scored
   * documents with mean NLL at most {@code x} ({@code inclusive}) or below it; {@code NaN} when
   * nothing was scored. Exact while at most {@code kllK} documents were scored.
   */
  public double documentNllRank(double x, boolean inclusive) {
    return docNlls.isEmpty() ? Double.NaN : docNlls.getRank((float) x,
        inclusive ? QuantileSearchCriteria.INCLUSIVE : QuantileSearchCriteria.EXCLUSIVE);
  }

  /**
   * The per-document mean NLLs the KLL sketch retains, ascending (every one of them while at most
   * {@code kllK} documents were scored); empty when nothing was scored.
   */
  float[] documentNllItems() {
    return docNlls.isEmpty() ? new float[0] : docNlls.getSortedView().getQuantiles();
  }

  /** Whether {@link #documentNllItems()} holds every scored document's NLL (the KLL sketch never compacted). */
  boolean documentNllsExact() {
    return !docNlls.isEstimationMode();
  }

  /**
   * The {@code limit} most frequent n-grams of order {@code n}, most frequent first, decoded back
   * into token ids. Estimates are exact while the order has at most 0.75 x frequentMapSize distinct
   * n-grams; beyond that they lie within the returned bounds.
   */
  public List<NGramCount> topNGrams(int n, int limit) {
    LongsSketch fi = frequent[checkOrder(n) - 1];
    List<NGramCount> out = new ArrayList<>();
    if (fi.isEmpty()) {
      return out;
    }
    LongsSketch.Row[] rows = fi.getFrequentItems(ErrorType.NO_FALSE_NEGATIVES);
    for (int i = 0; i < rows.length && out.size() < limit; i++) {
      LongsSketch.Row r = rows[i];
      out.add(new NGramCount(NGrams.decode(r.getItem(), n), r.getEstimate(), r.getLowerBound(),
          r.getUpperBound()));
    }
    return out;
  }

  /** Upper bound on the count error of every frequent-items estimate of order {@code n} (0 = exact). */
  public long frequentItemsMaxError(int n) {
    return frequent[checkOrder(n) - 1].getMaximumError();
  }

  private static int checkOrder(int n) {
    if (n < 1 || n > ORDERS) {
      throw new IllegalArgumentException("n-gram order must be in [1, " + ORDERS + "]: " + n);
    }
    return n;
  }

  // ---------------------------------------------------------------- serialization

  /**
   * Serialized form, version 1 (little-endian): magic {@code TEDS}, version, family, 2 reserved
   * zero bytes; the 4 {@link SummaryConfig} ints; counters; sparse varint bucket counts; the
   * DataSketches sketches as length-prefixed blobs; CRC-32 of everything before it.
   */
  public byte[] toByteArray() {
    try {
      return serialize();
    } catch (NoClassDefFoundError e) {
      throw missingForeignModule(e);
    }
  }

  /**
   * DataSketches 7 serializes through datasketches-memory 4, which on Java 17 needs the incubator
   * module {@code jdk.incubator.foreign}; without it the first (de)serialization fails.
   */
  static IllegalStateException missingForeignModule(NoClassDefFoundError e) {
    return new IllegalStateException("DataSketches needs the JVM flag --add-modules=jdk.incubator.foreign on"
        + " Java 17 to (de)serialize sketches; start java with it (or set JDK_JAVA_OPTIONS)", e);
  }

  private byte[] serialize() {
    Codec.Writer w = new Codec.Writer().header(MAGIC, SERIAL_VERSION, FAMILY);
    w.i32(config.buckets()).i32(config.frequentMapSize()).i32(config.hllLgK()).i32(config.kllK());
    w.i64(documents).i64(tokens).i64(predictedTokens).i64(overThreshold).i64(changed).i64(deleted)
        .i64(scoredDocuments).i64(minTimestamp).i64(maxTimestamp);
    w.f64(nllSum).f64(docNllSum).f64(docNllSumSq);
    for (long c : ngrams) {
      w.i64(c);
    }
    for (long h : histogram) {
      w.i64(h);
    }
    for (long[] counts : buckets) {
      int nonZero = 0;
      for (long c : counts) {
        nonZero += c != 0 ? 1 : 0;
      }
      w.varint(nonZero);
      int last = -1;
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] != 0) {
          w.varint(i - last - 1).varint(counts[i]);
          last = i;
        }
      }
    }
    for (LongsSketch fi : frequent) {
      w.blob(fi.toByteArray());
    }
    for (HllSketch hll : distinct) {
      w.blob(hll.toCompactByteArray());
    }
    w.blob(tokenProbs.toByteArray());
    w.blob(docNlls.toByteArray());
    return w.finish();
  }

  /**
   * Reads {@link #toByteArray()} output. Every header byte and the checksum are verified; damaged
   * input throws {@link SummaryFormatException}, never a summary with wrong numbers.
   */
  public static WindowSummary fromBytes(byte[] bytes) {
    try {
      return deserialize(bytes);
    } catch (NoClassDefFoundError e) {
      throw missingForeignModule(e);
    }
  }

  private static WindowSummary deserialize(byte[] bytes) {
    Codec.Reader r = new Codec.Reader(bytes, WHAT, MAGIC, SERIAL_VERSION, FAMILY);
    SummaryConfig config;
    try {
      config = new SummaryConfig(r.i32(), r.i32(), r.i32(), r.i32());
    } catch (SummaryFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw r.corrupt("config (bytes 8-23): " + e.getMessage(), e);
    }
    WindowSummary s = new WindowSummary(config);
    s.documents = r.nonNegative("documents");
    s.tokens = r.nonNegative("tokens");
    s.predictedTokens = r.nonNegative("predictedTokens");
    s.overThreshold = r.nonNegative("overThreshold");
    s.changed = r.nonNegative("changed");
    s.deleted = r.nonNegative("deleted");
    s.scoredDocuments = r.nonNegative("scoredDocuments");
    s.minTimestamp = r.i64();
    s.maxTimestamp = r.i64();
    s.nllSum = r.f64();
    s.docNllSum = r.f64();
    s.docNllSumSq = r.f64();
    for (int n = 0; n < ORDERS; n++) {
      s.ngrams[n] = r.nonNegative("ngrams[" + (n + 1) + "]");
    }
    for (int i = 0; i < HIST_BINS; i++) {
      s.histogram[i] = r.nonNegative("histogram[" + i + "]");
    }
    for (int n = 0; n < ORDERS; n++) {
      long nonZero = r.varint();
      r.check(nonZero > config.buckets() ? nonZero : 0, 0, "non-zero bucket count of order " + (n + 1)
          + " (at most " + config.buckets() + ")", "");
      long[] counts = s.buckets[n];
      long idx = -1;
      long total = 0;
      for (long k = 0; k < nonZero; k++) {
        idx += r.varint() + 1;
        if (idx >= counts.length) {
          throw r.corrupt("bucket index of order " + (n + 1) + " must be below " + counts.length + ": " + idx,
              null);
        }
        long c = r.varint();
        counts[(int) idx] = c;
        total += c;
      }
      r.check(total, s.ngrams[n], "bucket total of order " + (n + 1), "");
    }
    try {
      for (int n = 0; n < ORDERS; n++) {
        LongsSketch fi = LongsSketch.getInstance(Memory.wrap(r.blob("frequent items")));
        r.check(fi.getMaximumMapCapacity(), new LongsSketch(config.frequentMapSize()).getMaximumMapCapacity(),
            "frequent-items map capacity", "");
        s.frequent[n] = fi;
      }
      for (int n = 0; n < ORDERS; n++) {
        HllSketch hll = HllSketch.heapify(r.blob("hll"));
        r.check(hll.getLgConfigK(), config.hllLgK(), "HLL lgK", "");
        s.distinct[n] = hll.getTgtHllType() == TgtHllType.HLL_4 ? hll : hll.copyAs(TgtHllType.HLL_4);
      }
      s.tokenProbs = KllFloatsSketch.heapify(Memory.wrap(r.blob("token probability KLL")));
      s.docNlls = KllFloatsSketch.heapify(Memory.wrap(r.blob("document NLL KLL")));
      r.check(s.tokenProbs.getK(), config.kllK(), "token probability KLL k", "");
      r.check(s.docNlls.getK(), config.kllK(), "document NLL KLL k", "");
    } catch (SketchesException e) {
      throw r.corrupt("sketch: " + e.getMessage(), e);
    }
    r.end();
    return s;
  }

  @Override
  public String toString() {
    return "WindowSummary{documents=" + documents + ", tokens=" + tokens + ", predictedTokens="
        + predictedTokens + ", meanNll=" + meanNll() + ", ngrams=" + Arrays.toString(ngrams)
        + ", config=" + config + "}";
  }
}
