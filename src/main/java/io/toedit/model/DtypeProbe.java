package io.toedit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.IValue;
import java.util.Locale;

/**
 * How fast this CPU multiplies in bfloat16 against float32, for {@code dtype=auto} ({@link ComputeDtype#resolveOnCpu}):
 * whether bfloat16 pays depends on the core and on what the hypervisor exposes, not on one CPU flag. The 2-vCPU hosts
 * of docs/performance.md all have AVX512_BF16: on the Intel Xeon (Emerald Rapids) without AMX exposed oneDNN's
 * bfloat16 products ran at 0.55x float32's ({@code vdpbf16ps} issues at half the FMA rate), on the same model with
 * AMX exposed at 3.8-4.3x (oneDNN's AMX kernels), on the AMD EPYC (Zen 4) at about 2x.
 *
 * <p>The probe times {@code [ROWS, H] x [H, H]} products (the o_proj shape of the model being loaded) in both dtypes
 * on the calling thread, with its intra-op threads: one untimed product each, then {@link #ROUNDS} alternating
 * rounds of {@link #REPS}; each dtype keeps its fastest round, so a neighbour's burst on a shared host slows a round,
 * not the verdict. At the Llama-3.2-1B width this is about 0.3 s of a 15-25 s load. The bfloat16 operands never
 * become NDArrays (DJL 0.36 cannot hold them): they stay {@link IValue}s inside TorchScript.
 */
final class DtypeProbe {

  /** Rows of the probe's products. */
  static final int ROWS = 512;
  /** Alternating rounds per dtype. */
  static final int ROUNDS = 3;
  /** Products per round. */
  static final int REPS = 2;

  /** Seconds of the fastest round of each dtype, and the shape probed. */
  record Result(int hidden, double float32Seconds, double bfloat16Seconds) {

    /** float32's time over bfloat16's: above 1, bfloat16 products are faster. */
    double bfloat16Speedup() {
      return float32Seconds / bfloat16Seconds;
    }

    @Override
    public String toString() {
      double flop = 2.0 * ROWS * hidden * hidden * REPS;
      return String.format(Locale.ROOT, "bfloat16 products %.2fx float32's on this CPU (%.0f vs %.0f GFLOP/s, "
          + "[%d, %d] x [%d, %d], best of %d rounds)", bfloat16Speedup(), flop / bfloat16Seconds / 1e9,
          flop / float32Seconds / 1e9, ROWS, hidden, hidden, hidden, ROUNDS);
    }
  }

  private DtypeProbe() {
  }

  /** Times the products on {@code base}'s device (the CPU) for a model of width {@code hidden}. */
  static Result measure(NDManager base, int hidden) {
    try (NDManager m = base.newSubManager();
        TorchScriptModule cast = new TorchScriptModule(m, "ToEditProbeCast", "w: Tensor, dt: int",
            "return torch.contiguous(torch.to(w, dt))");
        TorchScriptModule products = new TorchScriptModule(m, "ToEditProbeProducts", "x: Tensor, w: Tensor, reps: int",
            "y = torch.linear(x, w)",
            "for i in range(1, reps):",
            "  y = torch.linear(x, w)",
            "return torch.to(torch.slice(torch.slice(y, 0, 0, 1), 1, 0, 1), 6)")) {
      NDArray x = m.randomUniform(-1f, 1f, new Shape(ROWS, hidden));
      NDArray w = m.randomUniform(-1f, 1f, new Shape(hidden, hidden));
      try (IValue x16 = cast.forward(x, ComputeDtype.BFLOAT16.torchCode);
          IValue w16 = cast.forward(w, ComputeDtype.BFLOAT16.torchCode)) {
        double best32 = Double.MAX_VALUE;
        double best16 = Double.MAX_VALUE;
        for (int r = -1; r < ROUNDS; r++) {
          int reps = r < 0 ? 1 : REPS;
          double t32 = time(m, products, x, w, reps);
          double t16 = time(m, products, x16, w16, reps);
          if (r >= 0) {
            best32 = Math.min(best32, t32);
            best16 = Math.min(best16, t16);
          }
        }
        return new Result(hidden, best32, best16);
      }
    }
  }

  private static double time(NDManager m, TorchScriptModule products, Object x, Object w, int reps) {
    long t0 = System.nanoTime();
    try (NDManager rm = m.newSubManager()) {
      products.call(rm, x, w, (long) reps).getFloat(0, 0);               // waits for the result
    }
    return (System.nanoTime() - t0) / 1e9;
  }
}
