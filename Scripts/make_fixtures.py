#!/usr/bin/env python3
"""Writes the committed test fixtures: small Kimi-shaped checkpoints and transformers' logits for them.

    python3 -m venv .venv && .venv/bin/pip install -r Scripts/requirements-reference.txt
    .venv/bin/python Scripts/make_fixtures.py            # -> Tests/Fixtures/{checkpoints,references}

Deterministic (fixed seeds, one torch thread). CI never runs this: it only reads the outputs.
Each reference holds, per sequence, the prompt, transformers' 16-token greedy continuation and
the float32 logits (little-endian, rows x vocab) of prompt + continuation[:-1] in one forward.
Prompts whose routing has a near-tie (k-th vs (k+1)-th biased expert score, or kept vs dropped
group) closer than MIN_ROUTING_MARGIN are redrawn, so that float rounding cannot flip an expert.
"""
import json
import os
import sys

import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kimi_checkpoint as kc  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
MIN_ROUTING_MARGIN = 2e-4
GREEDY_STEPS = 16

# name -> (config overrides, shards (0 = one model.safetensors), MTP layers written, prompt lengths)
FIXTURES = {
    # Kimi K2's own shape in miniature: one router group, q low-rank path, one dense layer first,
    # a shared expert, YaRN with K2's beta/mscale and a small original context that the long
    # prompt exceeds; dims not multiples of 128 (kv_a has 160 rows: a partial second row block).
    "kimi-mini": (dict(max_position_embeddings=4096), 3, 0, [40, 5]),
    # DeepSeek-V3-like routing (4 groups, keep 2) with queries through plain q_proj (q_lora_rank
    # null), two dense layers first, two shared experts, YaRN with DeepSeek's beta_fast 32 and no
    # mscale keys (so cos/sin carry the 0.1 ln(f) + 1 attention factor), a different eps, and a
    # multi-token-prediction layer in the checkpoint that the loader must skip.
    "deepseek-grouped": (dict(
        hidden_size=136, intermediate_size=128, moe_intermediate_size=24, num_hidden_layers=4,
        q_lora_rank=None, kv_lora_rank=64, qk_nope_head_dim=24, qk_rope_head_dim=16, v_head_dim=16,
        n_routed_experts=16, n_shared_experts=2, num_experts_per_tok=4, n_group=4, topk_group=2,
        first_k_dense_replace=2, routed_scaling_factor=2.5, rms_norm_eps=1e-5, rope_theta=10000.0,
        rope_scaling={"type": "yarn", "factor": 40.0, "original_max_position_embeddings": 32,
                      "beta_fast": 32, "beta_slow": 1},
        max_position_embeddings=1280, num_nextn_predict_layers=1), 2, 1, [48, 5]),
    # No rope scaling, every layer MoE, no shared expert, unnormalised top-k, tied embeddings,
    # a single model.safetensors without an index.
    "plain-moe": (dict(
        hidden_size=144, num_hidden_layers=2, first_k_dense_replace=0, num_attention_heads=2,
        num_key_value_heads=2, q_lora_rank=32, kv_lora_rank=32, qk_nope_head_dim=16,
        qk_rope_head_dim=8, v_head_dim=32, n_routed_experts=6, n_shared_experts=0,
        num_experts_per_tok=2, n_group=2, topk_group=1, norm_topk_prob=False,
        routed_scaling_factor=1.0, rope_scaling=None, rope_theta=10000.0,
        max_position_embeddings=64, tie_word_embeddings=True), 0, 0, [24, 5]),
}

# Kimi-K2-Thinking's ignore list (its config.json): attention, shared experts and the dense
# layer's MLP stay BF16, as does lm_head; the routed experts are int4 with group 32.
K2_THINKING_IGNORE = ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*", r"re:.*mlp\.(gate|up|gate_up|down)_proj.*"]

# name -> (config overrides, shards, int4 (group size, other linears, weight_shape dtype), prompt lengths)
INT4_FIXTURES = {
    # Kimi-K2-Thinking in miniature: int4 experts (group 32, BF16 scales, I32 weight_shape), the
    # rest BF16. moe_intermediate_size a multiple of 32, as compressed-tensors needs.
    "k2-thinking-int4": (dict(max_position_embeddings=4096, moe_intermediate_size=64,
                              quantization_config=kc.int4_quantization_config(32, K2_THINKING_IGNORE)),
                         2, (32, "bfloat16", torch.int32), [40, 5]),
    # A w4a16 mix with block-fp8, as `kimi-serve quantize` writes from a block-fp8 checkpoint:
    # int4 experts (group 128, I64 weight_shape), every other linear block-fp8 under
    # compressed-tensors' names; hidden and moe_intermediate multiples of 128.
    "w4a16-fp8": (dict(hidden_size=256, moe_intermediate_size=128, max_position_embeddings=4096,
                       quantization_config=kc.int4_quantization_config(128, ["lm_head"], fp8_rest=True)),
                  3, (128, "fp8", torch.int64), [40, 5]),
}


def make(name, overrides, shards, mtp_layers, prompt_lengths, ranks, seed, int4=None):
    ckpt = os.path.join(ROOT, "checkpoints", name)
    refdir = os.path.join(ROOT, "references", name)
    os.makedirs(ckpt, exist_ok=True)
    os.makedirs(refdir, exist_ok=True)
    vocab = len(ranks) + 256
    cfg = kc.kimi_config(vocab_size=vocab, bos_token_id=len(ranks), eos_token_id=len(ranks) + 1, **overrides)
    builder = kc.Builder(cfg, seed, int4=int4)
    builder.build(extra_layers=mtp_layers)
    kc.write_checkpoint(ckpt, cfg, builder, shards)
    with open(os.path.join(ckpt, "generation_config.json"), "w") as f:
        json.dump({"max_length": cfg["max_position_embeddings"], "eos_token_id": len(ranks) + 2}, f, indent=2)
    kc.write_tokenizer(ckpt, ranks)

    model = kc.reference_model(cfg, builder)
    probe = kc.RoutingProbe(model, cfg)
    rng = np.random.default_rng(seed)
    sequences = []
    for i, length in enumerate(prompt_lengths):
        for attempt in range(200):
            prompt = [int(t) for t in rng.integers(0, vocab, size=length)]
            probe.min_margin = float("inf")
            greedy, logits = kc.greedy_reference(model, prompt, GREEDY_STEPS)
            if probe.min_margin >= MIN_ROUTING_MARGIN:
                break
        else:
            raise SystemExit(f"{name}: no prompt of length {length} without a routing near-tie")
        top2 = np.sort(logits, axis=1)[:, -2:]
        file = f"seq{i}.f32"
        logits.astype("<f4").tofile(os.path.join(refdir, file))
        sequences.append({"prompt": prompt, "greedy": greedy, "logits": file, "rows": int(logits.shape[0]),
                          "min_routing_margin": probe.min_margin,
                          "min_top2_margin": float((top2[:, 1] - top2[:, 0]).min()),
                          "max_abs_logit": float(np.abs(logits).max())})
        print(f"{name} seq{i}: prompt {length}, redraws {attempt}, routing margin {probe.min_margin:.2e}")
    with open(os.path.join(refdir, "reference.json"), "w") as f:
        json.dump({"generator": "Scripts/make_fixtures.py", "transformers": transformers.__version__,
                   "torch": torch.__version__, "checkpoint": name, "vocab_size": vocab,
                   "sequences": sequences}, f, indent=1)
    return builder


def main():
    torch.set_num_threads(1)
    ranks = kc.train_bpe(kc.SAMPLE_TEXT, merges=128)
    for seed, (name, spec) in enumerate(FIXTURES.items()):
        builder = make(name, *spec, ranks=ranks, seed=1000 + seed)
        if name == "kimi-mini":
            write_quantize_reference(name, builder, group_size=16)
    for seed, (name, (overrides, shards, int4, lengths)) in enumerate(INT4_FIXTURES.items()):
        builder = make(name, overrides, shards, 0, lengths, ranks=ranks, seed=2000 + seed, int4=int4)
        write_dequantized(name, builder)


def write_quantize_reference(name, builder, group_size):
    """What `kimi-serve quantize --group-size G` must write for a few of the fixture's expert
    weights: compressed-tensors' own int4 quantisation (calculate_qparams for the scales, as
    float32 then rounded to the BF16 stored, then PackedQuantizationCompressor) of the weights
    the checkpoint holds (block-fp8 times its scales, exact in float32)."""
    from compressed_tensors.compressors.pack_quantized.base import PackedQuantizationCompressor
    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
    from compressed_tensors.quantization.utils import calculate_qparams
    from safetensors.torch import save_file
    args = QuantizationArgs(num_bits=4, type="int", symmetric=True, strategy="group", group_size=group_size)
    scheme = QuantizationScheme(targets=["Linear"], weights=args)
    out = {}
    for tensor in ["model.layers.1.mlp.experts.0.gate_proj.weight", "model.layers.2.mlp.experts.7.down_proj.weight"]:
        w = builder.effective[tensor]
        rows, cols = w.shape
        groups = w.view(rows, cols // group_size, group_size)
        scale, zero_point = calculate_qparams(groups.amin(-1), groups.amax(-1), args)
        stored = PackedQuantizationCompressor.compress(
            {"weight": w, "weight_scale": scale.to(torch.bfloat16), "weight_zero_point": zero_point}, scheme)
        module = tensor[:-len(".weight")]
        out[module + ".weight_packed"] = stored["weight_packed"]
        out[module + ".weight_scale"] = stored["weight_scale"]
    save_file(out, os.path.join(ROOT, "references", name, f"quantize-int4-group{group_size}.safetensors"),
              metadata={"generator": "Scripts/make_fixtures.py (compressed-tensors calculate_qparams + PackedQuantizationCompressor)"})


def write_dequantized(name, builder):
    """compressed-tensors' own dequantised values of a few int4 matrices (float32, row-major),
    which kimi-serve's unpacking must reproduce exactly."""
    refdir = os.path.join(ROOT, "references", name)
    tensors = []
    for tensor in ["model.layers.1.mlp.experts.0.gate_proj.weight", "model.layers.2.mlp.experts.7.down_proj.weight"]:
        w = builder.effective[tensor]
        file = tensor.replace("model.layers.", "layer").replace(".mlp.experts.", "-expert").replace(".weight", "") + ".f32"
        w.numpy().astype("<f4").tofile(os.path.join(refdir, file))
        tensors.append({"tensor": tensor, "shape": list(w.shape), "file": file})
    with open(os.path.join(refdir, "dequantized.json"), "w") as f:
        json.dump({"generator": "Scripts/make_fixtures.py (compressed-tensors PackedQuantizationCompressor.decompress)",
                   "tensors": tensors}, f, indent=1)


if __name__ == "__main__":
    main()
