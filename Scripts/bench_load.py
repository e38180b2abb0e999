#!/usr/bin/env python3
"""Load benchmark: concurrent streaming clients against the real HTTP server.

    swift build -c release
    python3 Scripts/bench_load.py --model /tmp/kimi-medium --concurrency 1,2,4,8,16

Starts `kimi-serve serve` on the checkpoint (or uses --url of a running server), then for each
concurrency level starts that many clients at once, each streaming one chat completion with
`ignore_eos` and exactly --max-tokens tokens (distinct prompts, so the prefix cache does not
help). Per level it prints the aggregate decode tokens/s (tokens generated while every stream
was decoding, over that time), TTFT and inter-token latency p50/p99, and from /metrics the
tokens, distinct routed experts and weight bytes per decode step (steps without prefill). The bound for a level is a
single stream's rate times the tokens per step, scaled by how many more bytes a step reads
than a single-token step: decode is bound by the weight bytes a step streams.
Standard library only.
"""
import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
WORDS = ("river mountain lantern copper orbit meadow harbor signal violet ember granite willow thunder canvas "
         "quartz falcon ribbon glacier saffron compass marble velvet tundra beacon").split()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metrics(url):
    u = urllib.parse.urlparse(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    values = {}
    for line in text.splitlines():
        m = re.match(r'^(kimi_engine_(?:steps|step_tokens|weight_bytes|routed_experts)_total)\{kind="decode"\} ([0-9.e+]+)$', line)
        if m:
            values[m.group(1)] = float(m.group(2))
    return values


def stream(url, model, prompt, max_tokens, result):
    u = urllib.parse.urlparse(url)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True,
                       "max_tokens": max_tokens, "ignore_eos": True, "temperature": 0}).encode()
    start = time.perf_counter()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        result["error"] = f"HTTP {r.status}: {r.read()[:200]!r}"
        return
    times = []
    for raw in r:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        for choice in chunk.get("choices", []):
            if choice.get("delta", {}).get("content"):
                times.append(time.perf_counter())
    result.update(start=start, times=times)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def level(url, model, n, max_tokens, rng):
    prompts = [" ".join(rng.choice(WORDS) for _ in range(24)) for _ in range(n)]
    before = metrics(url)
    results = [{} for _ in range(n)]
    threads = [threading.Thread(target=stream, args=(url, model, p, max_tokens, r)) for p, r in zip(prompts, results)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = metrics(url)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise SystemExit(f"concurrency {n}: {errors[0]}")
    # Decode window (engine counters: decode-only steps): from the moment every stream has its first token to the first stream's end.
    first = max(r["times"][0] for r in results)
    last = min(r["times"][-1] for r in results)
    in_window = sum(sum(1 for t in r["times"] if first < t <= last) for r in results)
    rate = in_window / (last - first) if last > first else float("nan")
    ttft = [r["times"][0] - r["start"] for r in results]
    itl = [b - a for r in results for a, b in zip(r["times"], r["times"][1:])]
    d = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    steps = max(d.get("kimi_engine_steps_total", 0), 1)
    return {"concurrency": n, "decode_tokens_per_s": rate, "ttft_p50_s": percentile(ttft, 50), "ttft_p99_s": percentile(ttft, 99),
            "itl_p50_ms": 1000 * percentile(itl, 50), "itl_p99_ms": 1000 * percentile(itl, 99),
            "tokens_per_step": d.get("kimi_engine_step_tokens_total", 0) / steps,
            "weight_bytes_per_step": d.get("kimi_engine_weight_bytes_total", 0) / steps,
            "routed_experts_per_step": d.get("kimi_engine_routed_experts_total", 0) / steps}


def ttft(url, model, messages):
    """Seconds to the first streamed token and the usage of one greedy request."""
    result = {}
    u = urllib.parse.urlparse(url)
    body = json.dumps({"model": model, "messages": messages, "stream": True, "max_tokens": 8, "temperature": 0,
                       "stream_options": {"include_usage": True}}).encode()
    start = time.perf_counter()
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    text = ""
    for raw in c.getresponse():
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            result["usage"] = chunk["usage"]
        for choice in chunk.get("choices", []):
            if "first" not in result and (choice.get("delta", {}).get("content") or choice.get("finish_reason")):
                result["first"] = time.perf_counter() - start
            text += choice.get("delta", {}).get("content") or ""
    result["text"] = text
    return result


def multi_turn(url, model, history_tokens, rng):
    """The second turn of a chat with a long history, with its prefix cached (the first turn
    left it) against the first turn, which computes the whole history."""
    words = " ".join(rng.choice(WORDS) for _ in range(history_tokens // 2))  # about two tokens per word
    history = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": words}]
    first = ttft(url, model, history)
    follow = history + [{"role": "assistant", "content": first["text"]}, {"role": "user", "content": "Summarise that."}]
    second = ttft(url, model, follow)
    return {"history_prompt_tokens": first["usage"]["prompt_tokens"], "first_turn_ttft_s": first["first"],
            "second_turn_prompt_tokens": second["usage"]["prompt_tokens"],
            "second_turn_cached_tokens": second["usage"]["prompt_tokens_details"]["cached_tokens"],
            "second_turn_ttft_s": second["first"], "speedup": first["first"] / second["first"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="checkpoint directory to serve (default: the demo checkpoint)")
    parser.add_argument("--url", help="a running server instead")
    parser.add_argument("--concurrency", default="1,2,4,8,16")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--history-tokens", type=int, default=2000, help="multi-turn test: words of chat history (0: skip)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "kimi-serve"))
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]

    server = None
    url = args.url
    if not url:
        port = free_port()
        cmd = [args.binary, "serve", "--port", str(port), "--threads", str(args.threads), "--max-running", str(max(levels)),
               "--max-queued", str(max(levels)), "--log-level", "warning"] + (["--model", args.model] if args.model else [])
        server = subprocess.Popen(cmd)
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
    try:
        u = urllib.parse.urlparse(url)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        c.request("GET", "/v1/models")
        model = json.loads(c.getresponse().read())["data"][0]["id"]
        rng = random.Random(0)
        level(url, model, 1, 8, rng)  # warm-up: page cache, threads
        rows = [level(url, model, n, args.max_tokens, rng) for n in levels]
        single = next((r for r in rows if r["concurrency"] == 1), None)
        print(f"{'streams':>7} {'tok/s':>8} {'bound':>8} {'of bound':>8} {'TTFT p50':>9} {'p99':>7} {'ITL p50':>8} {'p99':>7} "
              f"{'tok/step':>8} {'experts/step':>12} {'GB/step':>8}")
        for r in rows:
            bound = float("nan")
            if single:
                # A decode step of n streams computes n tokens and reads weight_bytes_per_step.
                bound = single["decode_tokens_per_s"] * r["tokens_per_step"] * single["weight_bytes_per_step"] / r["weight_bytes_per_step"]
            r["bound_tokens_per_s"] = bound
            print(f"{r['concurrency']:>7} {r['decode_tokens_per_s']:8.1f} {bound:8.1f} {r['decode_tokens_per_s'] / bound:8.0%} "
                  f"{r['ttft_p50_s']:8.2f}s {r['ttft_p99_s']:6.2f}s {r['itl_p50_ms']:6.0f}ms {r['itl_p99_ms']:5.0f}ms "
                  f"{r['tokens_per_step']:8.1f} {r['routed_experts_per_step']:12.1f} {r['weight_bytes_per_step'] / 1e9:8.2f}")
        print(json.dumps(rows))
        if args.history_tokens:
            m = multi_turn(url, model, args.history_tokens, rng)
            print(f"multi-turn: history {m['history_prompt_tokens']} tokens, first turn TTFT {m['first_turn_ttft_s']:.2f} s; "
                  f"second turn {m['second_turn_prompt_tokens']} tokens of which {m['second_turn_cached_tokens']} cached, "
                  f"TTFT {m['second_turn_ttft_s']:.3f} s: {m['speedup']:.0f}x faster")
            print(json.dumps(m))
    finally:
        if server:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
