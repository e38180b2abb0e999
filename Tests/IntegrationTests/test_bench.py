"""`kimi-serve bench --json`: one JSON object on stdout with the keys the performance issue
asks for, its bytes per decoded token equal to the architecture's count made here from the
fixture's safetensors headers, and its derived figures consistent with each other."""
import json
import math
import re
import struct
import subprocess

from conftest import BINARY, CHECKPOINT

KEYS = {"prefill_tokens_per_s", "decode_tokens_per_s", "ttft_ms", "bandwidth_gb_per_s", "decode_bytes_per_token",
        "decode_gb_per_s", "decode_pct_of_bandwidth", "peak_rss_bytes", "threads", "prompt_tokens", "gen_tokens",
        "bandwidth_pattern", "bandwidth_by_pattern_gb_per_s"}
# The probe's access patterns: one, two and four streams per thread, with and without prefetchnta.
PATTERNS = {f"{s} stream{'s' if s > 1 else ''} per thread{p}" for s in (1, 2, 4) for p in ("", " + prefetchnta")}
ROUTED = re.compile(r"\.mlp\.experts\.\d+\.")


def tensor_bytes(checkpoint):
    """name -> stored bytes, from each shard's safetensors header."""
    sizes = {}
    for shard in sorted(checkpoint.glob("*.safetensors")):
        with open(shard, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        for name, entry in header.items():
            if name != "__metadata__":
                begin, end = entry["data_offsets"]
                sizes[name] = end - begin
    return sizes


def test_bench_json_reports_the_architectures_bytes_per_token():
    config = json.loads((CHECKPOINT / "config.json").read_text())
    prompt, gen = 8, 4
    result = subprocess.run([str(BINARY), "bench", "--model", str(CHECKPOINT), "--threads", "2", "--prompt-tokens", str(prompt),
                             "--gen-tokens", str(gen), "--runs", "1", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # stdout holds the one object and nothing else
    assert KEYS <= report.keys()
    assert (report["threads"], report["prompt_tokens"], report["gen_tokens"]) == (2, prompt, gen)

    sizes = tensor_bytes(CHECKPOINT)
    routed = sum(b for n, b in sizes.items() if ROUTED.search(n))
    embedding = sizes["model.embed_tokens.weight"]
    rest = sum(sizes.values()) - routed - embedding
    weights = rest + embedding // config["vocab_size"] + math.floor(routed * config["num_experts_per_tok"] / config["n_routed_experts"] + 0.5)
    # The latent cache (bf16) of every layer, over the run's mean context: the prompt, then half the generated tokens.
    kv = config["num_hidden_layers"] * (config["kv_lora_rank"] + config["qk_rope_head_dim"]) * 2
    assert report["decode_bytes_per_token"] == int(weights + (prompt + (gen + 1) / 2) * kv)
    assert report["weight_bytes"] == sum(sizes.values())

    assert report["prefill_tokens_per_s"] > 0 and report["decode_tokens_per_s"] > 0 and report["ttft_ms"] > 0
    assert report["bandwidth_gb_per_s"] > 0 and report["peak_rss_bytes"] >= report["weight_bytes"]
    assert set(report["bandwidth_by_pattern_gb_per_s"]) == PATTERNS and report["bandwidth_pattern"] in PATTERNS
    # One run: the achieved rate is its bytes times its speed, and its share is that over its bandwidth.
    assert math.isclose(report["decode_gb_per_s"], report["decode_bytes_per_token"] * report["decode_tokens_per_s"] / 1e9, rel_tol=1e-6)
    assert math.isclose(report["decode_pct_of_bandwidth"], 100 * report["decode_gb_per_s"] / report["bandwidth_gb_per_s"], rel_tol=1e-6)


def test_bench_rejects_a_missing_checkpoint_clearly():
    result = subprocess.run([str(BINARY), "bench", "--model", "/nonexistent/kimi", "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stdout == "" and "/nonexistent/kimi" in result.stderr


def test_probe_reads_every_pattern_and_reports_the_best():
    """--probe-only: no model; each read is the best of the patterns, so the median of the reads
    is at least every pattern's median."""
    result = subprocess.run([str(BINARY), "bench", "--probe-only", "--probe-bytes", str(64 << 20), "--threads", "2", "--runs", "3",
                             "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["threads"], report["runs"], report["bytes"]) == (2, 3, 64 << 20)
    by_pattern = report["bandwidth_by_pattern_gb_per_s"]
    assert set(by_pattern) == PATTERNS and report["bandwidth_pattern"] in PATTERNS
    assert all(rate > 0 for rate in by_pattern.values())
    assert report["bandwidth_gb_per_s"] >= max(by_pattern.values())


def test_per_core_runs_one_thread_and_reports_the_kernels_rate_from_l2():
    result = subprocess.run([str(BINARY), "bench", "--model", str(CHECKPOINT), "--per-core", "--prompt-tokens", "8", "--gen-tokens", "4",
                             "--runs", "1", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["threads"] == 1 and report["decode_tokens_per_s"] > 0
    assert set(report["kernel_l2_gb_per_s"]) == {"fp8", "bf16"} and all(r > 0 for r in report["kernel_l2_gb_per_s"].values())


def test_bench_needs_a_model_unless_probing():
    result = subprocess.run([str(BINARY), "bench", "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and result.stdout == "" and "--model" in result.stderr
