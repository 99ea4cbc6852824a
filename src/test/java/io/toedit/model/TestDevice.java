package io.toedit.model;

import java.util.List;
import java.util.Locale;

/**
 * The device the golden tests score on ({@link SyntheticGoldenTest}, {@link SlidingWindowGoldenTest},
 * {@link ReducedPrecisionGoldenTest}): {@code cpu}, the default and what CI runs, or {@code gpu} when the JVM is
 * started with {@code -Dtoedit.test.device=gpu} ({@code ops/gpu/device-check.sh} does that on a CUDA machine).
 * With {@code gpu} and no GPU visible to DJL the tests fail at load ({@code device=gpu but DJL/PyTorch sees no
 * GPU}); they never skip. The CPU-only {@code simd} kernel is not in the kernel lists on a GPU, since
 * {@code attention=simd} is refused there.
 */
final class TestDevice {

  static final String PROPERTY = "toedit.test.device";

  private TestDevice() {
  }

  /** {@code cpu} or {@code gpu}, from the system property. */
  static String name() {
    return parse(System.getProperty(PROPERTY));
  }

  /** {@code cpu} for null or blank; else {@code cpu} or {@code gpu} in any case; anything else is an error. */
  static String parse(String value) {
    String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    if (v.isEmpty()) {
      return "cpu";
    }
    if (!v.equals("cpu") && !v.equals("gpu")) {
      throw new IllegalArgumentException("-D" + PROPERTY + " must be cpu or gpu, got '" + value + "'");
    }
    return v;
  }

  static boolean gpu() {
    return name().equals("gpu");
  }

  /** The float32 attention kernels that run on {@code device}: simd, sdpa and ndarray on a CPU; no simd on a GPU. */
  static List<AttentionKernel> float32Kernels(String device) {
    return device.equals("gpu") ? List.of(AttentionKernel.SDPA, AttentionKernel.NDARRAY)
        : List.of(AttentionKernel.SIMD, AttentionKernel.SDPA, AttentionKernel.NDARRAY);
  }

  static List<AttentionKernel> float32Kernels() {
    return float32Kernels(name());
  }
}
