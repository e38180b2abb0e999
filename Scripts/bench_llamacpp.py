#!/usr/bin/env python3
"""kimi-serve against llama.cpp on the same checkpoint, threads and machine, side by side.

    .venv/bin/python Scripts/make_medium.py /tmp/kimi-medium
    swift build -c release
    .venv/bin/python Scripts/bench_llamacpp.py /tmp/kimi-medium --threads 2
    kimi-serve quantize --model /tmp/kimi-medium --out /tmp/kimi-medium-int4     # the int4 twin:
    .venv/bin/python Scripts/bench_llamacpp.py /tmp/kimi-medium --type q4_0 --kimi-model /tmp/kimi-medium-int4

llama.cpp is obtained from a package registry (the llama-cpp-python source distribution on
PyPI, which vendors llama.cpp), unpacked and built outside the repository (--work, default
/tmp/llama-cpp-work; cmake and ninja come from PyPI into a venv there). Nothing of it is
committed. The checkpoint is converted to GGUF Q8_0 with llama.cpp's own converter (for
--type q4_0: to BF16, then llama-quantize Q4_0, llama.cpp's 4-bit format); the
converter recognises Kimi's vocabulary only by hashing Moonshot's tokenizer, so for our
synthetic checkpoints the vocabulary is supplied to it from tiktoken.model (same ranks, the
merges rebuilt from them as the converter does for the real Kimi K2). Needs the reference
venv (torch, transformers, tiktoken) for the conversion.

Then, for each of --rounds rounds, `llama-bench -p 512 -n 64 -d 0,512 -t T` (the mean of
--repetitions: pp512 and tg64 on an empty cache, tg64 after 512 tokens) and `kimi-serve bench
--json` with a 1-token and a 512-token prompt, one after the other. Every round's ratios are
printed, then the best of the rounds of each side and their ratios of like with like.
"""
import argparse
import json
import os
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def llama_cpp(work):
    """The llama.cpp source tree, downloaded and unpacked once."""
    os.makedirs(work, exist_ok=True)
    found = [d for d in os.listdir(work) if d.startswith("llama_cpp_python-") and os.path.isdir(os.path.join(work, d))]
    if not found:
        meta = json.load(urllib.request.urlopen("https://pypi.org/pypi/llama-cpp-python/json", timeout=60))
        sdist = next(u for u in meta["urls"] if u["packagetype"] == "sdist")
        url = urllib.parse.urljoin("https://pypi.org/pypi/llama-cpp-python/json", sdist["url"])
        path = os.path.join(work, sdist["filename"])
        print(f"downloading {url}", file=sys.stderr)
        urllib.request.urlretrieve(url, path)
        with tarfile.open(path) as tar:
            tar.extractall(work)
        found = [d for d in os.listdir(work) if d.startswith("llama_cpp_python-") and os.path.isdir(os.path.join(work, d))]
    return os.path.join(work, found[0], "vendor", "llama.cpp")


def build(work, source):
    """llama-bench, built natively in release mode with cmake and ninja from PyPI."""
    binary = os.path.join(source, "build", "bin", "llama-bench")
    if os.path.exists(binary) and os.path.exists(os.path.join(source, "build", "bin", "llama-quantize")):
        return binary
    venv = os.path.join(work, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "cmake")):
        run([sys.executable, "-m", "venv", venv])
        run([os.path.join(venv, "bin", "pip"), "install", "-q", "cmake", "ninja"])
    run([os.path.join(venv, "bin", "cmake"), "-S", source, "-B", os.path.join(source, "build"), "-G", "Ninja",
         f"-DCMAKE_MAKE_PROGRAM={os.path.join(venv, 'bin', 'ninja')}", "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON",
         "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
         "-DLLAMA_BUILD_SERVER=OFF"], stdout=subprocess.DEVNULL)
    run([os.path.join(venv, "bin", "ninja"), "-C", os.path.join(source, "build"), "llama-bench", "llama-quantize"],
        stdout=subprocess.DEVNULL)
    return binary


CONVERT = r'''
import base64, os, sys
sys.argv = ["convert_hf_to_gguf.py", sys.argv[1], "--outtype", sys.argv[3], "--outfile", sys.argv[2]]
sys.path.insert(0, os.getcwd())
import convert_hf_to_gguf as convert
import gguf
from conversion.deepseek import DeepseekV2Model
from conversion.qwen import QwenModel


def set_vocab(self):
    """The vocabulary from tiktoken.model and tokenizer_config.json, as the converter builds
    it for Kimi K2 (merges recovered from the ranks), without Moonshot's tokenizer code."""
    import json
    ranks = {}
    with open(os.path.join(self.dir_model, "tiktoken.model")) as f:
        for line in f:
            if line.strip():
                token, rank = line.split()
                ranks[base64.b64decode(token)] = int(rank)
    with open(os.path.join(self.dir_model, "tokenizer_config.json")) as f:
        added = {int(i): t["content"] for i, t in json.load(f)["added_tokens_decoder"].items()}
    vocab, merges = {}, []
    for token, rank in ranks.items():
        vocab[QwenModel.token_bytes_to_string(token)] = rank
        if len(token) > 1:
            merged = QwenModel.bpe(ranks, token, max_rank=rank)
            if len(merged) == 2:
                merges.append(" ".join(map(QwenModel.token_bytes_to_string, merged)))
    size = self.hparams["vocab_size"]
    reverse = {i: t for t, i in vocab.items()}
    tokens, types = [], []
    for i in range(size):
        if i in added:
            tokens.append(added[i]); types.append(gguf.TokenType.CONTROL)
        elif i in reverse:
            tokens.append(reverse[i]); types.append(gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{i}]"); types.append(gguf.TokenType.UNUSED)
    self.gguf_writer.add_tokenizer_model("gpt2")
    self.gguf_writer.add_tokenizer_pre("kimi-k2")
    self.gguf_writer.add_token_list(tokens)
    self.gguf_writer.add_token_types(types)
    self.gguf_writer.add_token_merges(merges)
    gguf.SpecialVocab(self.dir_model, load_merges=False).add_to_gguf(self.gguf_writer)


DeepseekV2Model.set_vocab = set_vocab
convert.main()
'''


def convert(source, model, out, kind):
    """GGUF of `kind` (q8_0 straight from the converter; q4_0 by llama-quantize from BF16)."""
    if os.path.exists(out):
        return
    if kind == "q8_0":
        run([sys.executable, "-c", CONVERT, model, out, "q8_0"], cwd=source)
        return
    bf16 = out.replace(f"-{kind}.gguf", "-bf16.gguf")
    if not os.path.exists(bf16):
        run([sys.executable, "-c", CONVERT, model, bf16, "bf16"], cwd=source)
    run([os.path.join(source, "build", "bin", "llama-quantize"), bf16, out, kind.upper()], stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/llama-cpp-work")
    parser.add_argument("--repetitions", type=int, default=3, help="llama-bench repetitions per test and round")
    parser.add_argument("--rounds", type=int, default=3, help="turns each program takes, alternating")
    parser.add_argument("--kimi-serve", default=os.path.join(ROOT, ".build", "release", "kimi-serve"))
    parser.add_argument("--type", choices=["q8_0", "q4_0"], default="q8_0", help="llama.cpp's format of the checkpoint")
    parser.add_argument("--kimi-model", help="the checkpoint kimi-serve runs (default: the model; for q4_0 its int4 quantisation)")
    args = parser.parse_args()
    kimi_model = args.kimi_model or args.model

    source = llama_cpp(args.work)
    bench = build(args.work, source)
    gguf_path = os.path.join(args.work, os.path.basename(os.path.normpath(args.model)) + f"-{args.type}.gguf")
    convert(source, os.path.abspath(args.model), gguf_path, args.type)

    def theirs():
        """llama-bench: pp512 and tg64 on an empty cache (its defaults), tg64 after 512 tokens."""
        out = run([bench, "-m", gguf_path, "-t", str(args.threads), "-p", "512", "-n", "64", "-d", "0,512",
                   "-r", str(args.repetitions), "-o", "json"], capture_output=True, text=True).stdout
        results = json.loads(out)

        def mean(prompt, gen, depth):
            return next(r["avg_ts"] for r in results if r["n_prompt"] == prompt and r["n_gen"] == gen and r.get("n_depth", 0) == depth)

        return {"pp512": mean(512, 0, 0), "tg64": mean(0, 64, 0), "tg64_at_512": mean(0, 64, 512)}

    def ours():
        def bench_json(prompt):
            return json.loads(run([args.kimi_serve, "bench", "--model", kimi_model, "--threads", str(args.threads),
                                   "--prompt-tokens", str(prompt), "--gen-tokens", "64", "--json"],
                                  capture_output=True, text=True).stdout)
        short, deep = bench_json(1), bench_json(512)
        return {"pp512": deep["prefill_tokens_per_s"], "tg64": short["decode_tokens_per_s"],
                "tg64_at_512": deep["decode_tokens_per_s"], "empty_cache": short, "after_512": deep}

    # The two programs take turns, round after round: on a shared host the memory bandwidth
    # can change by half within seconds, so each round gives both the same weather, and the
    # best of the rounds compares each at its best.
    rounds = []
    for _ in range(args.rounds):
        rounds.append((theirs(), ours()))
    keys = [("pp512", "prefill tokens/s (512-token prompt)"), ("tg64", "decode tokens/s (64 tokens, empty cache)"),
            ("tg64_at_512", "decode tokens/s (64 tokens after 512)")]
    for i, (t, o) in enumerate(rounds):
        print(f"round {i + 1}: " + ", ".join(f"{k} {o[k]:.1f}/{t[k]:.1f} = {o[k] / t[k]:.2f}x" for k, _ in keys)
              + f"; decode {o['empty_cache']['decode_pct_of_bandwidth']:.0f} % of {o['empty_cache']['bandwidth_gb_per_s']:.1f} GB/s")
    best_theirs = {k: max(t[k] for t, _ in rounds) for k, _ in keys}
    best_ours = {k: max(o[k] for _, o in rounds) for k, _ in keys}
    ours_label = "kimi-serve " + ("int4" if args.kimi_model else "fp8")
    print(f"\nbest of {len(rounds)} rounds{'':26} {'llama.cpp ' + args.type.upper():>15} {ours_label:>15} {'ratio':>7}")
    for k, name in keys:
        print(f"{name:42} {best_theirs[k]:15.1f} {best_ours[k]:15.1f} {best_ours[k] / best_theirs[k]:6.2f}x")
    fastest = max((o for _, o in rounds), key=lambda o: o["tg64"])
    for label in ("empty_cache", "after_512"):
        r = fastest[label]
        print(f"kimi-serve decode ({label.replace('_', ' ')}, fastest round): {r['decode_gb_per_s']:.1f} GB/s = "
              f"{r['decode_pct_of_bandwidth']:.0f} % of the measured {r['bandwidth_gb_per_s']:.1f} GB/s read bandwidth "
              f"({r['decode_bytes_per_token'] / 1e9:.2f} GB per token)")
    print(json.dumps({"gguf": gguf_path, "kimi_model": kimi_model, "rounds": [{"llama_cpp": t, "kimi_serve": o} for t, o in rounds],
                      "best": {"llama_cpp": best_theirs, "kimi_serve": best_ours},
                      "ratios": {k: best_ours[k] / best_theirs[k] for k, _ in keys}}))


if __name__ == "__main__":
    main()
