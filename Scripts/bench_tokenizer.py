#!/usr/bin/env python3
"""Encode throughput of `kimi-serve tokenize` against tiktoken, same corpus, same vocabulary.

    swift build -c release
    .venv/bin/python Scripts/bench_tokenizer.py [--binary .build/release/kimi-serve] [--rounds 5]

The corpus (about 1.5 MB, deterministic) mixes Python standard-library source with the
multilingual samples and random class-boundary strings of make_tokenizer_fixtures.py. Both
sides run one thread and report the best of --rounds: tiktoken's Rust `encode_ordinary` and
`encode(allowed_special="all")` (its core, without tokenization_kimi.py's per-character Python
chunking loop, which would only slow the reference down), and `kimi-serve tokenize --benchmark`
(timed inside the process, loading excluded), with and without --allow-special. Our ids are
compared with tokenization_kimi.py's full encode (tiktoken plus its chunking). Runs for the trained fixture vocabulary and the full-size one.
"""
import argparse
import glob
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kimi_checkpoint as kc  # noqa: E402
import make_tokenizer_fixtures as mtf  # noqa: E402


def corpus(target_bytes=1_500_000):
    rng = random.Random(42)
    parts, size = [], 0
    sources = sorted(glob.glob(os.path.join(os.path.dirname(json.__file__), "*.py")))
    sources += sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))[:40]
    samples = list(mtf.SAMPLES.values())
    fuzz = mtf.fuzz_cases(rng, 4000)
    while size < target_bytes:
        choice = rng.random()
        if choice < 0.35 and sources:
            with open(sources[rng.randrange(len(sources))], encoding="utf-8", errors="replace") as f:
                text = f.read()[:20000]
        elif choice < 0.9:
            text = " ".join(rng.sample(samples, len(samples)))
        else:
            text = " ".join(rng.sample(fuzz, 50))
        parts.append(text)
        size += len(text.encode())
    return "\n".join(parts)


def best_of(rounds, fn):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "kimi-serve"))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    text = corpus()
    data = text.encode()
    print(f"corpus: {len(data) / 1e6:.2f} MB, {len(text)} characters")
    fixture = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "tokenizer")
    trained = {}
    import base64
    with open(os.path.join(fixture, "tiktoken.model")) as f:
        for line in f:
            token, rank = line.split()
            trained[base64.b64decode(token)] = int(rank)
    with open(os.path.join(fixture, "fullsize-pieces.txt")) as f:
        pieces = [base64.b64decode(line.strip()) for line in f if line.strip()]
    for label, ranks in (("trained vocabulary", trained), ("full-size vocabulary", mtf.full_size_ranks(trained, pieces))):
        enc = mtf.encoding(label, ranks)
        with tempfile.TemporaryDirectory() as directory:
            kc.write_tokenizer(directory, {t: r for t, r in ranks.items()})
            for mode, flag in (("ordinary", []), ("special", ["--allow-special"])):
                if mode == "ordinary":
                    seconds, ids = best_of(args.rounds, lambda: enc.encode_ordinary(text))
                else:
                    seconds, ids = best_of(args.rounds, lambda: enc.encode(text, allowed_special="all"))
                run = subprocess.run([args.binary, "tokenize", "--model", directory, "--benchmark", str(args.rounds)] + flag,
                                     input=data, capture_output=True, check=True)
                ours = json.loads(run.stdout)
                line = run.stderr.decode().strip().splitlines()[-1]
                our_mbs = float(line.split(": ")[-1].split(" MB/s")[0])
                reference = mtf.kimi_encode(enc, text, mode == "special")  # with Kimi's 400 000 / 25 000 cuts
                same = "identical ids" if ours == reference else f"IDS DIFFER ({len(ours)} vs {len(reference)})"
                tik_mbs = len(data) / seconds / 1e6
                print(f"{label}, {mode}: tiktoken {tik_mbs:.1f} MB/s, kimi-serve {our_mbs:.1f} MB/s "
                      f"= {our_mbs / tik_mbs:.2f}x; {len(ids)} tokens, {same}")


if __name__ == "__main__":
    main()
