#!/usr/bin/env python3
"""Float64 numpy reference forward for Hugging Face decoder folders (no torch, no transformers).

Architectures (config.json `model_type`):
  llama    GQA, rope_theta, rope_scaling {rope_type|type: "llama3"} as HF `_compute_llama3_parameters`,
           tied or untied lm_head, optional explicit head_dim, attention_bias / mlp_bias
  mistral  llama + sliding-window attention on every layer when `sliding_window` is not null: the query at
           position i sees the keys j with i - sliding_window < j <= i (transformers' masking_utils:
           `sliding_window_overlay`: kv_idx > q_idx - sliding_window, and-ed with the causal kv_idx <= q_idx)
  qwen2    llama + bias on q_proj / k_proj / v_proj (always, as in HF's Qwen2Attention); with
           `use_sliding_window` true, the same sliding mask on layers >= `max_window_layers` (HF Qwen2Config)
  qwen3    llama + explicit head_dim + RMSNorm q_norm / k_norm over head_dim, per head, before RoPE;
           bias only with attention_bias (default false)

Conventions (transformers' modeling_llama/qwen2/qwen3.py and modeling_rope_utils.py):
  RMSNorm(x) = x * rsqrt(mean(x^2) + eps) * w;  RoPE in rotate_half form (pair i with i + head_dim/2);
  inv_freq[i] = theta^(-2i/head_dim);  query head h uses KV head h // (heads / kv_heads) (repeat_kv);
  scores scaled by head_dim^-0.5;  MLP = down(silu(gate(x)) * up(x)).

dtype=np.float32 runs the same forward in float32 (an estimate of what a float32 implementation gets).

    python3 hf_reference.py MODEL_DIR --ids 151643,785,3974     # log P of each next id, top-5 (JSON)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import struct

import numpy as np

_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.uint16, 2), "F64": (np.float64, 8)}


def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


class SafeTensors:
    """Reader of model.safetensors (or the shards of model.safetensors.index.json) in a folder."""

    def __init__(self, model_dir: str):
        single = os.path.join(model_dir, "model.safetensors")
        index = os.path.join(model_dir, "model.safetensors.index.json")
        if os.path.isfile(single):
            files = [single]
        elif os.path.isfile(index):
            files = sorted({os.path.join(model_dir, v) for v in json.load(open(index))["weight_map"].values()})
        else:
            raise FileNotFoundError(f"no model.safetensors(.index.json) in {model_dir}")
        self.entries = {}
        for path in files:
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n).decode("utf-8"))
            for name, t in header.items():
                if name != "__metadata__":
                    self.entries[name] = (path, t["dtype"], tuple(t["shape"]), 8 + n + t["data_offsets"][0],
                                          8 + n + t["data_offsets"][1])

    def __contains__(self, name: str) -> bool:
        return name in self.entries

    def get(self, name: str, dtype=np.float64) -> np.ndarray:
        path, dt, shape, b, e = self.entries[name]
        npdt, width = _DTYPES[dt]
        n = int(np.prod(shape)) if shape else 1
        assert e - b == n * width, f"{name}: {e - b} bytes for {n} x {dt}"
        raw = np.fromfile(path, dtype=np.dtype(npdt).newbyteorder("<"), count=n, offset=b)
        arr = bf16_to_f32(raw) if dt == "BF16" else raw
        return arr.astype(dtype).reshape(shape)


class Config:
    def __init__(self, c: dict):
        self.raw = c
        self.model_type = c.get("model_type", "llama").lower()
        if self.model_type not in ("llama", "mistral", "qwen2", "qwen3"):
            raise ValueError(f"unsupported model_type {self.model_type}")
        self.hidden = c["hidden_size"]
        self.inter = c["intermediate_size"]
        self.layers = c["num_hidden_layers"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads") or self.heads
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.vocab = c["vocab_size"]
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.theta = c.get("rope_theta", 10000.0)
        self.rope_scaling = c.get("rope_scaling")
        self.tied = c.get("tie_word_embeddings", False)
        if c.get("hidden_act", "silu") != "silu":
            raise ValueError(f"hidden_act {c.get('hidden_act')} not supported")
        if self.model_type == "qwen2":
            self.qkv_bias, self.o_bias = True, False
        else:
            self.qkv_bias = self.o_bias = bool(c.get("attention_bias", False))
        self.mlp_bias = bool(c.get("mlp_bias", False))
        self.qk_norm = self.model_type == "qwen3"
        # per layer: the sliding window (keys a query sees, itself included) or None for full causal attention
        sw = c.get("sliding_window")
        if self.model_type == "mistral" and sw is not None:
            self.layer_window = [int(sw)] * self.layers
        elif self.model_type == "qwen2" and c.get("use_sliding_window", False) and sw is not None:
            first = c.get("max_window_layers", 28)                         # Qwen2Config default
            self.layer_window = [int(sw) if i >= first else None for i in range(self.layers)]
        else:
            self.layer_window = [None] * self.layers

    def inv_freq(self) -> np.ndarray:
        d = self.head_dim
        inv = 1.0 / (self.theta ** (np.arange(0, d, 2, dtype=np.float64) / d))
        s = self.rope_scaling
        if s:
            rt = s.get("rope_type", s.get("type", "default"))
            if rt == "llama3":
                factor, lo, hi = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
                old = s["original_max_position_embeddings"]
                low_wl, high_wl = old / lo, old / hi
                wavelen = 2 * math.pi / inv
                inv_l = np.where(wavelen > low_wl, inv / factor, inv)
                smooth = (old / wavelen - lo) / (hi - lo)
                smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
                medium = ~(wavelen < high_wl) & ~(wavelen > low_wl)
                inv = np.where(medium, smoothed, inv_l)
            elif rt != "default":
                raise ValueError(f"rope_type {rt} not supported")
        return inv


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rotate_half(x: np.ndarray) -> np.ndarray:
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


class Model:
    def __init__(self, model_dir: str, dtype=np.float64):
        self.dtype = dtype
        self.cfg = Config(json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8")))
        st = SafeTensors(model_dir)
        c = self.cfg

        def g(name):
            return st.get(name, dtype)
        self.embed = g("model.embed_tokens.weight")
        assert self.embed.shape == (c.vocab, c.hidden), self.embed.shape
        if c.tied:
            self.head = self.embed
        elif "lm_head.weight" in st:
            self.head = g("lm_head.weight")
        else:
            raise ValueError("lm_head.weight missing and tie_word_embeddings false")
        self.norm = g("model.norm.weight")
        self.L = []
        for i in range(c.layers):
            p = f"model.layers.{i}."
            d = {k: g(p + k + ".weight") for k in (
                "input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
                "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")}
            for k in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"):
                d[k + ".bias"] = g(p + k + ".bias") if c.qkv_bias else None
            d["self_attn.o_proj.bias"] = g(p + "self_attn.o_proj.bias") if c.o_bias else None
            for k in ("mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):
                d[k + ".bias"] = g(p + k + ".bias") if c.mlp_bias else None
            if c.qk_norm:
                d["q_norm"] = g(p + "self_attn.q_norm.weight")
                d["k_norm"] = g(p + "self_attn.k_norm.weight")
            self.L.append(d)

    @staticmethod
    def _lin(x, w, b):
        y = x @ w.T
        return y + b if b is not None else y

    def hidden(self, ids) -> np.ndarray:
        """Final hidden state after the final RMSNorm (gain applied): [T, H]."""
        c, dt = self.cfg, self.dtype
        T = len(ids)
        x = self.embed[np.asarray(ids)]                                       # [T, H]
        freqs = np.outer(np.arange(T, dtype=np.float64), c.inv_freq())
        emb = np.concatenate([freqs, freqs], axis=-1)
        cos = np.cos(emb)[:, None, :].astype(dt)                              # [T, 1, hd]
        sin = np.sin(emb)[:, None, :].astype(dt)
        rep = c.heads // c.kv_heads
        mask = np.triu(np.full((T, T), -np.inf, dtype=dt), 1)               # key j > query i: masked
        qi, kj = np.arange(T)[:, None], np.arange(T)[None, :]
        scale = dt(1.0 / math.sqrt(c.head_dim))
        eps = dt(c.eps)
        for li, d in enumerate(self.L):
            w = c.layer_window[li]
            # sliding window: also masked where i - j >= w (transformers: kv_idx > q_idx - sliding_window)
            layer_mask = mask if w is None else np.where(qi - kj >= w, dt(-np.inf), mask).astype(dt)
            h = rms_norm(x, d["input_layernorm"], eps)
            q = self._lin(h, d["self_attn.q_proj"], d["self_attn.q_proj.bias"]).reshape(T, c.heads, c.head_dim)
            k = self._lin(h, d["self_attn.k_proj"], d["self_attn.k_proj.bias"]).reshape(T, c.kv_heads, c.head_dim)
            v = self._lin(h, d["self_attn.v_proj"], d["self_attn.v_proj.bias"]).reshape(T, c.kv_heads, c.head_dim)
            if c.qk_norm:
                q = rms_norm(q, d["q_norm"], eps)
                k = rms_norm(k, d["k_norm"], eps)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            kk = np.repeat(k, rep, axis=1)                                    # [T, heads, hd]
            vv = np.repeat(v, rep, axis=1)
            s = np.einsum("thd,shd->hts", q, kk) * scale + layer_mask         # [heads, T, T]
            s = s - s.max(-1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(-1, keepdims=True)
            att = np.einsum("hts,shd->thd", p, vv).reshape(T, c.heads * c.head_dim)
            x = x + self._lin(att, d["self_attn.o_proj"], d["self_attn.o_proj.bias"])
            h = rms_norm(x, d["post_attention_layernorm"], eps)
            gte = self._lin(h, d["mlp.gate_proj"], d["mlp.gate_proj.bias"])
            up = self._lin(h, d["mlp.up_proj"], d["mlp.up_proj.bias"])
            a = gte / (dt(1.0) + np.exp(-gte)) * up
            x = x + self._lin(a, d["mlp.down_proj"], d["mlp.down_proj.bias"])
        return rms_norm(x, self.norm, eps)

    def log_probs(self, ids) -> np.ndarray:
        """[T, V] log-softmax of the logits at every position (row t predicts ids[t+1])."""
        logits = self.hidden(ids) @ self.head.T
        m = logits.max(-1, keepdims=True)
        return logits - (m + np.log(np.exp(logits - m).sum(-1, keepdims=True)))

    def score(self, ids, k: int = 5) -> dict:
        """Entry t (t >= 1) is log P(ids[t] | ids[<t]); top-k of the distribution that predicts ids[t]."""
        lp = self.log_probs(ids)
        out = {"ids": [int(i) for i in ids], "logprobs": [None], "top_ids": [[]], "top_logprobs": [[]]}
        for t in range(1, len(ids)):
            row = lp[t - 1]
            top = np.argsort(-row, kind="stable")[:k]
            out["logprobs"].append(float(row[ids[t]]))
            out["top_ids"].append([int(i) for i in top])
            out["top_logprobs"].append([float(row[i]) for i in top])
        return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("--ids", required=True, help="comma-separated token ids, context token first")
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("--float32", action="store_true", help="compute in float32 instead of float64")
    a = ap.parse_args(argv)
    m = Model(a.model_dir, np.float32 if a.float32 else np.float64)
    print(json.dumps(m.score([int(x) for x in a.ids.split(",")], a.top)))


if __name__ == "__main__":
    main()
