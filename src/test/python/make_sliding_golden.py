#!/usr/bin/env python3
"""Writes golden.json for a sliding-window synthetic model from fixed token ids (no tokenizer needed).

    python3 src/test/python/make_sliding_golden.py --weights DIR \
        --ids-from src/test/resources/models/synthetic/mistral-tiny/golden.json \
        --out src/test/resources/models/synthetic/mistral-sw8-tiny/golden.json

DIR is a model folder (config.json + model.safetensors) whose weights follow SPEC.md v1, e.g. written by
`java -jar target/toedit-streams.jar synth-model --config .../mistral-sw8-tiny/config.json --out DIR`.
The texts and their ids (context token first) are taken from --ids-from; every position is scored by
hf_reference.py in float64 (and in float32, to record what a float32 forward gets). The output has the
layout of the other golden.json files (texts / positions / top5), without the token and tensor tables.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_reference import Model  # noqa: E402

TOLERANCE = 1e-4


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--ids-from", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    cfg = json.load(open(os.path.join(a.weights, "config.json"), encoding="utf-8"))
    src = json.load(open(a.ids_from, encoding="utf-8"))
    ref64, ref32 = Model(a.weights, np.float64), Model(a.weights, np.float32)
    name = os.path.basename(os.path.dirname(os.path.abspath(a.out)))
    rows, f32_max, n = [], 0.0, 0
    for t in src["texts"]:
        ids = t["ids"]
        s, s32 = ref64.score(ids, k=5), ref32.score(ids, k=5)
        positions = []
        for p in range(len(ids) - 1):
            lp, tids, tlps = s["logprobs"][p + 1], s["top_ids"][p + 1], s["top_logprobs"][p + 1]
            f32_max = max(f32_max, abs(lp - s32["logprobs"][p + 1]),
                          max(abs(x - y) for x, y in zip(tlps, s32["top_logprobs"][p + 1])))
            positions.append({"pos": p, "next_id": ids[p + 1], "logprob": round(lp, 9),
                              "top5": [[i, round(x, 9)] for i, x in zip(tids, tlps)]})
        n += len(positions)
        rows.append({"name": t["name"], "text": t["text"], "ids": ids, "n_predicted": len(ids) - 1,
                     "mean_nll": round(-float(np.mean(s["logprobs"][1:])), 9), "positions": positions})
    g = {
        "model": name,
        "about": "Reference scores of a synthetic-weight model with sliding-window attention (random, seeded; "
                 "see SPEC.md). Weights: SPEC.md v1 with the seed below; they are not shipped, regenerate them.",
        "spec": "SPEC.md v1", "seed": int(cfg["synthetic_weights"]["seed"]), "model_type": cfg["model_type"],
        "sliding_window": cfg.get("sliding_window"), "vocab_size": cfg["vocab_size"],
        "tokenizer": src["tokenizer"], "tokenizer_size": src["tokenizer_size"],
        "context_token": src["context_token"],
        "ids_from": os.path.basename(os.path.dirname(os.path.abspath(a.ids_from))) + "/golden.json",
        "reference": "src/test/python/hf_reference.py, float64 forward on the BF16 weights, sliding-window mask "
                     "(query i sees keys j with i - sliding_window < j <= i); log-softmax over all vocab_size rows",
        "positions_convention": src["positions_convention"],
        "tolerance": {"logprob_abs": TOLERANCE, "note": src["tolerance"]["note"]},
        "totals": {"texts": len(rows), "n_predicted": n, "float32_numpy_max_abs_logprob_diff": float(f"{f32_max:.3g}")},
        "texts": rows,
    }
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("{\n" + ",\n".join(" " + json.dumps(k) + ": " + (
            "[\n" + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in v) + "\n ]" if k == "texts"
            else json.dumps(v, ensure_ascii=False)) for k, v in g.items()) + "\n}\n")
    print(f"{a.out}: {json.dumps(g['totals'])}")


if __name__ == "__main__":
    main()
