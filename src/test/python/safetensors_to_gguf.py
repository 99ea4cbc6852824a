#!/usr/bin/env python3
"""Converts a Hugging Face Llama checkpoint folder (config.json, one model.safetensors, tokenizer.json
with a byte-level BPE model) to GGUF, so that llama.cpp can be run as the speed peer of `bench` on the
same weights (e.g. the llama-1b synthetic checkpoint of `synth-model`). Bench tooling only.

Needs numpy and gguf-py, nothing else (no torch, no safetensors): put gguf-py of a llama.cpp source
tree on PYTHONPATH.

    PYTHONPATH=<llama.cpp-src>/gguf-py python3 safetensors_to_gguf.py MODEL_DIR OUT.gguf [--outtype bf16|f32]

What it writes, as llama.cpp's own converter does for LlamaForCausalLM: q/k projection rows permuted
from HF's rotate-half RoPE layout to llama.cpp's interleaved-pairs layout; 1-D tensors (norms) always
F32; no `output` tensor when the embeddings are tied (llama.cpp then uses token_embd); `rope_freqs`
(F32) for rope_scaling type llama3. The tokenizer is written as "gpt2" BPE with pre-tokenizer "qwen2"
(the regex of Qwen's tokenizer), cut to the model's vocab_size: tokens with larger ids are dropped,
and so are merges whose parts or result fall outside. BOS/EOS come from config.json; add_bos is set,
since our scorer starts every sequence with BOS.

Checked: the F32 GGUF of the synthetic llama3-tiny (llama3 RoPE, Qwen3 tokenizer) reproduces its
golden.json (same ids from llama.cpp's tokenizer, log-probs within 1e-4); on llama-1b, llama.cpp's F32
log-probs match `score --tokens` (same ids, same top-5 at every position).
"""
import argparse
import json
import math
import struct
from pathlib import Path

import numpy as np
import gguf


def read_safetensors(path):
    """name -> (dtype, shape, memmap of the raw data as uint16/float32), without loading anything."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    np_dtype = {"BF16": np.uint16, "F32": np.float32}
    out = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        out[name] = (t["dtype"], raw[begin:end].view(np_dtype[t["dtype"]]).reshape(t["shape"]))
    return out


def to_f32(dtype, a):
    return (a.astype(np.uint32) << 16).view(np.float32) if dtype == "BF16" else np.asarray(a, np.float32)


def to_bf16(dtype, a):
    if dtype == "BF16":
        return np.asarray(a)
    bits = np.asarray(a, np.float32).view(np.uint32)  # round to nearest even (no NaNs expected here)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def permute(w, n_head):
    """HF q/k rows (per head: first halves, then second halves) -> llama.cpp's interleaved pairs."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def llama3_rope_factors(cfg, head_dim):
    rs = cfg["rope_scaling"]
    factor, lo, hi = rs.get("factor", 8.0), rs.get("low_freq_factor", 1.0), rs.get("high_freq_factor", 4.0)
    old_ctx = rs.get("original_max_position_embeddings", 8192)
    out = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi * cfg.get("rope_theta", 10000.0) ** (i / head_dim)
        if wavelen < old_ctx / hi:
            out.append(1.0)
        elif wavelen > old_ctx / lo:
            out.append(factor)
        else:
            smooth = (old_ctx / wavelen - lo) / (hi - lo)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.array(out, np.float32)


def tensor_names(n_layers):
    """HF name -> GGUF name."""
    m = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
         "lm_head.weight": "output.weight"}
    per_layer = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
                 "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                 "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                 "mlp.down_proj": "ffn_down"}
    for i in range(n_layers):
        for hf, gg in per_layer.items():
            m[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    return m


def add_tokenizer(w, tok, cfg, n_vocab):
    model = tok["model"]
    assert model["type"] == "BPE", "only byte-level BPE tokenizers are supported"
    added = {a["id"]: a for a in tok.get("added_tokens", [])}
    tokens = [f"[PAD{i}]" for i in range(n_vocab)]
    types = [gguf.TokenType.UNUSED] * n_vocab
    for t, i in model["vocab"].items():
        if i < n_vocab:
            tokens[i], types[i] = t, gguf.TokenType.NORMAL
    for i, a in added.items():
        if i < n_vocab:
            tokens[i] = a["content"]
            types[i] = gguf.TokenType.CONTROL if a.get("special") else gguf.TokenType.USER_DEFINED
    ids = {t: i for i, t in enumerate(tokens)}
    merges = []
    for m in model["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in ids and b in ids and a + b in ids:
            merges.append(f"{a} {b}")
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_eos_token_id(cfg["eos_token_id"])
    w.add_add_bos_token(True)
    return len(merges)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--outtype", choices=["bf16", "f32"], default="bf16")
    args = ap.parse_args()

    cfg = json.loads((args.model_dir / "config.json").read_text())
    tok = json.loads((args.model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    n_layers, n_head, n_kv = cfg["num_hidden_layers"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head
    n_vocab = cfg["vocab_size"]

    w = gguf.GGUFWriter(args.out, "llama")
    w.add_name(args.model_dir.name)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(n_layers)
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(n_vocab)
    bf16 = args.outtype == "bf16"
    w.add_file_type(gguf.LlamaFileType.MOSTLY_BF16 if bf16 else gguf.LlamaFileType.ALL_F32)
    n_merges = add_tokenizer(w, tok, cfg, n_vocab)

    # (gguf name, function producing the array, ggml type); data is read only when written
    names = tensor_names(n_layers)
    src = read_safetensors(args.model_dir / "model.safetensors")
    plan = []
    for hf, (dtype, a) in src.items():
        if hf not in names:
            raise SystemExit(f"unexpected tensor {hf}")
        perm = n_head if hf.endswith("q_proj.weight") else n_kv if hf.endswith("k_proj.weight") else 0
        keep_bf16 = bf16 and a.ndim > 1
        conv = to_bf16 if keep_bf16 else to_f32

        def make(dtype=dtype, a=a, perm=perm, conv=conv):
            return conv(dtype, permute(a, perm) if perm else a)
        plan.append((names[hf], a.shape, make, gguf.GGMLQuantizationType.BF16 if keep_bf16 else None))
    if "lm_head.weight" not in src and not cfg.get("tie_word_embeddings", False):
        raise SystemExit("no lm_head.weight and tie_word_embeddings is false")
    rope_type = (cfg.get("rope_scaling") or {}).get("rope_type") or (cfg.get("rope_scaling") or {}).get("type")
    if rope_type == "llama3":
        factors = llama3_rope_factors(cfg, head_dim)
        plan.append(("rope_freqs.weight", factors.shape, lambda: factors, None))
    elif rope_type not in (None, "default"):
        raise SystemExit(f"rope_scaling {rope_type} not supported")

    for name, shape, _, raw in plan:
        itemsize = 2 if raw is not None else 4
        w.add_tensor_info(name, shape, np.dtype(np.uint16 if raw is not None else np.float32),
                          int(np.prod(shape)) * itemsize, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, _, make, _ in plan:
        w.write_tensor_data(make())
    w.close()
    print(f"wrote {args.out}: {len(plan)} tensors, {args.outtype}, vocab {n_vocab}, {n_merges} merges")


if __name__ == "__main__":
    main()
