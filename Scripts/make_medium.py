#!/usr/bin/env python3
"""Writes `medium`, the benchmark checkpoint (not committed): Kimi-shaped, about 2.7 B parameters.

    .venv/bin/python Scripts/make_medium.py /tmp/kimi-medium

hidden 2048, 1 dense + 8 MoE layers, 16 heads, q/kv LoRA 768/256, head dims 128/64/128, 64
experts top-8 + 1 shared, moe_intermediate 768, dense intermediate 5376, vocab 32768: 0.53 B
active parameters per token, about 2.85 GB on disk in the real layout (block-fp8 projections
with scale_inv, bf16 embeddings and norms, shards with an index). The weights are random
(N(0, 1/in)); the vocabulary is a byte-level BPE trained with Hugging Face `tokenizers` on
Python's standard library source, so its ranks are merge-consistent (llama.cpp's converter
rebuilds merges from them). Tensors are generated and written shard by shard, so memory stays
near one shard.
"""
import glob
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kimi_checkpoint as kc  # noqa: E402

MEDIUM = dict(
    hidden_size=2048, intermediate_size=5376, moe_intermediate_size=768, num_hidden_layers=9,
    num_attention_heads=16, num_key_value_heads=16, q_lora_rank=768, kv_lora_rank=256,
    qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_routed_experts=64, n_shared_experts=1,
    num_experts_per_tok=8, n_group=1, topk_group=1, first_k_dense_replace=1, norm_topk_prob=True,
    routed_scaling_factor=2.827, rms_norm_eps=1e-6, rope_theta=50000.0,
    rope_scaling={"type": "yarn", "factor": 32.0, "original_max_position_embeddings": 4096,
                  "beta_fast": 1.0, "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0},
    max_position_embeddings=131072,
)
SHARD_BYTES = 1 << 30


def byte_level_ranks(count):
    """`count` merge-consistent ranks from a byte-level BPE trained on Python's sources."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
    files = [f for f in sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "**", "*.py"), recursive=True))
             if utf8(f)][:3000]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=count, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=[])
    tokenizer.train(files, trainer)
    inverse = {c: b for b, c in kc_bytes_to_unicode().items()}
    vocab = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    ranks = {}
    for token, _ in vocab:
        ranks.setdefault(bytes(inverse[ch] for ch in token), len(ranks))
    assert len(ranks) >= count - 64, len(ranks)
    return ranks


def utf8(path):
    try:
        open(path, "rb").read().decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def kc_bytes_to_unicode():
    """GPT-2's byte ↔ printable character map used by byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tensors(cfg, gen):
    """(name, tensor as stored) in checkpoint order, generated one at a time."""
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    qk = cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]

    def linear(name, rows, cols):
        w = torch.randn(rows, cols, generator=gen) / math.sqrt(cols)
        q, scale, _ = kc.quantize_fp8(w)
        yield name, q
        yield name + "_scale_inv", scale

    def bf16(name, t):
        yield name, t.to(torch.bfloat16)

    def norm(name, n):
        yield from bf16(name, torch.rand(n, generator=gen) * 0.8 + 0.6)

    def mlp(prefix, inter):
        yield from linear(prefix + "gate_proj.weight", inter, h)
        yield from linear(prefix + "up_proj.weight", inter, h)
        yield from linear(prefix + "down_proj.weight", h, inter)

    yield from bf16("model.embed_tokens.weight", torch.randn(cfg["vocab_size"], h, generator=gen))
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        yield from norm(p + "input_layernorm.weight", h)
        yield from norm(p + "post_attention_layernorm.weight", h)
        yield from linear(p + "self_attn.q_a_proj.weight", cfg["q_lora_rank"], h)
        yield from norm(p + "self_attn.q_a_layernorm.weight", cfg["q_lora_rank"])
        yield from linear(p + "self_attn.q_b_proj.weight", heads * qk, cfg["q_lora_rank"])
        yield from linear(p + "self_attn.kv_a_proj_with_mqa.weight", cfg["kv_lora_rank"] + cfg["qk_rope_head_dim"], h)
        yield from norm(p + "self_attn.kv_a_layernorm.weight", cfg["kv_lora_rank"])
        yield from linear(p + "self_attn.kv_b_proj.weight", heads * (cfg["qk_nope_head_dim"] + cfg["v_head_dim"]), cfg["kv_lora_rank"])
        yield from linear(p + "self_attn.o_proj.weight", h, heads * cfg["v_head_dim"])
        if layer < cfg["first_k_dense_replace"]:
            yield from mlp(p + "mlp.", cfg["intermediate_size"])
        else:
            yield from bf16(p + "mlp.gate.weight", torch.randn(cfg["n_routed_experts"], h, generator=gen) / math.sqrt(h))
            yield p + "mlp.gate.e_score_correction_bias", torch.randn(cfg["n_routed_experts"], generator=gen) * 0.1
            for e in range(cfg["n_routed_experts"]):
                yield from mlp(p + f"mlp.experts.{e}.", cfg["moe_intermediate_size"])
            yield from mlp(p + "mlp.shared_experts.", cfg["moe_intermediate_size"] * cfg["n_shared_experts"])
    yield from norm("model.norm.weight", h)
    yield from bf16("lm_head.weight", torch.randn(cfg["vocab_size"], h, generator=gen) * 2.5 / math.sqrt(h))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/kimi-medium"
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    ranks = byte_level_ranks(32768 - 256)
    # Pad with unreachable filler so that the vocabulary is exactly 32 512 ranks + 256 specials.
    r = len(ranks)
    while len(ranks) < 32768 - 256:
        ranks[("\ue000" + str(r)).encode()] = r
        r += 1
    cfg = kc.kimi_config(vocab_size=32768, bos_token_id=32512, eos_token_id=32513, **MEDIUM)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "generation_config.json"), "w") as f:
        json.dump({"max_length": cfg["max_position_embeddings"], "eos_token_id": 32514}, f, indent=2)
    kc.write_tokenizer(out, ranks)

    gen = torch.Generator().manual_seed(7)
    shard, size, index, total = {}, 0, {}, 0
    files = []

    def flush():
        nonlocal shard, size
        if shard:
            name = f"model-{len(files) + 1:05d}.safetensors"
            save_file(shard, os.path.join(out, name), metadata={"format": "pt"})
            files.append(name)
            for n in shard:
                index[n] = name
            print(f"{name}: {size / 1e9:.2f} GB", flush=True)
        shard, size = {}, 0

    for name, t in tensors(cfg, gen):
        shard[name] = t.contiguous()
        size += t.numel() * t.element_size()
        total += t.numel() * t.element_size()
        if size >= SHARD_BYTES:
            flush()
    flush()
    # Rename to the real pattern now that the shard count is known.
    renamed = {}
    for i, name in enumerate(files):
        final = f"model-{i + 1:05d}-of-{len(files):06d}.safetensors"
        os.rename(os.path.join(out, name), os.path.join(out, final))
        renamed[name] = final
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": {n: renamed[s] for n, s in sorted(index.items())}}, f, indent=1)
    print(f"wrote {out}: {total / 1e9:.2f} GB in {len(files)} shards")


if __name__ == "__main__":
    main()
