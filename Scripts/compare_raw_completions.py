#!/usr/bin/env python3
"""Sends the K2 Vendor Verifier samples twice at temperature 0: to /v1/chat/completions, and to
/v1/completions as prompts rendered with jinja2 from Kimi K2's chat template (what the verifier's
--use_raw_completions mode does with the model's own tokenizer), and compares the tool calls.

    pip install jinja2 requests
    python3 Scripts/compare_raw_completions.py --base-url http://127.0.0.1:8000 [--samples FILE] [--limit N]

The raw text's tool calls are read as the verifier reads them: the first tool-call section, each
call's `functions.NAME:IDX` and its arguments as JSON. Prints one JSON object: how many samples
had the same prompt ids both ways (the rendered text tokenized with its special tokens, and the
chat endpoint's own prompt), how many gave the same calls (names, ids, parsed arguments), the indices of those that did not, and of
those whose text differed (stray markers, which the chat endpoint's parser drops, left out; the
chat parser also drops what follows a call marker outside a section). With guided tool calls on, the chat endpoint's grammar may steer a token the raw
endpoint leaves free; run the server with --guided-tools off to compare the same decoding.
"""
import argparse
import json
import os
import re
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_template import hf_environment, render  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SECTION = re.compile(r"<\|tool_calls_section_begin\|>(.*?)<\|tool_calls_section_end\|>", re.S)
MARKERS = re.compile(r"<\|tool_calls?_(?:section_)?(?:begin|end)\|>|<\|tool_call_argument_begin\|>")
CALL = re.compile(r"<\|tool_call_begin\|>\s*([\w.\-]+:\d+)\s*<\|tool_call_argument_begin\|>\s*(.*?)\s*<\|tool_call_end\|>", re.S)


def raw_calls(text):
    """The calls of the first complete tool-call section, and the text before the first section
    without stray markers (the chat endpoint's parser drops markers outside a section)."""
    m = SECTION.search(text)
    if not m:
        # A section never closed holds no call; its text is not content either.
        return [], MARKERS.sub("", text.split("<|tool_calls_section_begin|>")[0])
    calls = []
    for call_id, arguments in CALL.findall(m.group(1)):
        try:
            args = json.loads(arguments)
        except json.JSONDecodeError:
            args = arguments
        calls.append((call_id, call_id.split(".", 1)[1].rsplit(":", 1)[0], args))
    return calls, MARKERS.sub("", text[:m.start()])


def chat_calls(message):
    calls = []
    for c in message.get("tool_calls") or []:
        try:
            args = json.loads(c["function"]["arguments"])
        except json.JSONDecodeError:
            args = c["function"]["arguments"]
        calls.append((c["id"], c["function"]["name"], args))
    return calls, message.get("content") or ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--samples", default=os.path.join(HERE, "..", "Tests", "Fixtures", "verifier", "samples.jsonl"))
    ap.add_argument("--template", default=os.path.join(HERE, "kimi-k2-chat-template.jinja"))
    ap.add_argument("--limit", type=int)
    args = ap.parse_args()
    template = hf_environment().from_string(open(args.template).read())
    samples = [json.loads(line) for line in open(args.samples)][: args.limit]
    same, differ, with_calls, other_text, same_prompts = 0, [], 0, [], 0
    for i, s in enumerate(samples):
        common = {"model": s["model"], "temperature": 0, "max_tokens": s["max_tokens"]}
        chat_body = dict(common, messages=s["messages"], tools=s["tools"])
        # tool_choice forces a start the raw prompt cannot express; leave it out on both sides.
        chat = requests.post(args.base_url + "/v1/chat/completions", json=chat_body, timeout=600).json()["choices"][0]
        raw = requests.post(args.base_url + "/v1/completions", json=dict(common, prompt=render(template, s)), timeout=600).json()["choices"][0]
        prompt_ids = requests.post(args.base_url + "/tokenize", json={"prompt": render(template, s)}, timeout=600).json()["tokens"]
        chat_ids = requests.post(args.base_url + "/tokenize", json={"messages": s["messages"], "tools": s["tools"]}, timeout=600).json()["tokens"]
        same_prompts += prompt_ids == chat_ids
        c_calls, c_text = chat_calls(chat["message"])
        r_calls, r_text = raw_calls(raw["text"])
        with_calls += bool(c_calls)
        if c_calls == r_calls:
            same += 1
        else:
            differ.append(i)
        if c_text != r_text:
            other_text.append(i)
    print(json.dumps({"samples": len(samples), "same_prompt_ids": same_prompts, "same_tool_calls": same, "with_tool_calls": with_calls, "differ": differ,
                      "other_text": other_text}))


if __name__ == "__main__":
    main()
