#!/usr/bin/env python3
"""Benchmarks the constraint engine over the schema corpus: per-token mask-and-advance time at a
vocabulary of Kimi K2's size and schema compile times, one `kimi-serve constrain --bench` process
per schema walking its valid instances (Tests/Fixtures/schemas) in turn, with one mask cache per
process as in a server.

    python3 Scripts/make_bench_vocabulary.py /tmp/k2vocab
    python3 Scripts/bench_constraints.py --model /tmp/k2vocab [--binary .build/release/kimi-serve]

Prints one JSON object: tokens timed, their median / p90 / p99 / max in microseconds, the share of
steps over 1 ms, and compile times (median and max over the schemas, in milliseconds).
"""
import argparse
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "Tests", "Fixtures", "schemas")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--binary", default=os.path.join(HERE, "..", ".build", "release", "kimi-serve"))
    ap.add_argument("--instances", type=int, default=30, help="valid instances per schema (compact spellings)")
    args = ap.parse_args()
    corpus = json.load(open(os.path.join(FIXTURES, "corpus.json")))["schemas"]
    instances = {s["name"]: s["valid"] for s in json.load(open(os.path.join(FIXTURES, "instances.json")))["schemas"]}
    samples, compiles, rejected = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for entry in corpus:
            path = os.path.join(tmp, "schema.json")
            with open(path, "w") as f:
                json.dump(entry["schema"], f)
            docs = [t for t in instances[entry["name"]][0::2][: args.instances] if "\n" not in t]
            r = subprocess.run([args.binary, "constrain", "--model", args.model, "--schema", path, "--bench", "--each-line", "--strict"],
                               input="\n".join(docs).encode(), capture_output=True)
            if r.returncode != 0:
                rejected.append((entry["name"], r.stderr.decode()[:300]))
                continue
            report = json.loads(r.stdout)
            samples += report["samples_us"]
            compiles.append(report["compile_ms"])
    samples.sort()
    compiles.sort()
    pct = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))]
    print(json.dumps({"schemas": len(corpus), "tokens": len(samples), "per_token_us": {
        "median": pct(samples, 0.5), "p90": pct(samples, 0.9), "p99": pct(samples, 0.99), "max": samples[-1],
        "share_over_1ms": sum(1 for x in samples if x > 1000) / len(samples)},
        "compile_ms": {"median": pct(compiles, 0.5), "max": compiles[-1]}, "rejected": rejected}, indent=1))


if __name__ == "__main__":
    main()
