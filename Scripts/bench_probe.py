#!/usr/bin/env python3
"""Checks `kimi-serve bench`'s read-bandwidth probe against an independent STREAM-style read
(Scripts/stream_read.c: two arrays, OpenMP, -O3 -march=native), the two alternating round by
round on the same threads, since these hosts' bandwidth changes within seconds.

    Scripts/bench_probe.py [--binary .build/release/kimi-serve] [--threads 2] [--rounds 5] [--json]

Per round: the probe's best pattern and its GB/s (the median of 3 reads of 1 GiB), the STREAM
read's best of 5 passes over 2 × 512 MiB, and their ratio. The CPU is printed from lscpu.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu():
    fields = dict(line.split(":", 1) for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if ":" in line)
    return " ".join(fields.get(k, "").strip() for k in ("Model name", "CPU family", "Model")).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/kimi-serve"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stream = os.path.join(tmp, "stream_read")
        subprocess.run(["cc", "-O3", "-march=native", "-fopenmp", os.path.join(ROOT, "Scripts/stream_read.c"), "-o", stream], check=True)
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OMP_PROC_BIND": "spread"}
        rounds = []
        for r in range(args.rounds):
            probe = json.loads(subprocess.run(
                [args.binary, "bench", "--probe-only", "--json", "--threads", str(args.threads), "--runs", "3"],
                capture_output=True, text=True, check=True).stdout)
            read = json.loads(subprocess.run([stream], capture_output=True, text=True, check=True, env=env).stdout)
            rounds.append({"round": r + 1, "probe_gb_per_s": probe["bandwidth_gb_per_s"], "probe_pattern": probe["bandwidth_pattern"],
                           "by_pattern": probe["bandwidth_by_pattern_gb_per_s"], "stream_gb_per_s": read["best_gb_per_s"],
                           "ratio": probe["bandwidth_gb_per_s"] / read["best_gb_per_s"]})
            if not args.json:
                x = rounds[-1]
                print(f"round {x['round']}: probe {x['probe_gb_per_s']:6.1f} GB/s ({x['probe_pattern']}), "
                      f"STREAM-style {x['stream_gb_per_s']:6.1f} GB/s, ratio {x['ratio']:.3f}", flush=True)
    summary = {"cpu": cpu(), "threads": args.threads, "rounds": rounds,
               "median_ratio": statistics.median(x["ratio"] for x in rounds)}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{summary['cpu']}, {args.threads} threads: probe / STREAM-style median ratio {summary['median_ratio']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
