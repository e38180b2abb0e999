"""Small checkpoints in the exact Kimi-K2-Instruct layout, and their transformers reference.

Shared by the fixture generator (make_fixtures.py) and the shape sweep (check_forward.py).
Needs: torch (CPU wheel from /opt/wheels), transformers, safetensors, numpy, regex.

Layout written (as Kimi-K2-Instruct's Hugging Face repository lays it out):
  config.json                      Kimi's key set (model_type kimi_k2, rope_scaling, quantization_config)
  generation_config.json           eos = <|im_end|>
  tiktoken.model                   base64(bytes) rank, one line per mergeable token
  tokenizer_config.json            added_tokens_decoder with Kimi's specials at the end of the vocab
  model-0000i-of-00000N.safetensors + model.safetensors.index.json   (or a single model.safetensors)
Every Linear inside the layers is F8_E4M3 with an F32 `<name>_scale_inv` of shape
[ceil(rows/128), ceil(cols/128)]; embeddings, lm_head, norms and the router are BF16; the router
bias is F32. With a compressed-tensors config (quantize_int4, INT4_FORMATS), chosen linears are
pack-quantized int4 instead, as Kimi-K2-Thinking stores its routed experts.
"""
import base64
import json
import math
import os

import numpy as np
import regex
import unicodedata
import torch
from safetensors.torch import save_file

BLOCK = 128

# The 8 alternatives of Kimi's pat_str (tokenization_kimi.py).
KIMI_PAT_STR = "|".join([
    r"""[\p{Han}]+""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])

# Kimi K2's named special tokens (tokenizer_config.json's added_tokens_decoder): (offset after the
# mergeable ranks, text, special flag); the rest are reserved.
KIMI_SPECIALS = [
    (0, "[BOS]", True), (1, "[EOS]", True), (2, "<|im_end|>", True), (3, "<|im_user|>", True),
    (4, "<|im_assistant|>", True), (6, "<|start_header_id|>", True), (7, "<|end_header_id|>", True),
    (9, "[EOT]", True), (10, "<|im_system|>", True), (11, "<|tool_calls_section_begin|>", False),
    (12, "<|tool_calls_section_end|>", False), (13, "<|tool_call_begin|>", False),
    (14, "<|tool_call_argument_begin|>", False), (15, "<|tool_call_end|>", False),
    (17, "<|im_middle|>", True), (254, "[UNK]", True), (255, "[PAD]", True),
]
ADDITIONAL_SPECIAL = ["<|im_end|>", "<|im_user|>", "<|im_assistant|>", "<|start_header_id|>",
                      "<|end_header_id|>", "[EOT]", "<|im_system|>", "<|im_middle|>"]

SAMPLE_TEXT = """The quick brown fox jumps over the lazy dog. It's a sunny day in Beijing, and we'll check
the weather using the tool. What's 12 + 345? I've got 6789 apples; they're red.
你好，世界！今天北京的天气很好。我们来检查一下天气。
Kimi is an AI assistant created by Moonshot AI. Please give a brief self-introduction.
def forward(self, x):\n    return self.down(silu(self.gate(x)) * self.up(x))\r\n
Ünïcödé façade naïve café — «quotes» and emoji 🙂🚀 mixed with CJK 東京 서울.
"""


def gpt2_byte_order():
    """The 256 single bytes in tiktoken's "data gym" rank order (printable bytes first)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    return printable + [b for b in range(256) if b not in printable]


def token_class(token):
    """"letter", "digit", "space", "other", or None for bytes inside one character."""
    text = token.decode("utf-8", errors="ignore")
    if not text:
        return None
    if all(c.isalpha() or unicodedata.category(c).startswith("M") for c in text):
        return "letter"
    if all(c.isdigit() for c in text):
        return "digit"
    if all(c.isspace() for c in text):
        return "space"
    if not any(c.isalnum() or c.isspace() for c in text):
        return "other"
    return "mixed"


def train_bpe(text, merges, homogeneous=False):
    """Rank-ordered byte-pair merges over Kimi's pre-tokenised pieces; returns {bytes: rank}.
    With `homogeneous`, no merged token mixes letters, digits, spaces and punctuation, so a word
    is split into the same tokens wherever it stands (after a space, inside quotes): copying a
    name from a question into tool-call JSON is then copying tokens."""
    pattern = regex.compile(KIMI_PAT_STR, flags=regex.V1)
    words = {}
    for piece in pattern.findall(text):
        key = tuple(bytes([b]) for b in piece.encode("utf-8"))
        words[key] = words.get(key, 0) + 1
    ranks = {bytes([b]): i for i, b in enumerate(gpt2_byte_order())}
    for _ in range(merges):
        pairs = {}
        for word, count in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + count
        if not pairs:
            break
        if homogeneous:
            pairs = {p: n for p, n in pairs.items() if token_class(p[0] + p[1]) in (None, "letter", "digit", "space", "other")
                     and {token_class(p[0]), token_class(p[1])} - {None} != {"letter", "digit"}}
            if not pairs:
                break
        best = max(pairs.items(), key=lambda kv: (kv[1], -ranks[kv[0][0]], -ranks[kv[0][1]]))[0]
        merged = best[0] + best[1]
        if merged in ranks:
            break
        ranks[merged] = len(ranks)
        new_words = {}
        for word, count in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + count
        words = new_words
    return ranks


def write_tokenizer(directory, ranks):
    with open(os.path.join(directory, "tiktoken.model"), "w") as f:
        for token, rank in sorted(ranks.items(), key=lambda kv: kv[1]):
            f.write(f"{base64.b64encode(token).decode()} {rank}\n")
    n = len(ranks)
    decoder = {}
    for offset, text, special in KIMI_SPECIALS:
        decoder[str(n + offset)] = {"content": text, "lstrip": False, "normalized": False,
                                    "rstrip": False, "single_word": False, "special": special}
    config = {
        "added_tokens_decoder": decoder,
        "additional_special_tokens": ADDITIONAL_SPECIAL,
        "auto_map": {"AutoTokenizer": ["tokenization_kimi.TikTokenTokenizer", None]},
        "bos_token": "[BOS]", "eos_token": "[EOS]", "unk_token": "[UNK]", "pad_token": "[PAD]",
        "clean_up_tokenization_spaces": False,
        "model_max_length": 1000000000000000019884624838656,
        "tokenizer_class": "TikTokenTokenizer",
    }
    with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)


def kimi_config(**overrides):
    """A config.json dict with Kimi K2's key set, small values by default."""
    cfg = {
        "architectures": ["DeepseekV3ForCausalLM"],
        "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config",
                     "AutoModel": "modeling_deepseek.DeepseekV3Model",
                     "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"},
        "model_type": "kimi_k2",
        "vocab_size": None,  # filled from the tokenizer
        "hidden_size": 160, "intermediate_size": 192, "moe_intermediate_size": 48,
        "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 4,
        "q_lora_rank": 48, "kv_lora_rank": 144, "qk_nope_head_dim": 32, "qk_rope_head_dim": 16,
        "v_head_dim": 24, "n_routed_experts": 8, "n_shared_experts": 1, "num_experts_per_tok": 3,
        "n_group": 1, "topk_group": 1, "topk_method": "noaux_tc", "scoring_func": "sigmoid",
        "norm_topk_prob": True, "routed_scaling_factor": 2.827, "first_k_dense_replace": 1,
        "moe_layer_freq": 1, "rms_norm_eps": 1e-6, "rope_theta": 50000.0,
        "rope_scaling": {"type": "yarn", "factor": 8.0, "original_max_position_embeddings": 16,
                         "beta_fast": 1.0, "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0},
        "max_position_embeddings": 128, "bos_token_id": None, "eos_token_id": None,
        "tie_word_embeddings": False,
        "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                                "weight_block_size": [BLOCK, BLOCK]},
        "num_nextn_predict_layers": 0, "attention_bias": False, "attention_dropout": 0.0,
        "aux_loss_alpha": 0.001, "seq_aux": True, "hidden_act": "silu", "initializer_range": 0.02,
        "pretraining_tp": 1, "use_cache": True, "torch_dtype": "bfloat16", "transformers_version": "4.48.3",
    }
    cfg.update(overrides)
    return cfg


def quantize_int4(w, group_size, scale_dtype=torch.bfloat16):
    """compressed-tensors pack-quantized int4, symmetric, one scale per group_size columns, made
    by the compressed-tensors package itself (its qparams, quantize and pack): returns the stored
    tensors (weight_packed, weight_scale, weight_shape) and compressed-tensors' own decompressed
    weights (in the scale's dtype, as it dequantises), which the reference computes with."""
    from compressed_tensors.compressors.pack_quantized.base import PackedQuantizationCompressor
    from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
    from compressed_tensors.quantization.utils import calculate_qparams
    rows, cols = w.shape
    args = QuantizationArgs(num_bits=4, type="int", symmetric=True, strategy="group", group_size=group_size)
    groups = w.view(rows, cols // group_size, group_size)
    scale, zero_point = calculate_qparams(groups.amin(-1), groups.amax(-1), args)
    scheme = QuantizationScheme(targets=["Linear"], weights=args)
    stored = PackedQuantizationCompressor.compress(
        {"weight": w.to(scale_dtype), "weight_scale": scale.to(scale_dtype), "weight_zero_point": zero_point}, scheme)
    effective = PackedQuantizationCompressor.decompress(dict(stored), scheme)["weight"].to(torch.float32)
    return stored, effective


def int4_quantization_config(group_size, ignore, fp8_rest=False):
    """config.json's quantization_config for int4 routed experts (compressed-tensors), the
    rest unquantised (`ignore`) or, with fp8_rest, block-fp8 under compressed-tensors' names."""
    weights = {"actorder": None, "block_structure": None, "dynamic": False, "group_size": group_size,
               "num_bits": 4, "observer": "minmax", "observer_kwargs": {}, "strategy": "group",
               "symmetric": True, "type": "int"}
    groups = {"group_0": {"input_activations": None, "output_activations": None,
                          "targets": [r"re:.*mlp\.experts\..*"] if fp8_rest else ["Linear"], "weights": weights}}
    if fp8_rest:
        groups["group_0"]["format"] = "pack-quantized"
        groups["group_1"] = {"input_activations": None, "output_activations": None, "targets": ["Linear"],
                             "format": "float-quantized",
                             "weights": {"actorder": None, "block_structure": [BLOCK, BLOCK], "dynamic": False,
                                         "group_size": None, "num_bits": 8, "observer": "minmax",
                                         "observer_kwargs": {}, "strategy": "block", "symmetric": True,
                                         "type": "float"}}
    return {"config_groups": groups, "format": "mixed-precision" if fp8_rest else "pack-quantized",
            "ignore": ignore, "kv_cache_scheme": None, "quant_method": "compressed-tensors",
            "quantization_status": "compressed"}


def quantize_fp8(w):
    """Block-fp8 as DeepSeek stores it: per 128x128 block scale = amax/448, partial edge blocks."""
    rows, cols = w.shape
    br, bc = math.ceil(rows / BLOCK), math.ceil(cols / BLOCK)
    padded = torch.zeros(br * BLOCK, bc * BLOCK, dtype=torch.float32)
    padded[:rows, :cols] = w
    blocks = padded.view(br, BLOCK, bc, BLOCK)
    amax = blocks.abs().amax(dim=(1, 3))
    scale = torch.where(amax > 0, amax / 448.0, torch.ones_like(amax))
    q = (blocks / scale[:, None, :, None]).clamp(-448, 448).to(torch.float8_e4m3fn)
    deq = (q.to(torch.float32) * scale[:, None, :, None]).view(br * BLOCK, bc * BLOCK)[:rows, :cols]
    return q.view(br * BLOCK, bc * BLOCK)[:rows, :cols].contiguous(), scale.contiguous(), deq.contiguous()


class Builder:
    """Random weights that keep activations sane and their exact values."""

    def __init__(self, cfg, seed, linear_dtype="fp8", int4=None):
        """linear_dtype: "fp8" (block-quantised with scale_inv, the real layout) or a torch
        float dtype name ("bfloat16", "float16", "float32") for unquantised projections.
        int4: None, or (group_size, other, shape_dtype): routed experts pack-quantized int4 with
        bf16 scales and weight_shape in shape_dtype, the other linears "bfloat16" or "fp8"
        (block-fp8 with compressed-tensors' `weight_scale`)."""
        self.cfg = cfg
        self.linear_dtype = linear_dtype
        self.int4 = int4
        self.source = None  # name -> float tensor to store instead of random values
        self.gen = torch.Generator().manual_seed(seed)
        self.stored = {}     # name -> tensor as written to the checkpoint
        self.effective = {}  # name -> float32 tensor the reference computes with

    def normal(self, shape, std):
        return torch.randn(*shape, generator=self.gen) * std

    def value(self, name, make):
        """The trained value of `name` when building from a model, else a random one."""
        if self.source is not None:
            return self.source[name].detach().to(torch.float32)
        return make()

    def linear(self, name, rows, cols):
        w = self.value(name, lambda: self.normal((rows, cols), 1.0 / math.sqrt(max(cols, 1))))
        if self.int4 is not None:
            group_size, other, shape_dtype = self.int4
            module = name[:-len(".weight")]
            if ".mlp.experts." in name:
                stored, self.effective[name] = quantize_int4(w, group_size)
                stored["weight_shape"] = stored["weight_shape"].to(shape_dtype)
                for key, t in stored.items():
                    self.stored[f"{module}.{key}"] = t
                return
            if other == "fp8":
                q, scale, self.effective[name] = quantize_fp8(w)
                self.stored[name] = q
                self.stored[module + ".weight_scale"] = scale
                return
            self.stored[name] = w.to(torch.bfloat16)
            self.effective[name] = self.stored[name].to(torch.float32)
            return
        if self.linear_dtype != "fp8":
            stored = w.to(getattr(torch, self.linear_dtype))
            self.stored[name] = stored
            self.effective[name] = stored.to(torch.float32)
            return
        q, scale, deq = quantize_fp8(w)
        self.stored[name] = q
        self.stored[name + "_scale_inv"] = scale
        self.effective[name] = deq

    def bf16(self, name, tensor):
        b = self.value(name, lambda: tensor).to(torch.bfloat16)
        self.stored[name] = b
        self.effective[name] = b.to(torch.float32)

    def norm(self, name, n):
        self.bf16(name, torch.rand(n, generator=self.gen) * 0.8 + 0.6)

    def from_trained(self, state):
        """Builds from a DeepseekV3ForCausalLM state dict (routed experts unstacked)."""
        c, source = self.cfg, {}
        for name, t in state.items():
            if name.endswith("mlp.experts.gate_up_proj"):
                prefix = name[:-len("gate_up_proj")]
                inter = c["moe_intermediate_size"]
                for e in range(t.shape[0]):
                    source[f"{prefix}{e}.gate_proj.weight"] = t[e, :inter]
                    source[f"{prefix}{e}.up_proj.weight"] = t[e, inter:]
            elif name.endswith("mlp.experts.down_proj"):
                prefix = name[:-len("down_proj")]
                for e in range(t.shape[0]):
                    source[f"{prefix}{e}.down_proj.weight"] = t[e]
            else:
                source[name] = t
        self.source = source
        self.build()

    def build(self, extra_layers=0):
        c = self.cfg
        h, heads = c["hidden_size"], c["num_attention_heads"]
        qk = c["qk_nope_head_dim"] + c["qk_rope_head_dim"]
        # Tied embeddings double as lm_head, so they take lm_head's scale.
        embed_std = 2.5 / math.sqrt(h) if c["tie_word_embeddings"] else 1.0
        self.bf16("model.embed_tokens.weight", self.normal((c["vocab_size"], h), embed_std))
        for layer in range(c["num_hidden_layers"] + extra_layers):
            p = f"model.layers.{layer}."
            self.norm(p + "input_layernorm.weight", h)
            self.norm(p + "post_attention_layernorm.weight", h)
            if c["q_lora_rank"] is None:
                self.linear(p + "self_attn.q_proj.weight", heads * qk, h)
            else:
                self.linear(p + "self_attn.q_a_proj.weight", c["q_lora_rank"], h)
                self.norm(p + "self_attn.q_a_layernorm.weight", c["q_lora_rank"])
                self.linear(p + "self_attn.q_b_proj.weight", heads * qk, c["q_lora_rank"])
            self.linear(p + "self_attn.kv_a_proj_with_mqa.weight", c["kv_lora_rank"] + c["qk_rope_head_dim"], h)
            self.norm(p + "self_attn.kv_a_layernorm.weight", c["kv_lora_rank"])
            self.linear(p + "self_attn.kv_b_proj.weight",
                        heads * (c["qk_nope_head_dim"] + c["v_head_dim"]), c["kv_lora_rank"])
            self.linear(p + "self_attn.o_proj.weight", h, heads * c["v_head_dim"])
            if layer < c["first_k_dense_replace"]:
                self.mlp(p + "mlp.", c["intermediate_size"])
            else:
                self.bf16(p + "mlp.gate.weight", self.normal((c["n_routed_experts"], h), 1.0 / math.sqrt(h)))
                bias = self.value(p + "mlp.gate.e_score_correction_bias", lambda: self.normal((c["n_routed_experts"],), 0.1))
                self.stored[p + "mlp.gate.e_score_correction_bias"] = bias
                self.effective[p + "mlp.gate.e_score_correction_bias"] = bias
                for e in range(c["n_routed_experts"]):
                    self.mlp(p + f"mlp.experts.{e}.", c["moe_intermediate_size"])
                if c["n_shared_experts"] > 0:
                    self.mlp(p + "mlp.shared_experts.", c["moe_intermediate_size"] * c["n_shared_experts"])
            if layer >= c["num_hidden_layers"]:  # a multi-token-prediction layer, as DeepSeek-V3's 61
                self.bf16(p + "embed_tokens.weight", self.normal((c["vocab_size"], h), 1.0))
                self.norm(p + "enorm.weight", h)
                self.norm(p + "hnorm.weight", h)
                self.linear(p + "eh_proj.weight", h, 2 * h)
                self.norm(p + "shared_head.norm.weight", h)
                self.bf16(p + "shared_head.head.weight", self.normal((c["vocab_size"], h), 1.0 / math.sqrt(h)))
        self.norm("model.norm.weight", h)
        if not c["tie_word_embeddings"]:
            self.bf16("lm_head.weight", self.normal((c["vocab_size"], h), 2.5 / math.sqrt(h)))

    def mlp(self, prefix, inter):
        h = self.cfg["hidden_size"]
        self.linear(prefix + "gate_proj.weight", inter, h)
        self.linear(prefix + "up_proj.weight", inter, h)
        self.linear(prefix + "down_proj.weight", h, inter)


def write_checkpoint(directory, cfg, builder, shards):
    """Shards named like the 0905 release; a weight and its scale_inv may sit in different shards."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(directory, "generation_config.json"), "w") as f:
        json.dump({"max_length": cfg["max_position_embeddings"], "eos_token_id": cfg["eos_token_id"]}, f, indent=2)
    names = list(builder.stored)
    if shards == 0:
        save_file(builder.stored, os.path.join(directory, "model.safetensors"), metadata={"format": "pt"})
        return
    total = sum(t.numel() * t.element_size() for t in builder.stored.values())
    per_shard = total / shards
    assignment, acc = {}, 0
    for name in names:
        t = builder.stored[name]
        shard = min(int(acc / per_shard), shards - 1)
        assignment[name] = shard
        acc += t.numel() * t.element_size()
    files = [f"model-{i + 1:05d}-of-{shards:06d}.safetensors" for i in range(shards)]
    for i, file in enumerate(files):
        part = {n: builder.stored[n] for n in names if assignment[n] == i}
        save_file(part, os.path.join(directory, file), metadata={"format": "pt"})
    index = {"metadata": {"total_size": total}, "weight_map": {n: files[assignment[n]] for n in sorted(names)}}
    with open(os.path.join(directory, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)


def hf_config(cfg):
    """transformers' DeepseekV3Config for a Kimi-style config dict (eager attention and experts)."""
    from transformers import DeepseekV3Config
    hf = {k: v for k, v in cfg.items() if k not in ("rope_scaling", "auto_map", "architectures",
                                                   "model_type", "quantization_config", "torch_dtype",
                                                   "transformers_version", "num_nextn_predict_layers")}
    if cfg.get("rope_scaling"):
        rope = dict(cfg["rope_scaling"])
        rope["rope_type"] = rope.pop("type")
    else:
        rope = {"rope_type": "default"}
    rope["rope_theta"] = cfg["rope_theta"]
    hf["rope_parameters"] = rope
    hf["num_mtp_layers"] = 0
    config = DeepseekV3Config(**hf)
    config._attn_implementation = "eager"
    config._experts_implementation = "eager"
    return config


def reference_model(cfg, builder):
    """transformers' own DeepseekV3ForCausalLM, float32, eager, loaded with the dequantised weights."""
    from transformers import DeepseekV3ForCausalLM
    model = DeepseekV3ForCausalLM(hf_config(cfg)).to(torch.float32).eval()
    state = {}
    c, w = cfg, builder.effective
    for name, t in w.items():
        layer = int(name.split(".")[2]) if name.startswith("model.layers.") else -1
        if layer >= c["num_hidden_layers"] or ".mlp.experts." in name:
            continue
        state[name] = t
    for layer in range(c["first_k_dense_replace"], c["num_hidden_layers"]):
        p = f"model.layers.{layer}.mlp."
        experts = range(c["n_routed_experts"])
        state[p + "experts.gate_up_proj"] = torch.stack(
            [torch.cat([w[p + f"experts.{e}.gate_proj.weight"], w[p + f"experts.{e}.up_proj.weight"]]) for e in experts])
        state[p + "experts.down_proj"] = torch.stack([w[p + f"experts.{e}.down_proj.weight"] for e in experts])
        if c["n_shared_experts"] == 0:
            h = c["hidden_size"]
            state[p + "shared_experts.gate_proj.weight"] = torch.zeros(0, h)
            state[p + "shared_experts.up_proj.weight"] = torch.zeros(0, h)
            state[p + "shared_experts.down_proj.weight"] = torch.zeros(h, 0)
    if c["tie_word_embeddings"]:
        state["lm_head.weight"] = w["model.embed_tokens.weight"]
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not (c["tie_word_embeddings"] and m == "lm_head.weight")]
    assert not missing and not unexpected, (missing, unexpected)
    return model


class RoutingProbe:
    """Records, per MoE layer and token, how far the chosen experts and groups are from a tie."""

    def __init__(self, model, cfg):
        self.cfg, self.min_margin = cfg, float("inf")
        for layer in model.model.layers:
            if hasattr(layer.mlp, "gate"):
                layer.mlp.gate.register_forward_hook(self.hook)

    def hook(self, module, inputs, _output):
        c = self.cfg
        x = inputs[0].reshape(-1, c["hidden_size"]).float()
        s = torch.sigmoid(x @ module.weight.float().T) + module.e_score_correction_bias
        k, groups, keep = c["num_experts_per_tok"], c["n_group"], c["topk_group"]
        if 1 < groups and keep < groups:
            grouped = s.view(s.shape[0], groups, -1)
            group_scores = grouped.topk(2, dim=-1)[0].sum(-1)
            ordered = group_scores.sort(dim=-1, descending=True)[0]
            self.min_margin = min(self.min_margin, float((ordered[:, keep - 1] - ordered[:, keep]).min()))
            kept = torch.zeros_like(group_scores, dtype=torch.bool)
            kept.scatter_(1, group_scores.topk(keep, dim=-1)[1], True)
            s = grouped.masked_fill(~kept[:, :, None], float("-inf")).view(s.shape[0], -1)
        top = s.sort(dim=-1, descending=True)[0]
        if top.shape[1] > k:
            self.min_margin = min(self.min_margin, float((top[:, k - 1] - top[:, k]).min()))


def greedy_reference(model, prompt, steps):
    """Greedy continuation (lowest id on ties) by full recomputation, and the logits of
    prompt + continuation[:-1] in one forward: row i predicts token i + 1."""
    tokens = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([tokens])).logits[0, -1]
            tokens.append(int(torch.argmax(logits)))
        logits = model(torch.tensor([tokens[:-1]])).logits[0].to(torch.float32)
    return tokens[len(prompt):], logits.numpy()
