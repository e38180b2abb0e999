#!/usr/bin/env python3
"""Writes a tokenizer directory of Kimi K2's size from a real production BPE vocabulary, for
benchmarking the constraint masks (`kimi-serve constrain --bench`, Scripts/bench_constraints.py).

    python3 Scripts/make_bench_vocabulary.py OUT_DIR

K2's vocabulary (163,584 ordinary tokens + 256 specials) cannot be downloaded here. A mask's cost
depends on how the vocabulary's byte strings branch — words with and without leading spaces,
punctuation runs, quotes, code fragments, CJK and partial UTF-8 — so the stand-in is a real one:
Mistral's Tekken vocabulary, shipped inside the `mistral-common` wheel on PyPI (tekken_240911.json,
150,000 tokens), then the tokens it lacks from OpenAI Whisper's multilingual and GPT-2 vocabularies
(the `openai-whisper` sdist on PyPI, whisper/assets/*.tiktoken), up to 163,584; Kimi's 256
special tokens come after them (Tests/Fixtures/tokenizer/tokenizer_config.json, renumbered).
"""
import base64
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FULL_SIZE = 163584
WHEEL = "mistral-common==1.13.1"
WHISPER = "openai-whisper==20250625"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", WHEEL, "-d", tmp], check=True)
        wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
        with zipfile.ZipFile(wheel) as z:
            tekken = json.loads(z.read("mistral_common/data/tekken_240911.json"))
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", WHISPER, "-d", tmp], check=True)
        sdist = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.startswith("openai_whisper") or f.startswith("openai-whisper"))
        with tarfile.open(sdist) as t:
            whisper = [t.extractfile(next(n for n in t.getnames() if n.endswith("/whisper/assets/" + name))).read()
                       for name in ("multilingual.tiktoken", "gpt2.tiktoken")]
    candidates = [base64.b64decode(e["token_bytes"]) for e in sorted(tekken["vocab"], key=lambda e: e["rank"])]
    for data in whisper:
        candidates += [base64.b64decode(line.split()[0]) for line in data.split(b"\n") if line.strip()]
    tokens, seen = [], set()
    for b in candidates:
        if b and b not in seen and len(tokens) < FULL_SIZE:
            seen.add(b)
            tokens.append(b)
    assert len(tokens) == FULL_SIZE, len(tokens)
    with open(os.path.join(out, "tiktoken.model"), "w") as f:
        for rank, b in enumerate(tokens):
            f.write(f"{base64.b64encode(b).decode()} {rank}\n")
    with open(os.path.join(HERE, "..", "Tests", "Fixtures", "tokenizer", "tokenizer_config.json")) as f:
        config = json.load(f)
    with open(os.path.join(HERE, "..", "Tests", "Fixtures", "tokenizer", "tiktoken.model")) as f:
        fixture_ranks = sum(1 for line in f if line.strip())
    config["added_tokens_decoder"] = {str(int(k) - fixture_ranks + FULL_SIZE): v for k, v in config["added_tokens_decoder"].items()}
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    print(f"{out}: {FULL_SIZE} ordinary tokens + 256 specials")


if __name__ == "__main__":
    main()
