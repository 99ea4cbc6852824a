package io.toedit.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.toedit.text.TokenScores;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Scorer} of a Llama checkpoint: one set of weights, {@code workers} threads running forward
 * passes on it. Thread-safe: concurrent {@link #score} calls share the workers.
 *
 * <p>Batching: every sequence is cut into windows (see {@link #windows}), windows are sorted by length and
 * packed into padded batches of at most {@code maxBatchTokens} tokens (B x T), and the batches go to the
 * workers longest first. Results are reassembled in input order.
 */
final class DjlScorer implements Scorer {

  private static final Logger LOG = LoggerFactory.getLogger(DjlScorer.class);

  private final LlamaModel model;
  private final ModelSettings settings;
  private final ExecutorService workers;
  private final String modelId;
  private final boolean cpu;             // the model runs on the CPU (passes are spread over the workers)
  private final String device;
  private final int window;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final java.util.concurrent.atomic.LongAccumulator largestPass =
      new java.util.concurrent.atomic.LongAccumulator(Math::max, 0);

  /** One window of one sequence: ids [start, end) are fed, targets [firstTarget, end) are kept. */
  record Window(int seq, int start, int end, int firstTarget) {
    int length() {
      return end - start;
    }
  }

  private DjlScorer(LlamaModel model, ModelSettings settings, String modelId, String device, int window) {
    this.model = model;
    this.settings = settings;
    this.modelId = modelId;
    this.device = device;
    this.cpu = model.onCpu();
    this.window = window;
    int threads = settings.threadsPerWorker();
    AtomicInteger n = new AtomicInteger();
    this.workers = Executors.newFixedThreadPool(settings.workers(), r -> {
      Thread th = new Thread(() -> {
        // PyTorch/MKL thread counts are partly thread-local: set them in every worker thread
        JniUtils.setNumThreads(threads);
        r.run();
      }, "toedit-scorer-" + n.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
  }

  static DjlScorer open(ModelSettings s) {
    validate(s);
    Path dir = s.resolvedModelDir();
    LlamaConfig cfg = LlamaConfig.load(dir);
    int window = window(s, cfg, dir);
    if (s.windowOverlap() >= window) {
      throw new IllegalArgumentException("windowOverlap " + s.windowOverlap() + " must be smaller than windowTokens "
          + window);
    }
    if (window > cfg.maxPositionEmbeddings()) {
      LOG.warn("windowTokens {} exceeds max_position_embeddings {} of {}: positions beyond it were never trained",
          window, cfg.maxPositionEmbeddings(), dir);
    }
    if (s.topK() > cfg.vocabSize()) {
      throw new IllegalArgumentException("topK " + s.topK() + " exceeds the vocabulary size " + cfg.vocabSize());
    }
    Engine engine = Engine.getEngine("PyTorch");
    int gpus = engine.getGpuCount();
    Device dev = switch (s.device().toLowerCase(Locale.ROOT)) {
      case "cpu" -> Device.cpu();
      case "gpu" -> {
        if (gpus == 0) {
          throw new IllegalArgumentException("device=gpu but DJL/PyTorch sees no GPU (Engine.getGpuCount() = 0, "
              + "engine " + engine.getVersion() + "). Build with `mvn -Pcuda package` on a CUDA 12.4+ machine, "
              + "or use device=auto or cpu.");
        }
        yield Device.gpu();
      }
      case "auto" -> gpus > 0 ? Device.gpu() : Device.cpu();
      default -> throw new IllegalArgumentException("device must be auto, cpu or gpu, got '" + s.device() + "'");
    };
    JniUtils.setNumThreads(s.threadsPerWorker());
    if (JniUtils.getNumInteropThreads() != 1) {
      try {
        JniUtils.setNumInteropThreads(1); // workers are the parallelism; only possible before the first op
      } catch (RuntimeException e) {
        LOG.warn("Could not set PyTorch inter-op threads to 1 (start the JVM with "
            + "-Dai.djl.pytorch.num_interop_threads=1): {}", e.getMessage());
      }
    }
    boolean gpu = !Device.Type.CPU.equals(dev.getDeviceType());
    ComputeDtype dtype = ComputeDtype.resolve(s.dtype(), gpu);
    String measured = "";
    if (!gpu) {
      DtypeProbe.Result[] probe = new DtypeProbe.Result[1];
      dtype = ComputeDtype.resolveOnCpu(s.dtype(), Models.float32WeightBytes(dir) >= Models.LARGE_MODEL_BYTES,
          s.attention(), () -> {
            try (NDManager pm = NDManager.newBaseManager(dev, "PyTorch")) {
              probe[0] = DtypeProbe.measure(pm, cfg.hiddenSize());
            }
            return probe[0].bfloat16Speedup();
          });
      measured = probe[0] == null ? "" : ": " + probe[0];
    }
    AttentionKernel attention = resolve(s.attention(), dev, cfg.headDim(), dtype);
    LOG.info("Scoring device {} (requested {}, Engine.getGpuCount() = {}, PyTorch {}); {} workers x {} intra-op "
        + "threads; attention {} (requested {}); dtype {} (requested {}{})", dev, s.device(), gpus,
        engine.getVersion(), s.workers(), s.threadsPerWorker(), attention, s.attention(), dtype, s.dtype(), measured);
    long loadStart = System.nanoTime();
    NDManager base = NDManager.newBaseManager(dev, "PyTorch");
    LlamaModel model;
    try {
      model = new LlamaModel(dir, cfg, base, window, attention, dtype);
      model.attentionThreads(s.threadsPerWorker());
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
    LOG.info("Loaded {} ({}, {} layers, hidden {}, vocabulary {}) in {} ms; weights digest {}; window {}", dir,
        cfg.modelType(), cfg.numLayers(), cfg.hiddenSize(), cfg.vocabSize(),
        (System.nanoTime() - loadStart) / 1_000_000, model.digest(), window);
    String name = s.modelDir() == null ? BundledModel.NAME : dir.toAbsolutePath().normalize().getFileName().toString();
    // a 16-bit pass gives other numbers than a float32 one on the same weights: the id says which ran
    String id = name + "@" + model.digest() + (dtype.reduced() ? "+" + dtype : "");
    return new DjlScorer(model, s, id, dev.toString(), window);
  }

  /**
   * The scoring window: {@code windowTokens}, or by default min(max_position_embeddings, maxBatchTokens), never
   * more than {@code maxBatchTokens} (a pass holds one window at least). A {@code mistral} sliding window is
   * masked by every kernel ({@link Attention#slidingMask}), so the scoring window may exceed it; a {@code qwen2}
   * one ({@code use_sliding_window}, per layer from {@code max_window_layers}) is not, so there the window is
   * capped at {@code sliding_window}, within which both are plain causal attention.
   */
  static int window(ModelSettings s, LlamaConfig cfg, Path dir) {
    int window = s.windowTokens() > 0 ? s.windowTokens()
        : Math.min(cfg.maxPositionEmbeddings(), s.maxBatchTokens());
    if (window > s.maxBatchTokens()) {
      throw new IllegalArgumentException("windowTokens " + window + " exceeds maxBatchTokens " + s.maxBatchTokens()
          + ": a forward pass holds at least one window (raise --max-batch-tokens or lower --window)");
    }
    if (cfg.slidingWindow() > 0 && window > cfg.slidingWindow() && Attention.slidingMask(cfg) == 0) {
      if (s.windowTokens() > 0) {
        throw new IllegalArgumentException("windowTokens " + window + " exceeds config.json field 'sliding_window' "
            + cfg.slidingWindow() + " of " + dir + ": the per-layer sliding window of model_type '" + cfg.modelType()
            + "' is not implemented; attention is exact only within one window (use --window "
            + cfg.slidingWindow() + " or less)");
      }
      LOG.info("Scoring window {} = config.json sliding_window (tokens further back are seen through the window "
          + "overlap only)", cfg.slidingWindow());
      window = cfg.slidingWindow();
    }
    if (Attention.slidingMask(cfg) > 0 && window > Attention.slidingMask(cfg)) {
      LOG.info("Sliding-window attention: each position sees its last {} tokens (config.json sliding_window) "
          + "within the scoring window {}", cfg.slidingWindow(), window);
    }
    return window;
  }

  /**
   * The kernel for {@code auto}: on a CPU the Java Vector API kernel when the JVM has the module and
   * head_dim is a multiple of 8 (stories260k, head_dim 8: 2.4x the whole pass; a random 2-layer model with
   * head_dim 64: 3-5 % faster than ndarray and sdpa, and bit-identical across batching either way); on
   * a GPU PyTorch's fused SDPA. An explicit {@code simd} on a GPU is an error.
   */
  static AttentionKernel resolve(AttentionKernel requested, Device dev, int headDim) {
    return resolve(requested, dev, headDim, ComputeDtype.FLOAT32);
  }

  /**
   * As {@link #resolve(AttentionKernel, Device, int)} for a resolved dtype: a 16-bit dtype runs attention in
   * PyTorch's sdpa inside each layer ({@link ReducedPrecision}), so {@code auto} is {@code sdpa} and an explicit
   * {@code simd} or {@code ndarray} is an error.
   */
  static AttentionKernel resolve(AttentionKernel requested, Device dev, int headDim, ComputeDtype dtype) {
    if (dtype.reduced()) {
      if (requested == AttentionKernel.AUTO || requested == AttentionKernel.SDPA) {
        return AttentionKernel.SDPA;
      }
      throw new IllegalArgumentException("dtype=" + dtype + " runs attention in PyTorch's sdpa; attention="
          + requested + " computes in float32 (use attention=auto or sdpa, or dtype=float32)");
    }
    boolean gpu = !Device.Type.CPU.equals(dev.getDeviceType());
    if (requested == AttentionKernel.SIMD && gpu) {
      throw new IllegalArgumentException("attention=simd runs on the CPU only; the scoring device is " + dev
          + " (use attention=auto or sdpa)");
    }
    if (requested != AttentionKernel.AUTO) {
      return requested;
    }
    if (gpu) {
      return AttentionKernel.SDPA;
    }
    return AttentionKernel.simdSupports(headDim)
        ? AttentionKernel.SIMD : AttentionKernel.NDARRAY;
  }

  private static void validate(ModelSettings s) {
    check(s.workers() >= 1, "workers must be >= 1, got " + s.workers());
    check(s.threadsPerWorker() >= 1, "threadsPerWorker must be >= 1, got " + s.threadsPerWorker());
    check(s.topK() >= 1, "topK must be >= 1, got " + s.topK());
    check(s.maxBatchTokens() >= 1, "maxBatchTokens must be >= 1, got " + s.maxBatchTokens());
    check(s.windowTokens() >= 0, "windowTokens must be >= 0 (0 = max_position_embeddings), got " + s.windowTokens());
    check(s.windowOverlap() >= 0, "windowOverlap must be >= 0, got " + s.windowOverlap());
    check(s.attentionBudget() >= 1, "attentionBudget must be >= 1, got " + s.attentionBudget());
    check(s.attention() != null, "attention kernel must be set (auto, simd, sdpa or ndarray)");
    check(s.dtype() != null, "dtype must be set (auto, float32, bfloat16 or float16)");
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * Windows over a sequence of {@code n} ids. The first window feeds ids [0, w) and keeps targets 1..w-1;
   * each later one starts {@code max(1, overlap)} ids before the previous end, so every kept target has at
   * least that many ids of context (a window's first target needs at least the id before it: with overlap 0
   * the first target of every later window had no row and took the previous row of its pass), and keeps only
   * targets not scored before. Every target 1..n-1 is kept exactly once.
   */
  static List<Window> windows(int seq, int n, int w, int overlap) {
    List<Window> out = new ArrayList<>();
    if (n < 2) {
      return out;
    }
    int end = Math.min(n, w);
    out.add(new Window(seq, 0, end, 1));
    while (end < n) {
      int start = end - Math.max(1, overlap);
      int next = Math.min(n, start + w);
      out.add(new Window(seq, start, next, end));
      end = next;
    }
    return out;
  }

  /**
   * The token budget of one call's passes: {@code maxTokens}, or on a CPU with several workers less, so that a
   * call that fits in fewer passes than there are workers is still spread over all of them (one pass runs on
   * one worker: four 500-token documents were one 2,000-token pass on one of two cores). Never below the
   * longest window. Scores do not change (float32 on a CPU is batch-invariant); on a GPU one large pass is
   * kept.
   */
  static int passBudget(List<Window> all, int maxTokens, int workers, boolean cpu) {
    if (!cpu || workers <= 1 || all.size() <= 1) {
      return maxTokens;
    }
    int longest = 0;
    for (Window w : all) {
      longest = Math.max(longest, w.length());
    }
    // padded tokens of an even share of the windows, each counted at the longest length (passes are padded)
    long share = (long) ((all.size() + workers - 1) / workers) * longest;
    return (int) Math.min(maxTokens, share);
  }

  /** Packs windows, sorted longest first, into batches of at most {@code maxTokens} padded tokens. */
  static List<List<Window>> batches(List<Window> all, int maxTokens) {
    List<Window> sorted = new ArrayList<>(all);
    sorted.sort(Comparator.comparingInt(Window::length).reversed());
    List<List<Window>> out = new ArrayList<>();
    List<Window> cur = new ArrayList<>();
    int t = 0;
    for (Window w : sorted) {
      if (cur.isEmpty()) {
        t = w.length();
      } else if ((long) (cur.size() + 1) * t > maxTokens) {
        out.add(cur);
        cur = new ArrayList<>();
        t = w.length();
      }
      cur.add(w);
    }
    if (!cur.isEmpty()) {
      out.add(cur);
    }
    return out;
  }

  @Override
  public List<TokenScores> score(List<int[]> sequences) {
    if (closed.get()) {
      throw new IllegalStateException("Scorer " + modelId + " is closed");
    }
    int k = settings.topK();
    int vocab = model.config().vocabSize();
    List<Window> all = new ArrayList<>();
    float[][] lp = new float[sequences.size()][];
    int[][][] ids = new int[sequences.size()][][];
    float[][][] lps = new float[sequences.size()][][];
    for (int i = 0; i < sequences.size(); i++) {
      int[] seq = sequences.get(i);
      for (int j = 0; j < seq.length; j++) {
        if (seq[j] < 0 || seq[j] >= vocab) {
          throw new IllegalArgumentException("sequence " + i + " has token id " + seq[j] + " at position " + j
              + ", outside the vocabulary [0, " + vocab + ")");
        }
      }
      lp[i] = new float[seq.length];
      Arrays.fill(lp[i], Float.NaN);
      ids[i] = new int[seq.length][];
      lps[i] = new float[seq.length][];
      if (seq.length > 0) {
        ids[i][0] = new int[0];
        lps[i][0] = new float[0];
      }
      all.addAll(windows(i, seq.length, window, settings.windowOverlap()));
    }
    List<Future<?>> pending = new ArrayList<>();
    int budget = passBudget(all, settings.maxBatchTokens(), settings.workers(), cpu);
    for (List<Window> batch : batches(all, budget)) {
      pending.add(workers.submit(() -> run(batch, sequences, k, lp, ids, lps)));
    }
    try {
      for (Future<?> f : pending) {
        f.get();
      }
    } catch (InterruptedException e) {
      pending.forEach(f -> f.cancel(true));
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while scoring", e);
    } catch (ExecutionException e) {
      pending.forEach(f -> f.cancel(true));
      throw new IllegalStateException("Forward pass failed on " + device + ": " + e.getCause(), e.getCause());
    }
    List<TokenScores> out = new ArrayList<>(sequences.size());
    for (int i = 0; i < sequences.size(); i++) {
      out.add(new TokenScores(sequences.get(i).clone(), lp[i], ids[i], lps[i]));
    }
    return out;
  }

  /** One forward pass; writes disjoint target positions of the shared result arrays. */
  private void run(List<Window> batch, List<int[]> sequences, int k, float[][] lp, int[][][] ids, float[][][] lps) {
    int t = batch.get(0).length();
    int[][] rows = new int[batch.size()][t];
    int[] lengths = new int[batch.size()];
    for (int b = 0; b < batch.size(); b++) {
      Window w = batch.get(b);
      System.arraycopy(sequences.get(w.seq()), w.start(), rows[b], 0, w.length());
      lengths[b] = w.length();
    }
    largestPass.accumulate((long) rows.length * t);
    LlamaModel.Output o = model.forward(rows, lengths, k, settings.attentionBudget());
    for (int b = 0; b < batch.size(); b++) {
      Window w = batch.get(b);
      for (int target = w.firstTarget(); target < w.end(); target++) {
        int row = b * t + (target - w.start() - 1);
        lp[w.seq()][target] = o.targetLogProbs()[row];
        ids[w.seq()][target] = Arrays.copyOfRange(o.topIds(), row * k, row * k + k);
        lps[w.seq()][target] = Arrays.copyOfRange(o.topLogProbs(), row * k, row * k + k);
      }
    }
  }

  @Override
  public double forwardFlops(List<int[]> sequences) {
    LlamaConfig c = model.config();
    double h = c.hiddenSize();
    double hd = c.headDim();
    double perToken = 2 * (c.numLayers() * (h * (c.numHeads() + 2.0 * c.numKvHeads()) * hd
        + c.numHeads() * hd * h + 3 * h * c.intermediateSize()) + (double) c.vocabSize() * h);
    double perPair = 4 * c.numLayers() * c.numHeads() * hd;           // q.k and p.v, per (query, visible key)
    int slide = Attention.slidingMask(c);
    double flops = 0;
    for (int i = 0; i < sequences.size(); i++) {
      for (Window w : windows(i, sequences.get(i).length, window, settings.windowOverlap())) {
        long n = w.length();
        long pairs = slide > 0 && n > slide ? slide * (slide + 1L) / 2 + (n - slide) * slide : n * (n + 1) / 2;
        flops += n * perToken + pairs * perPair;
      }
    }
    return flops;
  }

  /** Rounds of the matrix-product probe; the best round is the peak (other processes only ever slow it). */
  static final int PEAK_ROUNDS = 5;

  @Override
  public double matmulPeakFlops() {
    int n = settings.workers();
    int rows = Math.max(LlamaModel.ROW_ALIGN, Math.min(1024, settings.maxBatchTokens()));
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(n);
    long[][] begin = new long[PEAK_ROUNDS][n];
    long[][] end = new long[PEAK_ROUNDS][n];
    double[] flops = new double[n];
    List<Future<?>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int w = i;
      done.add(workers.submit(() -> {
        flops[w] = model.matmulProbe(rows, PEAK_ROUNDS, 5, r -> {
          try {
            start.await();                                              // every worker's products at once
          } catch (InterruptedException | java.util.concurrent.BrokenBarrierException e) {
            throw new IllegalStateException(e);
          }
          begin[r][w] = System.nanoTime();
        }, r -> end[r][w] = System.nanoTime());
        return null;
      }));
    }
    try {
      for (Future<?> f : done) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Double.NaN;
    } catch (ExecutionException e) {
      LOG.warn("Matrix-product probe failed: {}", e.getCause().toString());
      return Double.NaN;
    }
    double total = Arrays.stream(flops).sum();
    double best = 0;
    for (int r = 0; r < PEAK_ROUNDS; r++) {
      long wall = Arrays.stream(end[r]).max().getAsLong() - Arrays.stream(begin[r]).min().getAsLong();
      best = Math.max(best, total / (wall / 1e9));
    }
    return best;
  }

  /** Most tokens (B x T, as handed to the model) of any forward pass so far. */
  long largestPass() {
    return largestPass.get();
  }

  /** Test aid: full logits of one short sequence. */
  float[][] logits(int[] ids) {
    return model.logits(ids);
  }

  @Override
  public int topK() {
    return settings.topK();
  }

  @Override
  public String modelId() {
    return modelId;
  }

  @Override
  public String device() {
    return device;
  }

  /** The attention kernel the forward pass runs (AUTO resolved). */
  AttentionKernel attention() {
    return model.attention();
  }

  /** Effective window length (tokens per forward pass at most). */
  int windowTokens() {
    return window;
  }

  @Override
  public void close() {
    if (closed.getAndSet(true)) {
      return;
    }
    workers.shutdown();
    try {
      if (!workers.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)) {
        LOG.warn("Scoring workers still busy 60 s after close(); releasing the weights anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    model.close();
  }
}
