package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

/** How {@code --attention} is parsed and how {@code auto} resolves. */
class AttentionKernelTest {

  @Test
  void shouldParseAnyCaseAndNameTheChoicesOnError() {
    assertEquals(AttentionKernel.SIMD, AttentionKernel.parse(" SiMd "));
    assertEquals("sdpa", AttentionKernel.SDPA.toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionKernel.parse("flash"));
    assertTrue(e.getMessage().contains("auto, simd, sdpa, ndarray") && e.getMessage().contains("flash"), e.getMessage());
  }

  @Test
  void shouldResolveAutoByDeviceAndHeadDim() {
    // this JVM has jdk.incubator.vector (surefire argLine, like the launcher)
    assertEquals(AttentionKernel.SIMD, DjlScorer.resolve(AttentionKernel.AUTO, Device.cpu(), 8));
    assertEquals(AttentionKernel.SIMD, DjlScorer.resolve(AttentionKernel.AUTO, Device.cpu(), 128));
    assertEquals(AttentionKernel.NDARRAY, DjlScorer.resolve(AttentionKernel.AUTO, Device.cpu(), 12));
    assertEquals(AttentionKernel.SDPA, DjlScorer.resolve(AttentionKernel.AUTO, Device.gpu(), 8));
    assertEquals(AttentionKernel.NDARRAY, DjlScorer.resolve(AttentionKernel.NDARRAY, Device.cpu(), 8));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DjlScorer.resolve(AttentionKernel.SIMD, Device.gpu(), 8));
    assertTrue(e.getMessage().contains("CPU only"), e.getMessage());
  }

  @Test
  void shouldRefuseSimdForAHeadDimThatIsNotAMultipleOf8() {
    assertTrue(AttentionKernel.simdSupports(8) && AttentionKernel.simdSupports(64));
    assertTrue(!AttentionKernel.simdSupports(12) && !AttentionKernel.simdSupports(0));
  }

  @Test
  void shouldBindEachKernelToItsImplementationAndLayout() {
    ai.djl.engine.Engine.getEngine("PyTorch");
    LlamaConfig llama = LlamaConfig.parse(SyntheticModels.config("llama3-tiny"), "llama");
    LlamaConfig qwen3 = LlamaConfig.parse(SyntheticModels.config("qwen3-tiny"), "qwen3");
    try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      // simd applies RoPE on the host: plain q | k | v rows; tensor kernels fuse rotate_half rows unless q/k norms
      // must run before RoPE
      assertTrue(AttentionKernel.SIMD.bind(llama, m, 32) instanceof Attention.Simd);
      assertEquals(false, AttentionKernel.SIMD.bind(llama, m, 32).rotatedRows());
      assertTrue(AttentionKernel.SDPA.bind(llama, m, 32) instanceof Attention.Sdpa);
      assertEquals(true, AttentionKernel.NDARRAY.bind(llama, m, 32).rotatedRows());
      assertEquals(false, AttentionKernel.NDARRAY.bind(qwen3, m, 32).rotatedRows());
      assertEquals((4 + 2 * 2) * 16, AttentionKernel.NDARRAY.bind(qwen3, m, 32).width());
      assertEquals(32 * 8, AttentionKernel.SIMD.bind(llama, m, 32).ropeCos.length, "RoPE table [rows, head_dim]");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> AttentionKernel.AUTO.bind(llama, m, 32));
      assertTrue(e.getMessage().contains("AUTO"), e.getMessage());
    }
  }
}
