"""A Kimi-K2-Thinking-style checkpoint (its chat template, `<think>` and `</think>` special tokens):
the model's reasoning comes back as message.reasoning_content and streams as
delta.reasoning_content (Moonshot's field), the content after it, and tool calls after reasoning
parse as before. The expected split of each scripted output is vLLM's Kimi K2 reasoning rule,
applied to the script's text here: the text between <think> and </think>, a tool-call section
ending the reasoning too."""
import json
import re
import shutil
import subprocess

import pytest
from openai import OpenAI

from conftest import BINARY, CHECKPOINT, ROOT, Server

SECTION = ("<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
           "{\"city\": \"Lima\"}<|tool_call_end|><|tool_calls_section_end|>")
SCRIPTS = [
    "<think>The user greets me.\nAnswer briefly, in English.</think>Hello! How can I help?",
    "<think>The user greets me.\nAnswer briefly, in English.</think>Hello! How can I help?",
    "<think>I need the weather in Lima.</think>" + SECTION,
    "<think>Straight to the tool" + SECTION,
    "An answer without reasoning.",
]
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def expected(script):
    """(reasoning or None, content) by the reference rule."""
    m = re.match(r"<think>(.*?)(</think>|<\|tool_calls_section_begin\|>)", script, re.S)
    if not m:
        return None, script
    rest = script[m.end(1):]
    rest = rest[len("</think>"):] if rest.startswith("</think>") else rest
    return m.group(1), rest.split("<|tool_calls_section_begin|>")[0]


@pytest.fixture
def thinking_checkpoint(tmp_path):
    """kimi-mini with K2-Thinking's chat template and two reserved special tokens named <think>
    and </think>."""
    directory = tmp_path / "thinking"
    shutil.copytree(CHECKPOINT, directory)
    config = json.loads((directory / "tokenizer_config.json").read_text())
    base = min(int(k) for k, v in config["added_tokens_decoder"].items() if v["content"] == "[BOS]")
    for offset, text in ((22, "<think>"), (23, "</think>")):
        config["added_tokens_decoder"][str(base + offset)] = {"content": text, "lstrip": False, "normalized": False,
                                                              "rstrip": False, "single_word": False, "special": True}
    (directory / "tokenizer_config.json").write_text(json.dumps(config))
    shutil.copy(ROOT / "Scripts" / "kimi-k2-thinking-chat-template.jinja", directory / "chat_template.jinja")
    return directory


def test_reasoning_content(tmp_path, thinking_checkpoint):
    scripts = tmp_path / "scripts.json"
    scripts.write_text(json.dumps(SCRIPTS))
    server = Server("--scripted-output", str(scripts), "--guided-tools", "on", model=thinking_checkpoint, testbed=True)
    try:
        client = OpenAI(base_url=server.base_url, api_key="none")
        hello = [{"role": "user", "content": "Hi"}]

        # Whole answers; the reasoning's tokens, <think> to </think>, counted as reasoning tokens.
        r = client.chat.completions.create(model="thinking", messages=hello, max_tokens=64)
        m = r.choices[0].message
        reasoning, content = expected(SCRIPTS[0])
        assert (m.model_extra["reasoning_content"], m.content) == (reasoning, content)
        thinking_ids = json.loads(subprocess.run(
            [str(BINARY), "tokenize", "--allow-special", "--model", str(thinking_checkpoint)], input=f"<think>{reasoning}</think>",
            capture_output=True, text=True, check=True, timeout=30).stdout)
        assert r.usage.completion_tokens_details.reasoning_tokens == len(thinking_ids) < r.usage.completion_tokens

        # Streamed: the reasoning in delta.reasoning_content, before any content.
        kinds, text = [], {"reasoning_content": "", "content": ""}
        for chunk in client.chat.completions.create(model="thinking", messages=hello, max_tokens=64, stream=True):
            delta = chunk.choices[0].delta if chunk.choices else None
            for key in ("reasoning_content", "content"):
                value = (delta.model_extra or {}).get(key) if delta and key == "reasoning_content" else getattr(delta, key, None)
                if value:
                    kinds.append(key)
                    text[key] += value
        assert (text["reasoning_content"], text["content"]) == expected(SCRIPTS[1])
        assert kinds.index("content") > max(i for i, k in enumerate(kinds) if k == "reasoning_content")

        # Tool calls after reasoning, closed or not (guided: the grammar lets the reasoning through).
        for script in SCRIPTS[2:4]:
            r = client.chat.completions.create(model="thinking", messages=[{"role": "user", "content": "Weather in Lima?"}],
                                               tools=[WEATHER], max_tokens=64)
            m = r.choices[0].message
            assert m.model_extra["reasoning_content"] == expected(script)[0]
            assert r.choices[0].finish_reason == "tool_calls"
            assert [(c.function.name, json.loads(c.function.arguments)) for c in m.tool_calls] == [("get_weather", {"city": "Lima"})]

        # No reasoning: no field, no reasoning tokens.
        r = client.chat.completions.create(model="thinking", messages=hello, max_tokens=64)
        m = r.choices[0].message
        assert m.content == SCRIPTS[4] and "reasoning_content" not in (m.model_extra or {})
        assert r.usage.completion_tokens_details.reasoning_tokens == 0
    finally:
        server.stop()


def test_render_uses_the_checkpoints_template(thinking_checkpoint):
    """The checkpoint's own template decides the prompt: K2-Thinking's keeps reasoning_content
    only after the last assistant answer."""
    request = {"messages": [{"role": "user", "content": "2+2?"},
                            {"role": "assistant", "reasoning_content": "Add.", "content": "4"},
                            {"role": "user", "content": "3+3?"},
                            {"role": "assistant", "reasoning_content": "Call the calculator.", "content": "",
                             "tool_calls": [{"id": "functions.calc:0", "type": "function",
                                             "function": {"name": "calc", "arguments": "{}"}}]},
                            {"role": "tool", "tool_call_id": "functions.calc:0", "content": "6"}]}
    prompt = subprocess.run([str(BINARY), "render", "--model", str(thinking_checkpoint)], input=json.dumps(request),
                            capture_output=True, text=True, check=True, timeout=30).stdout
    assert "<think></think>4" in prompt and "<think>Call the calculator.</think>" in prompt and "Add." not in prompt
    instruct = subprocess.run([str(BINARY), "render", "--model", str(CHECKPOINT)], input=json.dumps(request),
                              capture_output=True, text=True, check=True, timeout=30).stdout
    assert "<think>" not in instruct


def test_anthropic_thinking_blocks(tmp_path, thinking_checkpoint):
    """With thinking enabled, Anthropic's API returns the reasoning as a thinking block, whole and
    streamed; without it, only the answer; a thinking block sent back is the turn's reasoning; and
    chat completions' include_reasoning: false leaves reasoning_content out."""
    import anthropic
    scripts = tmp_path / "scripts.json"
    scripts.write_text(json.dumps([SCRIPTS[0]] * 4 + [SCRIPTS[2]]))
    server = Server("--scripted-output", str(scripts), model=thinking_checkpoint, testbed=True)
    try:
        claude = anthropic.Anthropic(api_key="none", base_url=server.base_url[:-3])
        reasoning, content = expected(SCRIPTS[0])
        hello = [{"role": "user", "content": "Hi"}]
        m = claude.messages.create(model="thinking", max_tokens=64, messages=hello,
                                   thinking={"type": "enabled", "budget_tokens": 1024})
        assert [(b.type, getattr(b, "thinking", None) or getattr(b, "text", None)) for b in m.content] == [
            ("thinking", reasoning), ("text", content)]
        with claude.messages.stream(model="thinking", max_tokens=64, messages=hello,
                                    thinking={"type": "enabled", "budget_tokens": 1024}) as stream:
            final = stream.get_final_message()
        assert [(b.type, getattr(b, "thinking", None) or getattr(b, "text", None)) for b in final.content] == [
            ("thinking", reasoning), ("text", content)]
        plain = claude.messages.create(model="thinking", max_tokens=64, messages=hello)
        assert [(b.type, b.text) for b in plain.content] == [("text", content)]
        client = OpenAI(base_url=server.base_url, api_key="none")
        m = client.chat.completions.create(model="thinking", messages=hello, max_tokens=64,
                                           extra_body={"include_reasoning": False}).choices[0].message
        assert m.content == content and "reasoning_content" not in (m.model_extra or {})
        # A thinking block sent back renders as the turn's reasoning (after the last answer).
        history = [{"role": "user", "content": "Weather in Lima?"},
                   {"role": "assistant", "content": [{"type": "thinking", "thinking": "Call the tool for Lima.", "signature": ""},
                                                     {"type": "tool_use", "id": "functions.get_weather:0", "name": "get_weather",
                                                      "input": {"city": "Lima"}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "functions.get_weather:0",
                                                 "content": "Foggy"}]}]
        count = claude.messages.count_tokens(model="thinking", messages=history).input_tokens
        without = claude.messages.count_tokens(model="thinking", messages=[
            history[0], {"role": "assistant", "content": [history[1]["content"][1]]}, history[2]]).input_tokens
        assert count > without
    finally:
        server.stop()


def test_responses_reasoning_items(tmp_path, thinking_checkpoint):
    """The Responses API returns the reasoning as a reasoning item (one reasoning_text part) before
    the message, whole and streamed, and reads a reasoning item in the input as the next
    assistant turn's reasoning."""
    scripts = tmp_path / "scripts.json"
    scripts.write_text(json.dumps([SCRIPTS[0]] * 4))
    server = Server("--scripted-output", str(scripts), model=thinking_checkpoint, testbed=True)
    try:
        client = OpenAI(base_url=server.base_url, api_key="none")
        reasoning, content = expected(SCRIPTS[0])
        r = client.responses.create(model="thinking", input="Hi", max_output_tokens=64)
        assert [o.type for o in r.output] == ["reasoning", "message"]
        assert [p.text for p in r.output[0].content] == [reasoning] and r.output_text == content
        assert r.usage.output_tokens_details.reasoning_tokens > 0
        deltas, final = "", None
        for event in client.responses.create(model="thinking", input="Hi", max_output_tokens=64, stream=True):
            if event.type == "response.reasoning_text.delta":
                deltas += event.delta
            if event.type == "response.completed":
                final = event.response
        assert deltas == reasoning and [o.type for o in final.output] == ["reasoning", "message"]
        assert final.output[0].content[0].text == reasoning and final.output_text == content
        # A reasoning item before the turn's function call is rendered with it (the turn comes
        # after the last answer), so the prompt is longer than without it.
        call = {"type": "function_call", "call_id": "functions.get_weather:0", "name": "get_weather",
                "arguments": "{\"city\": \"Lima\"}"}
        output = {"type": "function_call_output", "call_id": "functions.get_weather:0", "output": "Foggy"}
        thought = {"type": "reasoning", "id": "rs_1", "summary": [],
                   "content": [{"type": "reasoning_text", "text": "Call the tool for Lima."}]}
        ask = {"role": "user", "content": "Weather in Lima?"}
        with_thought = client.responses.create(model="thinking", input=[ask, thought, call, output], max_output_tokens=64)
        without = client.responses.create(model="thinking", input=[ask, call, output], max_output_tokens=64)
        assert with_thought.usage.input_tokens > without.usage.input_tokens
    finally:
        server.stop()
