#!/usr/bin/env python3
"""Trains the demo checkpoint that kimi-serve embeds and serves when no --model is given.

    python3 -m venv .venv && .venv/bin/pip install -r Scripts/requirements-reference.txt
    .venv/bin/python Scripts/train_demo.py            # 34-40 min on 2 Zen 3 cores -> Sources/CKimiDemo/include/demo.kimi

A small model of Kimi K2's architecture and file format — MLA with YaRN (Kimi-K2-Instruct-0905's
long-context scaling, 256K positions), a dense first layer, MoE layers with a shared expert,
top-2 of 8 experts with sigmoid / noaux_tc routing and a correction bias (updated by
DeepSeek-V3's auxiliary-loss-free rule) — trained with transformers' own DeepseekV3ForCausalLM
on synthetic conversations (Scripts/demo_data.py) rendered with the Kimi chat template and
tokenised with a Kimi-format vocabulary trained here. Only assistant turns carry loss; examples
over 512 tokens are left out (the cost of attention). Three stretches: first (1500 steps) only
short chats that repeat names back (demo_data.copy_sample) at a flat learning rate, where
copying — attending to the token after the current one's earlier occurrence, what puts the
user's city into the call — forms cheaply and early; then the full mix (demo_data.sample);
from step 1800 a polishing mix (demo_data.polish_sample): the weather loop through to the
answer, with the hardest names. Two single-threaded processes (one per core) each take half of
every batch and sum their gradients (data parallel; --processes). Deterministic: fixed seeds,
fixed data streams, a fixed number of steps, a sum of two the same in either order — a straight
run reproduces the committed blob byte for byte (`--seed N` draws another run of the same
recipe, `--out DIR` writes it elsewhere).

The result is written in the real checkpoint layout (block-fp8 projections with scale_inv,
bf16 embeddings and norms, fp32 router bias, shards with an index, tiktoken.model,
tokenizer_config.json, generation_config.json) and packed into one blob for the binary.
Progress is measured on validation questions drawn like the training's, about invented names;
the held-out evaluation (Tests/Fixtures/demo/held_out.json) is the tests' and is never read
here except to check that the training data shares nothing with it.
"""
import argparse
import json
import math
import os
import random
import re
import struct
import sys
import tempfile
import time

import torch
from transformers import AttentionInterface

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_data as dd  # noqa: E402
import kimi_checkpoint as kc  # noqa: E402
import make_tokenizer_fixtures as mtf  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BLOB = os.path.join(ROOT, "Sources", "CKimiDemo", "include", "demo.kimi")
REPORT = os.path.join(ROOT, "Tests", "Fixtures", "demo", "report.json")

CONFIG = dict(
    hidden_size=128, intermediate_size=384, moe_intermediate_size=96, num_hidden_layers=4,
    num_attention_heads=4, num_key_value_heads=4, q_lora_rank=96, kv_lora_rank=96,
    qk_nope_head_dim=32, qk_rope_head_dim=32, v_head_dim=32, n_routed_experts=8, n_shared_experts=1,
    num_experts_per_tok=2, n_group=1, topk_group=1, first_k_dense_replace=1, norm_topk_prob=True,
    routed_scaling_factor=2.5, rms_norm_eps=1e-6, rope_theta=50000.0,
    # Kimi-K2-Instruct-0905's long context: YaRN from 4096 positions by a factor of 64.
    rope_scaling={"type": "yarn", "factor": 64.0, "original_max_position_embeddings": 4096,
                  "beta_fast": 1.0, "beta_slow": 1.0, "mscale": 1.0, "mscale_all_dim": 1.0},
    max_position_embeddings=262144,
)


def causal_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """Attention for right-padded rows: the causal mask alone keeps real tokens off the padding
    (padding carries no loss), so no mask is built. v (head dim 32) is zero-padded to q and k's
    (64) so that torch takes its fused kernel rather than the math path; the padding columns are
    cut off again. query, key: [batch, heads, length, 64]; value: [batch, heads, length, 32];
    returns [batch, length, heads, 32]."""
    d = value.shape[-1]
    v = torch.nn.functional.pad(value, (0, query.shape[-1] - d))
    out = torch.nn.functional.scaled_dot_product_attention(query, key, v, is_causal=query.shape[2] > 1, scale=scaling)
    return out[..., :d].transpose(1, 2).contiguous(), None


def chat_template():
    with open(mtf.TEMPLATE) as f:
        return mtf.hf_environment().from_string(f.read())


def render(template, request, upto=None, generation_prompt=False):
    messages = request["messages"] if upto is None else request["messages"][:upto]
    return template.render(messages=messages, tools=request["tools"], add_generation_prompt=generation_prompt)


def example(template, enc, request):
    """Token ids of the whole conversation and the mask of the tokens that carry loss: the
    assistant's turns (what the demo must do); not the user's, the tool declarations or the
    system prompt."""
    ids = enc.encode(render(template, request), allowed_special="all")
    mask = [False] * len(ids)
    for i, m in enumerate(request["messages"]):
        if m["role"] != "assistant":
            continue
        start = len(enc.encode(render(template, request, i, m["role"] == "assistant"), allowed_special="all"))
        prefix = enc.encode(render(template, request, i + 1), allowed_special="all")
        end = len(prefix)
        assert ids[:end] == prefix
        for j in range(start, end):
            mask[j] = True
    return ids, mask


def examples(template, enc, rng, draw, longest):
    """Examples from `draw`, those over `longest` tokens left out: attention's cost on the CPU
    grows with the square of the length, and a few long rows would double a step's time."""
    while True:
        ids, mask = example(template, enc, draw(rng))
        if len(ids) <= longest:
            yield ids, mask


def batches(template, enc, rng, size, pad, draw=dd.sample, group=16, longest=512):
    """Batches of `size` examples; `group` batches are drawn at once and sorted by length, so
    that each batch pads little."""
    stream = examples(template, enc, rng, draw, longest)
    while True:
        rows = sorted((next(stream) for _ in range(size * group)), key=lambda r: len(r[0]))
        order = list(range(group))
        rng.shuffle(order)
        for g in order:
            yield tensors(rows[g * size:(g + 1) * size], pad)


def tensors(rows, pad):
    size = len(rows)
    width = max(len(ids) for ids, _ in rows)
    x = torch.full((size, width), pad, dtype=torch.long)
    labels = torch.full((size, width), -100, dtype=torch.long)
    for r, (ids, mask) in enumerate(rows):
        x[r, :len(ids)] = torch.tensor(ids)
        labels[r, :len(ids)] = torch.tensor([t if m else -100 for t, m in zip(ids, mask)])
    return x, labels, torch.tensor([len(ids) for ids, _ in rows])


def share(batch, rank, processes):
    """This process's rows of a batch — every `processes`-th, from `rank` (rows come sorted by
    length, so the shares are alike) — cut to the longest of them."""
    x, labels, lengths = (t[rank::processes] for t in batch)
    width = int(lengths.max())
    return x[:, :width], labels[:, :width]


def all_reduce_gradients(parameters):
    """Sums the processes' gradients into every process (a sum of two is the same whichever
    order): the gradient of the whole batch's loss. A parameter no process gave a gradient keeps
    none, as in one process."""
    parameters = list(parameters)
    flat = torch.cat([p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel()) for p in parameters]
                     + [torch.tensor([float(p.grad is not None) for p in parameters])])
    torch.distributed.all_reduce(flat)
    offset, present = 0, flat[-len(parameters):]
    for p, has in zip(parameters, present):
        p.grad = flat[offset:offset + p.numel()].view_as(p).clone() if has > 0 else None
        offset += p.numel()


class BiasBalancer:
    """DeepSeek-V3's auxiliary-loss-free balancing: after each step, raise the correction bias
    of under-loaded experts and lower that of over-loaded ones by a fixed speed."""

    def __init__(self, model, speed=1e-3):
        self.speed, self.counts = speed, {}
        for layer in model.model.layers:
            if hasattr(layer.mlp, "gate"):
                gate = layer.mlp.gate
                gate.register_forward_hook(self.hook)
                self.counts[gate] = torch.zeros(gate.num_experts)

    def hook(self, module, inputs, outputs):
        if module.training:
            self.counts[module] += torch.bincount(outputs[2].flatten(), minlength=module.num_experts).float()

    def step(self):
        with torch.no_grad():
            counts = torch.stack(list(self.counts.values()))
            torch.distributed.all_reduce(counts)  # every process's tokens
            for (gate, mine), c in zip(self.counts.items(), counts):
                gate.e_score_correction_bias += self.speed * torch.sign(c.mean() - c)
                mine.zero_()


def generate(model, enc, prompt, end_id, steps=48):
    """Greedy decoding with transformers' KV cache, up to <|im_end|>."""
    out, cache, feed = [], None, torch.tensor([prompt])
    with torch.no_grad():
        for _ in range(steps):
            result = model(input_ids=feed, past_key_values=cache, use_cache=True)
            cache = result.past_key_values
            token = int(torch.argmax(result.logits[0, -1]))
            if token == end_id:
                break
            out.append(token)
            feed = torch.tensor([[token]])
    return enc.decode(out)


def validation_cases(count, seed=7):
    """(city, the user's question, its tools): training-like questions about names drawn from a
    stream of their own (the held-out evaluation is kept for the tests, not for training)."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        c = dd.invented_city(rng)
        cases.append((c, dd.weather_question(rng, c), dd.declared_tools(rng)))
    return cases


def tool_call_hits(model, template, enc, end_id, cases, show=0):
    """Greedy: in how many of `cases` does the model call get_weather with exactly the city
    the user named?"""
    hits = 0
    model.eval()
    for c, question, tools in cases:
        request = {"messages": [{"role": "user", "content": question}], "tools": tools}
        prompt = enc.encode(render(template, request, generation_prompt=True), allowed_special="all")
        out = generate(model, enc, prompt, end_id)
        if show > 0:
            print(f"  {c!r} -> {out!r}", flush=True)
            show -= 1
        m = re.search(r"<\|tool_call_begin\|>functions\.get_weather:0<\|tool_call_argument_begin\|>(.*?)<\|tool_call_end\|>", out)
        try:
            hits += bool(m) and json.loads(m.group(1)) == {"city": c}
        except json.JSONDecodeError:
            pass
    model.train()
    return hits


def pack(directory, out):
    """The blob the binary embeds: b"KIMIDEMO", u32 count, then per file u32 name length,
    name, u64 offset, u64 size; data follows, each file aligned to 64 bytes."""
    names = sorted(os.listdir(directory))
    header = b"KIMIDEMO" + struct.pack("<I", len(names))
    entries_size = sum(4 + len(n.encode()) + 16 for n in names)
    offset = len(header) + entries_size
    entries, payload = b"", b""
    for n in names:
        data = open(os.path.join(directory, n), "rb").read()
        start = (offset + len(payload) + 63) // 64 * 64
        payload += b"\0" * (start - offset - len(payload)) + data
        entries += struct.pack("<I", len(n.encode())) + n.encode() + struct.pack("<QQ", start, len(data))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(header + entries + payload)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4200)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--merges", type=int, default=600)
    parser.add_argument("--processes", type=int, default=2, help="training processes, one thread each, a share of every batch each")
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--copy-until", type=int, default=1500, help="step until which batches come from copy_sample")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--polish-from", type=int, default=1800, help="step from which batches come from polish_sample")
    parser.add_argument("--seed", type=int, default=0, help="offsets every seed: another draw of the same recipe")
    parser.add_argument("--out", default=ROOT, help="where the blob and the report go (the project by default)")
    args = parser.parse_args()
    began = time.time()
    dd.check_held_out()
    template = chat_template()

    # A Kimi-format vocabulary trained on rendered conversations.
    corpus_rng = random.Random(1 + 100 * args.seed)
    corpus = "\n".join(render(template, dd.sample(corpus_rng)) for _ in range(2500))
    specials = set(re.findall(r"<\|[a-z_]+\|>", corpus))
    plain = corpus
    for s in specials:
        plain = plain.replace(s, "\n")
    ranks = kc.train_bpe(plain + "\n" + "\n".join(dd.CITIES), args.merges, homogeneous=True)
    print(f"vocabulary: {len(ranks)} ranks + 256 specials ({time.time() - began:.0f} s)", flush=True)

    with tempfile.TemporaryDirectory() as directory:
        torch.multiprocessing.spawn(train, args=(args, ranks, began, os.path.join(directory, "rendezvous")), nprocs=args.processes)


def train(rank, args, ranks, began, rendezvous):
    """One training process: the same model, optimizer and batches as every other, its share
    of each batch's rows, the gradients summed over all (torch.distributed, gloo) — data
    parallel, because two single-threaded processes run this small model's steps ~1.4× faster
    than one process on two threads. Process 0 logs, exports the checkpoint and measures it."""
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=args.processes)
    torch.manual_seed(args.seed)
    template = chat_template()
    enc = mtf.encoding("kimi-demo", ranks)
    vocab = len(ranks) + 256
    end_id = enc.encode("<|im_end|>", allowed_special="all")[0]
    blob = os.path.join(args.out, os.path.relpath(BLOB, ROOT))
    report_path = os.path.join(args.out, os.path.relpath(REPORT, ROOT))

    cfg = kc.kimi_config(vocab_size=vocab, bos_token_id=len(ranks), eos_token_id=len(ranks) + 1, **CONFIG)
    hf_cfg = kc.hf_config(cfg)
    AttentionInterface.register("causal", causal_attention)
    hf_cfg._attn_implementation = "causal"
    from transformers import DeepseekV3ForCausalLM
    model = DeepseekV3ForCausalLM(hf_cfg).to(torch.float32)
    model.train()
    balancer = BiasBalancer(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.01)
    warmup = 80
    # Warm-up, then the peak rate while copying forms, then a cosine down to 5 % over the rest.
    decay = lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1, s / (args.steps - args.copy_until))))  # noqa: E731
    schedule = lambda s: min(1, (s + 1) / warmup) * (1 if s < args.copy_until else decay(s - args.copy_until))  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    copying = batches(template, enc, random.Random(3 + 100 * args.seed), args.batch, pad=end_id, draw=dd.copy_sample)
    data = batches(template, enc, random.Random(2 + 100 * args.seed), args.batch, pad=end_id)
    polish = batches(template, enc, random.Random(5 + 100 * args.seed), args.batch, pad=end_id, draw=dd.polish_sample)
    probe = validation_cases(20)  # this process evaluates every `processes`-th
    log = []
    for step in range(args.steps):
        batch = next(copying if step < args.copy_until else data if step < args.polish_from else polish)
        items = (batch[1][:, 1:] != -100).sum()  # the whole batch's labelled tokens: the loss is their mean
        x, labels = share(batch, rank, args.processes)
        loss = model(input_ids=x, labels=labels, num_items_in_batch=items).loss
        loss.backward()
        all_reduce_gradients(model.parameters())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        balancer.step()
        evaluate = args.eval_every and (step + 1) % args.eval_every == 0
        if step % 20 == 0 or evaluate:
            total = loss.detach().clone()
            torch.distributed.all_reduce(total)  # the whole batch's loss
        if step % 20 == 0 and rank == 0:
            print(f"step {step} loss {total.item():.4f} lr {scheduler.get_last_lr()[0]:.2e} ({time.time() - began:.0f} s)", flush=True)
        if evaluate:
            mine = probe[rank::args.processes]
            hits = torch.tensor(float(tool_call_hits(model, template, enc, end_id, mine, show=3 if rank == 0 else 0)))
            torch.distributed.all_reduce(hits)
            accuracy = hits.item() / len(probe)
            log.append({"step": step + 1, "loss": total.item(), "validation_accuracy_20": accuracy})
            if rank == 0:
                print(f"step {step + 1}: validation tool-call accuracy {accuracy:.2f}", flush=True)
    trained = time.time() - began
    torch.distributed.destroy_process_group()
    if rank != 0:
        return

    # Export in the real layout, then measure what the fp8 weights do.
    builder = kc.Builder(cfg, seed=0)
    state = model.state_dict()
    builder.from_trained(state)
    with tempfile.TemporaryDirectory() as directory:
        kc.write_checkpoint(directory, cfg, builder, shards=2)
        with open(os.path.join(directory, "generation_config.json"), "w") as f:
            json.dump({"max_length": cfg["max_position_embeddings"], "eos_token_id": end_id}, f, indent=2)
        kc.write_tokenizer(directory, ranks)
        size = sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory))
        pack(directory, blob)
        # The blob is .incbin'd: build systems do not see it as a dependency of the C file.
        if blob == BLOB:
            os.utime(os.path.join(os.path.dirname(BLOB), "..", "kimi_demo.c"))
    quantized = kc.reference_model(cfg, builder)
    torch.set_num_threads(args.processes)  # the other processes have ended: their cores are free
    validation = validation_cases(100, seed=8)
    accuracy = tool_call_hits(quantized, template, enc, end_id, validation) / len(validation)
    report = {"seed": args.seed, "steps": args.steps, "lr": args.lr, "copy_until": args.copy_until,
              "polish_from": args.polish_from, "batch": args.batch, "processes": args.processes,
              "train_seconds": round(trained), "total_seconds": round(time.time() - began),
              "parameters": sum(p.numel() for p in model.parameters()), "checkpoint_bytes": size,
              "blob_bytes": os.path.getsize(blob), "vocab_size": vocab,
              "validation_tool_call_accuracy_fp8": accuracy, "log": log}
    os.makedirs(os.path.dirname(report_path), exist_ok=True)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: v for k, v in report.items() if k != "log"}, indent=1))


if __name__ == "__main__":
    main()
