package io.toedit.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Probe (a main, not a test): float32 vs bfloat16 / float16 {@code linear} on the MLP shape through the shipped
 * libtorch, one process, variants timed round-robin. Every reduced-precision tensor stays inside TorchScript: the
 * weight is converted once and Java holds it only as an opaque {@link IValue} that it passes back to later calls,
 * so DJL never creates an NDArray of a dtype it cannot handle. Reports per-variant median wall time, on-CPU time of
 * all the process's threads (GFLOP/s per core) and error against a float64 product. Add {@code ONEDNN_VERBOSE=1}
 * (and {@code MKL_VERBOSE=1}) to the environment to see which kernel and ISA ran.
 *
 * <pre>
 * mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --add-modules=jdk.incubator.foreign,jdk.incubator.vector -Dai.djl.pytorch.num_threads=1 \
 *   -Dai.djl.pytorch.num_interop_threads=1 -Dai.djl.offline=true -Dai.djl.default_engine=PyTorch \
 *   [-Dprobe.only=REGEX] -cp target/classes:target/test-classes:$(cat target/cp.txt) \
 *   io.toedit.model.Bf16MatmulProbe [reps=7] [rows... = 512 1024]
 * </pre>
 *
 * <p>Findings on the 2-vCPU Emerald Rapids host (AVX512_BF16 and AVX512_FP16, no AMX exposed), 2026-12-01: every bf16
 * variant runs oneDNN {@code brgemm/brg_matmul:avx512_core_bf16} at 78-82 GFLOP/s per core, 0.55x float32
 * (139-165 GFLOP/s), because {@code vdpbf16ps zmm} issues at one per two cycles against two FMAs per cycle; float16
 * ({@code brg_matmul:avx10_1_512}) matches float32 speed. Only AMX would make bf16 faster on this CPU.
 *
 * <p>The same CPU model with AMX exposed (a later host, 2026-12-01 evening, {@code amx_bf16 amx_tile} in
 * {@code /proc/cpuinfo}): bf16 runs {@code brg_matmul:avx10_1_512_amx}; at {@code [2048, 2048] x [2048, 8192]}, one
 * thread, 5 reps: bf16 {@code linear} (operand and result conversions included) 301 GFLOP/s per core, 2.42x float32's
 * 124; prepacked {@code _linear_pointwise} 252, {@code mkldnn_linear} 217.
 */
public final class Bf16MatmulProbe {

  static final long BF16 = 15;
  static final long F32 = 6;

  /** A module whose forward runs on raw IValues (so bf16 tensors never become NDArrays). */
  static final class Raw implements AutoCloseable {
    final TorchScriptModule m;
    final PtSymbolBlock block;

    Raw(NDManager mgr, String cls, String params, String... body) throws Exception {
      m = new TorchScriptModule(mgr, cls, params, body);
      Field f = TorchScriptModule.class.getDeclaredField("block");
      f.setAccessible(true);
      block = (PtSymbolBlock) f.get(m);
    }

    IValue forward(IValue... in) {
      return block.forward(in);
    }

    @Override
    public void close() {
      m.close();
    }
  }

  static Raw tryModule(NDManager mgr, String cls, String params, String... body) {
    try {
      return new Raw(mgr, cls, params, body);
    } catch (Throwable t) {
      System.out.println("  [compile failed] " + cls + ": " + firstLines(t));
      return null;
    }
  }

  static String firstLines(Throwable t) {
    String s = String.valueOf(t.getMessage());
    String[] l = s.split("\n");
    return String.join(" | ", Arrays.copyOf(l, Math.min(l.length, Integer.getInteger("probe.errlines", 4))));
  }

  interface Variant {
    NDArray run(NDManager out);
  }

  public static void main(String[] args) throws Exception {
    int reps = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    long[] rowsList = args.length > 1
        ? Arrays.stream(Arrays.copyOfRange(args, 1, args.length)).mapToLong(Long::parseLong).toArray()
        : new long[] {512, 1024};
    String only = System.getProperty("probe.only", "");
    long k = 2048;
    long n = 8192;
    try (NDManager mgr = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      PtNDManager pm = (PtNDManager) mgr;
      // Weights as the model holds them: [out, in] float32, ~N(0, 0.02).
      NDArray w = mgr.randomNormal(0f, 0.02f, new Shape(n, k), ai.djl.ndarray.types.DataType.FLOAT32);

      // ---- weight preparation modules (run once) ----
      Raw toBf16 = tryModule(mgr, "PrepBf16", "w: Tensor", "return torch.to(w, " + BF16 + ")");
      Raw toBf16T = tryModule(mgr, "PrepBf16T", "w: Tensor",
          "return torch.contiguous(torch.t(torch.to(w, " + BF16 + ")))");
      Raw pack = tryModule(mgr, "PrepPack", "w: Tensor, bs: int",
          "return ops.mkldnn._reorder_linear_weight(torch.to(w, " + BF16 + "), bs)");
      Raw packF32 = tryModule(mgr, "PrepPackF32", "w: Tensor, bs: int",
          "return ops.mkldnn._reorder_linear_weight(w, bs)");
      Raw packMkl = tryModule(mgr, "PrepPackMkl", "w: Tensor, bs: int",
          "return ops.mkl._mkl_reorder_linear_weight(w, bs)");
      Raw toMkldnn = tryModule(mgr, "PrepToMkldnn", "w: Tensor",
          "return torch.to_mkldnn(torch.to(w, " + BF16 + "))");

      IValue wIv = IValue.from((PtNDArray) w);
      IValue wB = toBf16 == null ? null : toBf16.forward(wIv);
      IValue wBT = toBf16T == null ? null : toBf16T.forward(wIv);
      System.out.println("bf16 weight IValue type: " + (wB == null ? "-" : wB.getType()));

      // ---- compute modules ----
      Raw f32Linear = tryModule(mgr, "F32Linear", "x: Tensor, w: Tensor", "return torch.linear(x, w)");
      Raw f32Matmul = tryModule(mgr, "F32Matmul", "x: Tensor, w: Tensor", "return torch.matmul(x, torch.t(w))");
      Raw bLinear = tryModule(mgr, "BLinear", "x: Tensor, w: Tensor",
          "return torch.to(torch.linear(torch.to(x, " + BF16 + "), w), " + F32 + ")");
      Raw bMatmulT = tryModule(mgr, "BMatmulT", "x: Tensor, w: Tensor",
          "return torch.to(torch.matmul(torch.to(x, " + BF16 + "), torch.t(w)), " + F32 + ")");
      Raw bMmKN = tryModule(mgr, "BMmKN", "x: Tensor, wt: Tensor",
          "return torch.to(torch.mm(torch.to(x, " + BF16 + "), wt), " + F32 + ")");
      Raw bMmOutDtype = tryModule(mgr, "BMmOutDtype", "x: Tensor, w: Tensor",
          "return torch.mm(torch.to(x, " + BF16 + "), torch.t(w), " + F32 + ")");
      Raw bAddmmAct = tryModule(mgr, "BAddmmAct", "x: Tensor, w: Tensor, b: Tensor",
          "return torch.to(torch._addmm_activation(b, torch.to(x, " + BF16 + "), torch.t(w)), " + F32 + ")");
      Raw bPointwise = tryModule(mgr, "BPointwise", "x: Tensor, w: Tensor",
          "_0 = annotate(List[Optional[number]], [])",
          "return torch.to(ops.mkldnn._linear_pointwise(torch.to(x, " + BF16 + "), w, None, \"none\", _0, \"\"), "
              + F32 + ")");
      Raw fPointwise = tryModule(mgr, "FPointwise", "x: Tensor, w: Tensor",
          "_0 = annotate(List[Optional[number]], [])",
          "return ops.mkldnn._linear_pointwise(x, w, None, \"none\", _0, \"\")");
      Raw fMkl = tryModule(mgr, "FMklLinear", "x: Tensor, wp: Tensor, w: Tensor, bs: int",
          "return ops.mkl._mkl_linear(x, wp, w, None, bs)");
      Raw bMkldnnLinear = tryModule(mgr, "BMkldnnLinear", "x: Tensor, w: Tensor",
          "return torch.to(torch.to_dense(torch.mkldnn_linear(torch.to_mkldnn(torch.to(x, " + BF16 + ")), w)), "
              + F32 + ")");
      Raw simBf16In = tryModule(mgr, "SimBf16In", "x: Tensor, w: Tensor",
          "return torch.linear(torch.to(torch.to(x, " + BF16 + "), " + F32 + "), torch.to(w, " + F32 + "))");
      Raw toF16 = tryModule(mgr, "PrepF16", "w: Tensor", "return torch.to(w, 5)");
      Raw hLinear = tryModule(mgr, "HLinear", "x: Tensor, w: Tensor",
          "return torch.to(torch.linear(torch.to(x, 5), w), " + F32 + ")");
      Raw f64Ref = tryModule(mgr, "F64Ref", "x: Tensor, w: Tensor",
          "return torch.to(torch.linear(torch.to(x, 7), torch.to(w, 7)), " + F32 + ")");

      for (long m : rowsList) {
        System.out.printf("%n=== [%d,%d]x[%d,%d]  reps=%d  threads=%s  load %s%n", m, k, k, n, reps,
            System.getProperty("ai.djl.pytorch.num_threads"), load());
        // RMS-normalised activations: rows of N(0,1) scaled to unit RMS, times a gain ~ 1 +- 0.3.
        NDArray x0 = mgr.randomNormal(new Shape(m, k));
        NDArray rms = x0.square().mean(new int[] {1}, true).sqrt();
        NDArray gain = mgr.randomNormal(1f, 0.3f, new Shape(1, k), ai.djl.ndarray.types.DataType.FLOAT32);
        NDArray x = x0.div(rms).mul(gain);
        IValue xIv = IValue.from((PtNDArray) x);

        IValue packed = null;
        if (pack != null) {
          try {
            packed = pack.forward(wIv, IValue.from(m));
            System.out.println("packed bf16 weight IValue type: " + packed.getType());
          } catch (Throwable t) {
            System.out.println("  [pack failed] " + firstLines(t));
          }
        }
        IValue packedF = null;
        if (packF32 != null) {
          try {
            packedF = packF32.forward(wIv, IValue.from(m));
          } catch (Throwable t) {
            System.out.println("  [packF32 failed] " + firstLines(t));
          }
        }
        IValue packedMkl = null;
        if (packMkl != null) {
          try {
            packedMkl = packMkl.forward(wIv, IValue.from(m));
          } catch (Throwable t) {
            System.out.println("  [packMkl failed] " + firstLines(t));
          }
        }
        IValue wMk = null;
        if (toMkldnn != null) {
          try {
            wMk = toMkldnn.forward(wIv);
          } catch (Throwable t) {
            System.out.println("  [to_mkldnn failed] " + firstLines(t));
          }
        }
        IValue biasB = null;
        if (toBf16 != null) {
          NDArray zb = mgr.zeros(new Shape(n));
          biasB = toBf16.forward(IValue.from((PtNDArray) zb));
        }

        Map<String, Variant> vs = new LinkedHashMap<>();
        add(vs, "f32 linear", f32Linear, pm, xIv, wIv);
        add(vs, "f32 matmul(x,w^T)", f32Matmul, pm, xIv, wIv);
        add(vs, "a bf16 linear", bLinear, pm, xIv, wB);
        add(vs, "a bf16 matmul(x,w^T)", bMatmulT, pm, xIv, wB);
        add(vs, "a bf16 mm(x,wKN)", bMmKN, pm, xIv, wBT);
        add(vs, "c bf16 mm out_dtype", bMmOutDtype, pm, xIv, wB);
        add(vs, "c bf16 _addmm_activation", bAddmmAct, pm, biasB, xIv, wB);
        add(vs, "b bf16 _linear_pointwise packed", bPointwise, pm, xIv, packed);
        add(vs, "b f32 _linear_pointwise packed", fPointwise, pm, xIv, packedF);
        add(vs, "f32 mkl packed _mkl_linear", fMkl, pm, xIv, packedMkl, wIv, IValue.from(m));
        add(vs, "sim bf16-in, f32 acc+out (accuracy)", simBf16In, pm, xIv, wB);
        add(vs, "f16 linear (avx512_fp16?)", hLinear, pm, xIv, toF16 == null ? null : toF16.forward(wIv));
        add(vs, "b bf16 mkldnn_linear", bMkldnnLinear, pm, xIv, wMk);
        if (!only.isEmpty()) {
          vs.keySet().removeIf(key -> !key.startsWith("f32 linear") && !key.matches(only));
        }

        // Accuracy against a float64 reference.
        NDArray ref = f64Ref == null ? null : callTensor(f64Ref, pm, xIv, wIv);
        float refMax = ref == null ? 1f : ref.abs().max().getFloat();
        Map<String, Variant> ok = new LinkedHashMap<>();
        for (var e : vs.entrySet()) {
          try (NDManager scope = mgr.newSubManager()) {
            NDArray y = e.getValue().run(scope);
            if (ref != null) {
              NDArray d = y.sub(ref).abs();
              float maxAbs = d.max().getFloat();
              float rmsErr = (float) Math.sqrt(d.square().mean().getFloat());
              float rmsRef = (float) Math.sqrt(ref.square().mean().getFloat());
              NDArray big = ref.abs().gt(0.1f * rmsRef);
              float maxRelBig = d.div(ref.abs().add(1e-30f)).mul(big.toType(y.getDataType(), false)).max().getFloat();
              System.out.printf("  acc %-34s max|err| %.3e  max|err|/max|y| %.3e  rms err/rms y %.3e  "
                  + "max rel (|y|>0.1 rms) %.3e   (rms y %.3f)%n",
                  e.getKey(), maxAbs, maxAbs / refMax, rmsErr / rmsRef, maxRelBig, rmsRef);
            }
            ok.put(e.getKey(), e.getValue());
          } catch (Throwable t) {
            System.out.println("  [run failed] " + e.getKey() + ": " + firstLines(t));
          }
        }

        double flops = 2.0 * m * k * n;
        Map<String, List<double[]>> times = new LinkedHashMap<>();
        ok.keySet().forEach(key -> times.put(key, new ArrayList<>()));
        for (int r = -2; r < reps; r++) {                     // two warm-up rounds, round-robin A/B
          for (var e : ok.entrySet()) {
            try (NDManager scope = mgr.newSubManager()) {
              long c0 = cpuNanos();
              long t0 = System.nanoTime();
              NDArray y = e.getValue().run(scope);
              long t1 = System.nanoTime();
              long c1 = cpuNanos();
              if (r >= 0) {
                times.get(e.getKey()).add(new double[] {(t1 - t0) / 1e9, (c1 - c0) / 1e9});
              }
              y.close();
            }
          }
        }
        System.out.printf("  %-34s %9s %9s %12s %12s %8s%n", "variant", "wall ms", "cpu ms", "GF/s wall",
            "GF/s/core", "vs f32");
        double base = 0;
        for (var e : times.entrySet()) {
          double wall = median(e.getValue(), 0);
          double cpu = median(e.getValue(), 1);
          double perCore = flops / cpu / 1e9;
          if (base == 0) {
            base = perCore;
          }
          System.out.printf("  %-34s %9.1f %9.1f %12.1f %12.1f %7.2fx%n", e.getKey(), wall * 1e3, cpu * 1e3,
              flops / wall / 1e9, perCore, perCore / base);
        }
        System.out.println("  load after: " + load());
      }
    }
  }

  static void add(Map<String, Variant> vs, String name, Raw mod, PtNDManager pm, IValue... in) {
    if (mod == null || Arrays.stream(in).anyMatch(v -> v == null)) {
      System.out.println("  [skip] " + name);
      return;
    }
    vs.put(name, out -> callTensor(mod, (PtNDManager) out, in));
  }

  static NDArray callTensor(Raw mod, PtNDManager out, IValue... in) {
    try (IValue r = mod.forward(in)) {
      return r.toTensor(out);
    }
  }

  /** On-CPU nanoseconds of all threads of this process (schedstat), including native OpenMP workers. */
  static long cpuNanos() {
    long sum = 0;
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    for (java.io.File t : tasks) {
      try {
        String s = java.nio.file.Files.readString(t.toPath().resolve("schedstat"));
        sum += Long.parseLong(s.substring(0, s.indexOf(' ')));
      } catch (Exception e) {
        // thread ended
      }
    }
    return sum;
  }

  static double median(List<double[]> l, int i) {
    double[] a = l.stream().mapToDouble(v -> v[i]).sorted().toArray();
    return a[a.length / 2];
  }

  static String load() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (Exception e) {
      return "?";
    }
  }
}
