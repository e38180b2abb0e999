#!/usr/bin/env python3
"""Shape sweep: random Kimi-shaped checkpoints, `kimi-serve forward --logits-out` vs transformers.

    swift build -c release
    .venv/bin/python Scripts/check_forward.py [--count 10] [--seed 1] [--binary .build/release/kimi-serve]

Each case draws a config (hidden sizes, heads, head dims, ranks, q_lora_rank null or not, expert
counts, groups, shared experts, dense-first layers, YaRN or plain RoPE, tied embeddings, one
file or shards) and a projection dtype (block-fp8 mostly, else BF16 / F16 / F32 without
quantization_config, or compressed-tensors int4 routed experts with group 16…128 beside BF16 or
block-fp8 linears), writes the checkpoint like make_fixtures.py, runs a random prompt longer than
the YaRN original context through both, and checks max |Δlogit| <= 1e-4 * max |logit|.
Nothing is kept; exit status 1 if any case fails.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kimi_checkpoint as kc  # noqa: E402

TOLERANCE = 1e-4


def draw_config(rng, vocab):
    heads = int(rng.integers(1, 7))
    groups = int(rng.choice([1, 1, 2, 4]))
    per_group = int(rng.integers(2, 6))
    experts = groups * per_group
    topk_group = int(rng.integers(1, groups + 1))
    k = int(rng.integers(1, min(topk_group * per_group, 6) + 1))
    layers = int(rng.integers(1, 5))
    rope = int(rng.choice([4, 8, 16, 32]))
    original = int(rng.choice([8, 16, 32]))
    yarn = rng.random() < 0.7
    scaling = None
    if yarn:
        scaling = {"type": "yarn", "factor": float(rng.choice([4.0, 8.0, 32.0, 40.0])),
                   "original_max_position_embeddings": original,
                   "beta_fast": float(rng.choice([1.0, 32.0])), "beta_slow": 1.0}
        if rng.random() < 0.6:
            m = float(rng.choice([1.0, 0.707]))
            scaling.update(mscale=m, mscale_all_dim=m)
    return kc.kimi_config(
        vocab_size=vocab, hidden_size=int(rng.integers(40, 300)),
        intermediate_size=int(rng.integers(16, 260)), moe_intermediate_size=int(rng.integers(8, 80)),
        num_hidden_layers=layers, first_k_dense_replace=int(rng.integers(0, layers + 1)),
        num_attention_heads=heads, num_key_value_heads=heads,
        q_lora_rank=None if rng.random() < 0.3 else int(rng.integers(8, 140)),
        kv_lora_rank=int(rng.integers(8, 260)), qk_nope_head_dim=int(rng.integers(4, 48)),
        qk_rope_head_dim=rope, v_head_dim=int(rng.integers(4, 48)),
        n_routed_experts=experts, n_shared_experts=int(rng.integers(0, 3)), num_experts_per_tok=k,
        n_group=groups, topk_group=topk_group, norm_topk_prob=bool(rng.random() < 0.8),
        routed_scaling_factor=float(rng.choice([1.0, 2.5, 2.827])),
        rms_norm_eps=float(rng.choice([1e-6, 1e-5])), rope_theta=float(rng.choice([10000.0, 50000.0])),
        rope_scaling=scaling, max_position_embeddings=256, tie_word_embeddings=bool(rng.random() < 0.2),
        bos_token_id=vocab - 256, eos_token_id=vocab - 255)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "kimi-serve"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    ranks = kc.train_bpe(kc.SAMPLE_TEXT, merges=64)
    vocab = len(ranks) + 256
    rng = np.random.default_rng(args.seed)
    failures = 0
    for case in range(args.count):
        cfg = draw_config(rng, vocab)
        linear_dtype = str(rng.choice(["fp8", "fp8", "fp8", "bfloat16", "float16", "float32", "int4", "int4"]))
        int4 = None
        if linear_dtype == "int4":
            group, other = int(rng.choice([16, 32, 64, 128])), str(rng.choice(["bfloat16", "fp8"]))
            for key in ("hidden_size", "moe_intermediate_size"):  # compressed-tensors: columns a multiple of the group
                cfg[key] = -(-cfg[key] // group) * group
            ignore = ["lm_head"] if other == "fp8" else ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*",
                                                          r"re:.*mlp\.(gate|up|down)_proj.*"]
            cfg["quantization_config"] = kc.int4_quantization_config(group, ignore, fp8_rest=other == "fp8")
            int4 = (group, other, torch.int64)
            linear_dtype = f"int4 group {group} + {other}"
        elif linear_dtype != "fp8":
            cfg["quantization_config"] = None
        builder = kc.Builder(cfg, seed=args.seed * 1000 + case, linear_dtype=linear_dtype, int4=int4)
        builder.build()
        with tempfile.TemporaryDirectory() as directory:
            kc.write_checkpoint(directory, cfg, builder, shards=int(rng.integers(0, 4)))
            kc.write_tokenizer(directory, ranks)
            model = kc.reference_model(cfg, builder)
            probe = kc.RoutingProbe(model, cfg)
            length = int(rng.integers(cfg["rope_scaling"]["original_max_position_embeddings"] + 1, 70)) \
                if cfg["rope_scaling"] else int(rng.integers(2, 70))
            for _ in range(100):
                tokens = [int(t) for t in rng.integers(0, vocab, size=length)]
                probe.min_margin = float("inf")
                with torch.no_grad():
                    reference = model(torch.tensor([tokens])).logits[0].numpy()
                if probe.min_margin >= 2e-4:
                    break
            out = os.path.join(directory, "logits.f32")
            subprocess.run([args.binary, "forward", "--model", directory, "--tokens", ",".join(map(str, tokens)),
                            "--logits-out", out], check=True, stdout=subprocess.DEVNULL)
            ours = np.fromfile(out, dtype="<f4").reshape(reference.shape)
        scale = float(np.abs(reference).max())
        diff = float(np.abs(ours - reference).max())
        ok = diff <= TOLERANCE * scale
        failures += not ok
        shape = (f"hidden {cfg['hidden_size']}, {cfg['num_hidden_layers']} layers ({cfg['first_k_dense_replace']} dense), "
                 f"{cfg['num_attention_heads']} heads, q_lora {cfg['q_lora_rank']}, kv_lora {cfg['kv_lora_rank']}, "
                 f"nope/rope/v {cfg['qk_nope_head_dim']}/{cfg['qk_rope_head_dim']}/{cfg['v_head_dim']}, "
                 f"experts {cfg['n_routed_experts']} top {cfg['num_experts_per_tok']} groups {cfg['topk_group']}/{cfg['n_group']} "
                 f"shared {cfg['n_shared_experts']}, {'yarn' if cfg['rope_scaling'] else 'rope'}, tied {cfg['tie_word_embeddings']}, "
                 f"linears {linear_dtype}")
        print(f"case {case}: {'ok  ' if ok else 'FAIL'} {length} tokens, max|Δ| {diff:.2e} = {diff / scale:.2e} of max|logit| — {shape}")
    print(f"{args.count - failures}/{args.count} within {TOLERANCE} x max|logit|")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
