#!/usr/bin/env python3
"""Measures what constrained decoding adds to a decode step: the same server, one request at a
time, alternating a plain request and one with `response_format: json_schema` (A B A B ...).

    python3 Scripts/bench_constrained_decode.py --model /tmp/kimi-medium [--rounds 20] [--tokens 64]

Each constrained request takes the next schema of Tests/Fixtures/schemas/corpus.json, so its
compile and mask caches start cold, as for a new client. A request's decode time per token is
(last streamed chunk - first chunk) / (completion tokens - 1), which leaves out prefill, the
schema's compilation and the first mask. Prints one JSON object: the median per-token time of
each kind, the median of the per-round ratios (constrained / plain) and how many constrained
requests ended before `--tokens` because their document was complete (those are timed too).
Needs `requests`; the server binary is started by the script.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(base, body):
    """Streams one request; returns (seconds per decoded token, completion tokens, finish reason)."""
    body = dict(body, stream=True, stream_options={"include_usage": True})
    first = last = None
    tokens, finish = 0, None
    with requests.post(base + "/v1/chat/completions", json=body, stream=True, timeout=600) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices", []):
                if choice["delta"].get("content"):
                    last = time.perf_counter()
                    first = first or last
                finish = choice.get("finish_reason") or finish
    if tokens < 3 or first is None or last == first:
        return None, tokens, finish
    return (last - first) / (tokens - 1), tokens, finish


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "kimi-serve"))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    schemas = json.load(open(os.path.join(ROOT, "Tests", "Fixtures", "schemas", "corpus.json")))["schemas"]
    port = free_port()
    cmd = [args.binary, "serve", "--model", args.model, "--port", str(port), "--no-prefix-caching"]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        model = requests.get(base + "/v1/models").json()["data"][0]["id"]
        prompt = [{"role": "user", "content": "Describe the weather in Paris as JSON."}]
        plain_body = {"model": model, "messages": prompt, "max_tokens": args.tokens, "temperature": 1.0, "seed": 1}
        timed(base, plain_body)  # warm-up
        plain, constrained, ratios, early = [], [], [], 0
        for i in range(args.rounds):
            schema = schemas[i % len(schemas)]
            body = dict(plain_body, response_format={"type": "json_schema", "json_schema": {"name": "out", "schema": schema["schema"]}})
            # Alternate which kind goes first, so that a drift of the host does not favour one.
            order = [("plain", plain_body), ("constrained", body)]
            if i % 2:
                order.reverse()
            got = {}
            for kind, b in order:
                per_token, tokens, finish = timed(base, b)
                if kind == "constrained" and tokens < args.tokens:
                    early += 1
                got[kind] = per_token
            if got["plain"] and got["constrained"]:
                plain.append(got["plain"])
                constrained.append(got["constrained"])
                ratios.append(got["constrained"] / got["plain"])
        print(json.dumps({
            "command": " ".join(cmd),
            "rounds": len(ratios),
            "plain_ms_per_token": round(statistics.median(plain) * 1e3, 3),
            "constrained_ms_per_token": round(statistics.median(constrained) * 1e3, 3),
            "ratio_median": round(statistics.median(ratios), 4),
            "ratio_min": round(min(ratios), 4),
            "ratio_max": round(max(ratios), 4),
            "constrained_ended_early": early,
        }, indent=1))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
