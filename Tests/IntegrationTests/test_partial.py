"""Partial mode: a final assistant message the answer continues (Moonshot's "partial", DeepSeek's
"prefix", vLLM's "continue_final_message", an Anthropic prefill): the four spellings give one
prompt, so at temperature 0 one continuation, which never repeats the prefix."""
import json

import anthropic
import requests

QUESTION = {"role": "user", "content": "Hello! Who are you?"}
PREFIX = "Hello! I'm Kimi,"


def chat(server, messages, **extra):
    body = {"model": "kimi-k2-demo", "temperature": 0, "max_tokens": 40, "messages": messages, **extra}
    r = requests.post(server.base_url + "/chat/completions", json=body, timeout=60)
    return r


def streamed(server, messages):
    body = {"model": "kimi-k2-demo", "temperature": 0, "max_tokens": 40, "messages": messages, "stream": True}
    text = ""
    with requests.post(server.base_url + "/chat/completions", json=body, stream=True, timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith(b"data: {"):
                for c in json.loads(line[6:])["choices"]:
                    text += c["delta"].get("content") or ""
    return text


def test_four_spellings_one_continuation(demo_server):
    partial = chat(demo_server, [QUESTION, {"role": "assistant", "content": PREFIX, "partial": True}]).json()
    continuation = partial["choices"][0]["message"]["content"]
    assert continuation and not continuation.startswith(PREFIX)
    prefix = chat(demo_server, [QUESTION, {"role": "assistant", "content": PREFIX, "prefix": True}]).json()
    vllm = chat(demo_server, [QUESTION, {"role": "assistant", "content": PREFIX}], continue_final_message=True,
                add_generation_prompt=False).json()
    assert prefix["choices"][0]["message"]["content"] == vllm["choices"][0]["message"]["content"] == continuation
    assert streamed(demo_server, [QUESTION, {"role": "assistant", "content": PREFIX, "partial": True}]) == continuation
    c = anthropic.Anthropic(api_key="none", base_url=demo_server.base_url[:-3], max_retries=0)
    m = c.messages.create(model="kimi-k2-demo", max_tokens=40, extra_body={"temperature": 0},
                          messages=[QUESTION, {"role": "assistant", "content": PREFIX}])
    assert m.content[0].text == continuation
    # The prompt ends inside the message: one token more than its rendering without the end marker.
    usage = partial["usage"]["prompt_tokens"]
    closed = chat(demo_server, [QUESTION, {"role": "assistant", "content": PREFIX}, {"role": "user", "content": "x"}],
                  max_tokens=1).json()["usage"]["prompt_tokens"]
    assert usage < closed


def test_role_play_name_is_rendered(demo_server):
    """Moonshot's role-play example: the partial message's name is the speaker the model continues."""
    named = chat(demo_server, [QUESTION, {"role": "assistant", "name": "Dr. Kelsier", "content": "", "partial": True}]).json()
    plain = chat(demo_server, [QUESTION, {"role": "assistant", "content": "", "partial": True}]).json()
    assert named["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"]


def test_partial_mode_errors(demo_server):
    r = chat(demo_server, [{"role": "user", "content": "hi", "partial": True}])
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages[0]"
    r = chat(demo_server, [QUESTION, {"role": "assistant", "content": "", "partial": True, "tool_calls": [
        {"id": "functions.f:0", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}])
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages[1].tool_calls"
    r = chat(demo_server, [QUESTION, {"role": "assistant", "content": "{", "partial": True}], response_format={"type": "json_object"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "response_format"
    r = chat(demo_server, [QUESTION, {"role": "assistant", "content": "x", "partial": "yes"}])
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages[1].partial"
