#!/usr/bin/env python3
"""Does transformers (with compressed-tensors) load what `kimi-serve quantize` writes, and compute
the same model?

    kimi-serve quantize --model Tests/Fixtures/checkpoints/kimi-mini --out /tmp/kimi-mini-int4 --group-size 16
    .venv/bin/python Scripts/check_quantized_load.py /tmp/kimi-mini-int4

Copies the checkpoint, gives the copy transformers' own DeepseekV3 config (the Kimi config names
remote code that is not here) with the same quantization_config, loads it with
AutoModelForCausalLM.from_pretrained (compressed-tensors decompresses it) and compares its
float32 logits for 40 tokens with `kimi-serve forward --logits-out` on the original. Needs the
reference venv (Scripts/requirements-reference.txt).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kimi_checkpoint as kc  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "kimi-serve"))
    args = parser.parse_args()
    from transformers import AutoModelForCausalLM
    tokens = list(range(3, 43))
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "model")
        shutil.copytree(args.model, copy)
        with open(os.path.join(copy, "config.json")) as f:
            cfg = json.load(f)
        hf = kc.hf_config(cfg).to_dict()
        hf.update(quantization_config=cfg["quantization_config"], model_type="deepseek_v3",
                  architectures=["DeepseekV3ForCausalLM"])
        with open(os.path.join(copy, "config.json"), "w") as f:
            json.dump(hf, f)
        model = AutoModelForCausalLM.from_pretrained(copy, dtype=torch.float32)
        with torch.no_grad():
            theirs = model(torch.tensor([tokens])).logits[0].float().numpy()
        out = os.path.join(tmp, "logits.f32")
        subprocess.run([args.binary, "forward", "--model", args.model, "--tokens", ",".join(map(str, tokens)),
                        "--logits-out", out], check=True, stdout=subprocess.DEVNULL)
        ours = np.fromfile(out, dtype="<f4").reshape(theirs.shape)
    scale = float(np.abs(ours).max())
    diff = float(np.abs(theirs - ours).max())
    print(json.dumps({"loaded": type(model).__name__, "max_abs_diff": diff, "max_abs_logit": scale,
                      "relative": diff / scale, "top1_agreement": float((theirs.argmax(1) == ours.argmax(1)).mean())}))


if __name__ == "__main__":
    main()
