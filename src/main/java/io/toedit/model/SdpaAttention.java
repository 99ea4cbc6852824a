package io.toedit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * PyTorch's fused {@code torch.scaled_dot_product_attention} (causal), which DJL's NDArray API does not
 * expose, reached through a {@link TorchScriptModule}. GQA key/value heads are repeated inside the module
 * (HF {@code repeat_kv} order).
 */
final class SdpaAttention implements AutoCloseable {

  private final TorchScriptModule module;

  SdpaAttention(NDManager manager) {
    module = new TorchScriptModule(manager, "ToEditAttention", "q: Tensor, k: Tensor, v: Tensor, group: int",
        "if group > 1:",
        "  k = torch.repeat_interleave(k, group, 1)",
        "  v = torch.repeat_interleave(v, group, 1)",
        "return torch.scaled_dot_product_attention(q, k, v, None, 0., True, scale=1.)");
  }

  /**
   * Causal attention: q {@code [B, heads, T, hd]} (already scaled), k and v {@code [B, kvHeads, T, hd]};
   * returns {@code [B, heads, T, hd]} attached to {@code m}.
   */
  NDArray attend(NDManager m, NDArray q, NDArray k, NDArray v, int group) {
    return module.call(m, q, k, v, (long) group);
  }

  @Override
  public void close() {
    module.close();
  }
}
