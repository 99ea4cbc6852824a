package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * {@code dtype=auto} on a CPU ({@link ComputeDtype#resolveOnCpu}): bfloat16 only for a large model whose attention
 * may run in 16 bits and only when this CPU's bfloat16 products measure at least 1.3x float32's; the probe is not
 * run when nothing else allows bfloat16. And the probe itself ({@link DtypeProbe}) on this machine's CPU.
 */
class ComputeDtypeTest {

  private static final DoubleSupplier NEVER = () -> {
    throw new AssertionError("the probe ran although its answer could not change the dtype");
  };

  @Test
  void shouldPickBfloat16OnACpuOnlyForALargeModelWhoseProductsMeasureFaster() {
    assertEquals(ComputeDtype.BFLOAT16, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.AUTO,
        () -> 2.0));                                                     // the Zen 4 host: about 2x
    assertEquals(ComputeDtype.BFLOAT16, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.SDPA,
        () -> 1.3));
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.AUTO,
        () -> 1.29));
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.AUTO,
        () -> 0.55));                                                    // the Emerald Rapids host
  }

  @Test
  void shouldNotProbeWhenTheModelIsSmallTheKernelIsFloat32OrTheDtypeIsGiven() {
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, false, AttentionKernel.AUTO, NEVER));
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.SIMD, NEVER));
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.NDARRAY,
        NEVER));
    assertEquals(ComputeDtype.FLOAT32, ComputeDtype.resolveOnCpu(ComputeDtype.FLOAT32, true, AttentionKernel.AUTO,
        NEVER));
    assertEquals(ComputeDtype.BFLOAT16, ComputeDtype.resolveOnCpu(ComputeDtype.BFLOAT16, false, AttentionKernel.AUTO,
        NEVER));
    AtomicInteger asked = new AtomicInteger();
    ComputeDtype.resolveOnCpu(ComputeDtype.AUTO, true, AttentionKernel.AUTO, () -> asked.incrementAndGet());
    assertEquals(1, asked.get());
  }

  @Test
  void shouldTimeBothDtypesOfTheModelsProductOnThisCpu() {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      DtypeProbe.Result r = DtypeProbe.measure(m, 256);
      assertEquals(256, r.hidden());
      assertTrue(r.float32Seconds() > 0 && r.float32Seconds() < 10, r.toString());
      assertTrue(r.bfloat16Seconds() > 0 && r.bfloat16Seconds() < 10, r.toString());
      assertEquals(r.float32Seconds() / r.bfloat16Seconds(), r.bfloat16Speedup(), 1e-12);
      assertTrue(r.toString().startsWith("bfloat16 products ") && r.toString().contains("[512, 256] x [256, 256]"),
          r.toString());
    }
  }
}
