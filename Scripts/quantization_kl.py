#!/usr/bin/env python3
"""What int4 costs in quality: next-token distributions of a quantised checkpoint against its source.

    kimi-serve quantize --model /tmp/kimi-medium --out /tmp/kimi-medium-int4
    python3 Scripts/quantization_kl.py /tmp/kimi-medium /tmp/kimi-medium-int4 [--sequences 4 --length 1024]

Runs the same token sequences through both checkpoints with `kimi-serve forward --logits-out`
and reports the mean and largest KL(source || quantised) of the next-token distributions and
how often the two agree on the most likely token. The sequences are uniform random ids
(seeded), or with --text FILE that text tokenized and cut into --length chunks, of which the
second half of each is scored (llama-perplexity's --kl-divergence protocol, so that its figure
for llama.cpp's formats compares). Needs numpy only.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("quantised")
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--text", help="score this text (chunks of --length, the second half of each) instead of random ids")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "kimi-serve"))
    args = parser.parse_args()
    with open(os.path.join(args.source, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]
    rng = np.random.default_rng(args.seed)
    if args.text:
        with open(args.text, "rb") as f:
            ids = json.loads(subprocess.run([args.binary, "tokenize", "--model", args.source], input=f.read(),
                                            capture_output=True, check=True).stdout)
        chunks = [ids[i:i + args.length] for i in range(0, len(ids) - args.length + 1, args.length)][:args.sequences]
        scored = slice(args.length // 2, args.length)
    else:
        chunks = [[int(t) for t in rng.integers(0, vocab - 256, size=args.length)] for _ in range(args.sequences)]
        scored = slice(0, args.length)
    kl, agree = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for s, chunk in enumerate(chunks):
            tokens = ",".join(map(str, chunk))
            rows = []
            for i, model in enumerate((args.source, args.quantised)):
                out = os.path.join(tmp, f"{i}.f32")
                subprocess.run([args.binary, "forward", "--model", model, "--tokens", tokens, "--logits-out", out,
                                "--chunk", "256"], check=True, stdout=subprocess.DEVNULL)
                rows.append(np.fromfile(out, dtype="<f4").reshape(args.length, vocab)[scored].astype(np.float64))
            p, q = log_softmax(rows[0]), log_softmax(rows[1])
            kl.append((np.exp(p) * (p - q)).sum(axis=1))
            agree.append(rows[0].argmax(axis=1) == rows[1].argmax(axis=1))
            print(f"sequence {s + 1}: mean KL {kl[-1].mean():.3e}", file=sys.stderr)
    kl, agree = np.concatenate(kl), np.concatenate(agree)
    print(json.dumps({"positions": int(kl.size), "mean_kl": float(kl.mean()), "max_kl": float(kl.max()),
                      "top1_agreement": float(agree.mean())}))


if __name__ == "__main__":
    main()
