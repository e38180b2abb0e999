#!/usr/bin/env python3
"""kimi-serve against llama.cpp on the same checkpoint, threads and machine, side by side.

    .venv/bin/python Scripts/make_medium.py /tmp/kimi-medium
    swift build -c release
    .venv/bin/python Scripts/bench_llamacpp.py /tmp/kimi-medium --threads 2

llama.cpp is obtained from a package registry (the llama-cpp-python source distribution on
PyPI, which vendors llama.cpp), unpacked and built outside the repository (--work, default
/tmp/llama-cpp-work; cmake and ninja come from PyPI into a venv there). Nothing of it is
committed. The checkpoint is converted to GGUF Q8_0 with llama.cpp's own converter; the
converter recognises Kimi's vocabulary only by hashing Moonshot's tokenizer, so for our
synthetic checkpoints the vocabulary is supplied to it from tiktoken.model (same ranks, the
merges rebuilt from them as the converter does for the real Kimi K2). Needs the reference
venv (torch, transformers, tiktoken) for the conversion.

Then `llama-bench -p 512 -n 64 -d 0,512 -t T` (best of --repetitions: pp512 and tg64 on an
empty cache, tg64 after 512 tokens) and `kimi-serve bench --json` with a 1-token and a
512-token prompt run one after the other, and the ratios of like with like are printed.
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
    if os.path.exists(binary):
        return binary
    venv = os.path.join(work, "venv")
    if not os.path.exists(os.path.join(venv, "bin", "cmake")):
        run([sys.executable, "-m", "venv", venv])
        run([os.path.join(venv, "bin", "pip"), "install", "-q", "cmake", "ninja"])
    run([os.path.join(venv, "bin", "cmake"), "-S", source, "-B", os.path.join(source, "build"), "-G", "Ninja",
         f"-DCMAKE_MAKE_PROGRAM={os.path.join(venv, 'bin', 'ninja')}", "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON",
         "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
         "-DLLAMA_BUILD_SERVER=OFF"], stdout=subprocess.DEVNULL)
    run([os.path.join(venv, "bin", "ninja"), "-C", os.path.join(source, "build"), "llama-bench"], stdout=subprocess.DEVNULL)
    return binary


CONVERT = r'''
import base64, os, sys
sys.argv = ["convert_hf_to_gguf.py", sys.argv[1], "--outtype", "q8_0", "--outfile", sys.argv[2]]
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


def convert(source, model, out):
    if os.path.exists(out):
        return
    run([sys.executable, "-c", CONVERT, model, out], cwd=source)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/llama-cpp-work")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--kimi-serve", default=os.path.join(ROOT, ".build", "release", "kimi-serve"))
    args = parser.parse_args()

    source = llama_cpp(args.work)
    bench = build(args.work, source)
    gguf_path = os.path.join(args.work, os.path.basename(os.path.normpath(args.model)) + "-q8_0.gguf")
    convert(source, os.path.abspath(args.model), gguf_path)

    # pp512 and tg64 on an empty cache (llama-bench's defaults), and tg64 after 512 tokens.
    out = run([bench, "-m", gguf_path, "-t", str(args.threads), "-p", "512", "-n", "64", "-d", "0,512",
               "-r", str(args.repetitions), "-o", "json"], capture_output=True, text=True).stdout
    results = json.loads(out)

    def best(prompt, gen, depth):
        return max(r["avg_ts"] for r in results if r["n_prompt"] == prompt and r["n_gen"] == gen and r.get("n_depth", 0) == depth)

    pp, tg, tg_deep = best(512, 0, 0), best(0, 64, 0), best(0, 64, 512)

    def ours(prompt):
        return json.loads(run([args.kimi_serve, "bench", "--model", args.model, "--threads", str(args.threads),
                               "--prompt-tokens", str(prompt), "--gen-tokens", "64", "--json"], capture_output=True, text=True).stdout)

    short, deep = ours(1), ours(512)
    rows = [("prefill tokens/s (512-token prompt)", pp, deep["prefill_tokens_per_s"]),
            ("decode tokens/s (64 tokens, empty cache)", tg, short["decode_tokens_per_s"]),
            ("decode tokens/s (64 tokens after 512)", tg_deep, deep["decode_tokens_per_s"])]
    print(f"{'':42} {'llama.cpp Q8_0':>15} {'kimi-serve fp8':>15} {'ratio':>7}")
    for name, theirs, mine in rows:
        print(f"{name:42} {theirs:15.1f} {mine:15.1f} {mine / theirs:6.2f}x")
    for label, r in (("empty cache", short), ("after 512", deep)):
        print(f"kimi-serve decode ({label}): {r['decode_gb_per_s']:.1f} GB/s = {r['decode_pct_of_bandwidth']:.0f} % of the "
              f"measured {r['bandwidth_gb_per_s']:.1f} GB/s read bandwidth ({r['decode_bytes_per_token'] / 1e9:.2f} GB per token)")
    print(json.dumps({"llama_cpp": {"pp512_tokens_per_s": pp, "tg64_tokens_per_s": tg, "tg64_at_512_tokens_per_s": tg_deep,
                                    "gguf": gguf_path},
                      "kimi_serve": {"empty_cache": short, "after_512": deep},
                      "prefill_ratio": deep["prefill_tokens_per_s"] / pp, "decode_ratio": short["decode_tokens_per_s"] / tg,
                      "decode_at_512_ratio": deep["decode_tokens_per_s"] / tg_deep}))

if __name__ == "__main__":
    main()
