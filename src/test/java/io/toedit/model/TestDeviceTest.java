package io.toedit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TestDeviceTest {

  @Test
  void shouldScoreTheGoldensOnTheCpuUnlessTheGpuIsAskedFor() {
    assertEquals("cpu", TestDevice.parse(null));
    assertEquals("cpu", TestDevice.parse("  "));
    assertEquals("cpu", TestDevice.parse("CPU"));
    assertEquals("gpu", TestDevice.parse(" Gpu "));
  }

  @Test
  void shouldRefuseAnotherDeviceNamingTheProperty() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TestDevice.parse("cuda:0"));
    assertEquals("-Dtoedit.test.device must be cpu or gpu, got 'cuda:0'", e.getMessage());
  }

  @Test
  void shouldLeaveTheCpuOnlySimdKernelOutOnAGpu() {
    assertEquals(List.of(AttentionKernel.SDPA, AttentionKernel.NDARRAY), TestDevice.float32Kernels("gpu"));
    assertTrue(TestDevice.float32Kernels("cpu").contains(AttentionKernel.SIMD));
  }
}
