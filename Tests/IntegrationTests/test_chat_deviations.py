"""The chat endpoint where it used to deviate from what clients expect: a tool call cut off by
max_tokens, tool-call ids that clients make up, fields that change the output, service_tier and
usage details, and X-Request-Id."""
import json

import openai
import pytest
import requests

from conftest import Server, start_scripted

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
CALL = ("<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
        "{\"city\": \"São Paulo and more\"}<|tool_call_end|><|tool_calls_section_end|>")


def test_cut_tool_call_is_returned_in_both_modes(tmp_path):
    server = start_scripted(tmp_path, [CALL, CALL])
    try:
        # Cut three tokens into the arguments.
        header = CALL[:CALL.index("{")]
        cut = requests.post(server.url("/tokenize"), json={"prompt": header}, timeout=30).json()["count"] + 3
        body = {"messages": [{"role": "user", "content": "Weather?"}], "tools": TOOLS, "max_tokens": cut}
        whole = requests.post(server.base_url + "/chat/completions", json=body, timeout=30).json()["choices"][0]
        assert whole["finish_reason"] == "length"
        [call] = whole["message"]["tool_calls"]
        assert call["id"] == "functions.get_weather:0" and call["function"]["name"] == "get_weather"
        c = openai.OpenAI(api_key="none", base_url=server.base_url, max_retries=0)
        arguments, finish = "", None
        for chunk in c.chat.completions.create(model="kimi-mini", stream=True, **body):
            for ch in chunk.choices:
                for t in ch.delta.tool_calls or []:
                    arguments += t.function.arguments or ""
                finish = ch.finish_reason or finish
        assert finish == "length" and arguments == call["function"]["arguments"]
        assert arguments and '{"city": "São Paulo and more"}'.startswith(arguments) and arguments != '{"city": "São Paulo and more"}'
    finally:
        server.stop()


def rendered(server, messages):
    tokens = requests.post(server.url("/tokenize"), json={"messages": messages, "tools": TOOLS}, timeout=30).json()["tokens"]
    return requests.post(server.url("/detokenize"), json={"tokens": tokens}, timeout=30).json()["prompt"]


def test_client_made_ids_are_renamed_in_the_prompt(server):
    def history(first, second):
        return [{"role": "user", "content": "Weather in Lima and Oslo?"},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": first, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Lima\"}"}},
                    {"id": second, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
                {"role": "tool", "tool_call_id": second, "content": "Rainy"},
                {"role": "tool", "tool_call_id": first, "content": "Sunny"}]
    kimi = rendered(server, history("functions.get_weather:0", "functions.get_weather:1"))
    for first, second in (("call_abc123", "call_def456"), ("toolu_01A", "toolu_01B"), ("functions.get_weather:0", "x")):
        prompt = rendered(server, history(first, second))
        assert prompt == kimi and first not in prompt.replace("functions.get_weather:0", "") and second not in prompt
    assert "## Return of functions.get_weather:1\nRainy" in kimi


def test_fields_that_would_change_the_output(server):
    base = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
    for extra, param in (({"modalities": ["text", "audio"]}, "modalities"), ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
                         ({"prediction": {"type": "content", "content": "x"}}, "prediction")):
        r = requests.post(server.base_url + "/chat/completions", json={**base, **extra}, timeout=30)
        assert r.status_code == 400 and r.json()["error"]["param"] == param, r.text
    r = requests.post(server.base_url + "/chat/completions", json={**base, "modalities": ["text"], "service_tier": "flex"}, timeout=30).json()
    assert r["service_tier"] == "flex"
    assert r["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    r = requests.post(server.base_url + "/chat/completions", json=base, timeout=30).json()
    assert r["service_tier"] == "default"


def test_x_request_id_echoed_generated_and_logged():
    s = Server()
    try:
        r = requests.post(s.base_url + "/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
                          headers={"X-Request-Id": "client-req-42"}, timeout=30)
        assert r.headers["x-request-id"] == "client-req-42"
        generated = requests.get(s.base_url + "/models", timeout=30).headers["x-request-id"]
        assert len(generated) >= 16 and generated != "client-req-42"
        bad = requests.get(s.base_url + "/models", headers={"X-Request-Id": "a b"}, timeout=30).headers["x-request-id"]
        assert bad != "a b"
        assert requests.get(s.base_url + "/nope", timeout=30).headers["x-request-id"]
    finally:
        s.stop()
    log = s.process.stderr.read().decode()
    assert "request_id=client-req-42" in log and f"request_id={generated}" in log


def test_vllm_sampling_fields(demo_server):
    base = {"model": "kimi-k2-demo", "messages": [{"role": "user", "content": "Hello!"}], "temperature": 0, "max_tokens": 60}
    plain = requests.post(demo_server.base_url + "/chat/completions", json=base, timeout=60).json()
    assert plain["choices"][0]["finish_reason"] == "stop"
    short = plain["usage"]["completion_tokens"]
    # min_tokens: the end of turn is held off until then (the demo's greeting is shorter).
    longer = requests.post(demo_server.base_url + "/chat/completions", json={**base, "min_tokens": short + 10}, timeout=60).json()
    assert longer["usage"]["completion_tokens"] >= short + 10
    assert longer["choices"][0]["message"]["content"].startswith(plain["choices"][0]["message"]["content"][:20])
    # At temperature 0 min_p changes nothing; a strong repetition penalty changes the greedy answer.
    same = requests.post(demo_server.base_url + "/chat/completions", json={**base, "min_p": 0.5}, timeout=60).json()
    assert same["choices"][0]["message"]["content"] == plain["choices"][0]["message"]["content"]
    penalized = requests.post(demo_server.base_url + "/chat/completions", json={**base, "repetition_penalty": 5}, timeout=60).json()
    assert penalized["choices"][0]["message"]["content"] != plain["choices"][0]["message"]["content"]
    r = requests.post(demo_server.base_url + "/chat/completions", json={**base, "min_tokens": 61}, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["param"] == "min_tokens"
    r = requests.post(demo_server.base_url + "/chat/completions", json={**base, "min_p": 2}, timeout=60)
    assert r.status_code == 400 and r.json()["error"]["param"] == "min_p"
