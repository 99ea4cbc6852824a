package io.toedit.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * PyTorch's fused {@code torch.scaled_dot_product_attention} (causal, or with a sliding-window mask), which DJL's NDArray API does not
 * expose, reached through a {@link TorchScriptModule}. GQA key/value heads are repeated inside the module
 * (HF {@code repeat_kv} order).
 */
final class SdpaAttention implements AutoCloseable {

  private final TorchScriptModule module;

  SdpaAttention(NDManager manager) {
    module = new TorchScriptModule(manager, "ToEditAttention",
        "q: Tensor, k: Tensor, v: Tensor, group: int, window: int",
        "if group > 1:",
        "  k = torch.repeat_interleave(k, group, 1)",
        "  v = torch.repeat_interleave(v, group, 1)",
        "if window > 0:",
        "  pos = torch.arange(q.size(2), device=q.device)",
        "  back = pos.unsqueeze(1) - pos.unsqueeze(0)",
        "  keep = torch.logical_and(back >= 0, back < window)",
        "  return torch.scaled_dot_product_attention(q, k, v, keep, 0., False, scale=1.)",
        "return torch.scaled_dot_product_attention(q, k, v, None, 0., True, scale=1.)");
  }

  /**
   * Causal attention: q {@code [B, heads, T, hd]} (already scaled), k and v {@code [B, kvHeads, T, hd]};
   * returns {@code [B, heads, T, hd]} attached to {@code m}. With {@code window > 0} the query at position i
   * sees only the keys {@code i - window < j <= i} (a boolean mask, {@code True} = attend, built in the module
   * on q's device); with 0 it is PyTorch's own causal path.
   */
  NDArray attend(NDManager m, NDArray q, NDArray k, NDArray v, int group, int window) {
    return module.call(m, q, k, v, (long) group, (long) window);
  }

  @Override
  public void close() {
    module.close();
  }
}
