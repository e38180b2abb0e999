"""The OpenAI wire contract with the official client and the model card's client code."""
import json
import subprocess

import openai
import pytest
import requests

from conftest import CHECKPOINT

MESSAGES = [{"role": "system", "content": "You are Kimi, an AI assistant created by Moonshot AI."},
            {"role": "user", "content": [{"type": "text", "text": "Please give a brief self-introduction."}]}]


def client(server, **kw):
    return openai.OpenAI(api_key="none", base_url=server.base_url, max_retries=0, **kw)


def test_model_card_requests_post(server):
    """The hosting provider's snippet: requests.post + response.json()."""
    r = requests.post(server.base_url + "/chat/completions", headers={"Authorization": "Bearer x"},
                      json={"model": "kimi-mini", "messages": [{"role": "user", "content": "Hello"}],
                            "max_tokens": 1024, "temperature": 0.7, "stream": False})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] in ("stop", "length")
    u = body["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]


def test_non_stream_with_text_parts(server):
    response = client(server).chat.completions.create(model="kimi-mini", messages=MESSAGES, stream=False,
                                                       temperature=0.6, max_tokens=16)
    assert response.object == "chat.completion"
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].finish_reason in ("stop", "length")
    assert response.usage.completion_tokens <= 16
    assert response.model == "kimi-mini"


def test_stream_contract(server):
    chunks = list(client(server).chat.completions.create(model="kimi-mini", messages=MESSAGES, stream=True,
                                                          max_tokens=12, temperature=0, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.id == chunks[0].id and c.created == chunks[0].created for c in chunks)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason is not None]
    assert len(finals) == 1 and finals[0] is chunks[-2]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_equals_non_stream_and_seed_reproducible(server):
    c = client(server)
    args = dict(model="kimi-mini", messages=MESSAGES, max_tokens=20, temperature=1.0, seed=1234)
    a = c.chat.completions.create(**args).choices[0].message.content
    b = c.chat.completions.create(**args).choices[0].message.content
    streamed = "".join(ch.choices[0].delta.content or "" for ch in c.chat.completions.create(stream=True, **args) if ch.choices)
    assert a == b == streamed
    others = {c.chat.completions.create(**{**args, "seed": s}).choices[0].message.content for s in range(1, 6)}
    assert len(others) > 1, "different seeds should give different samples at temperature 1"


def test_temperature_zero_is_deterministic(server):
    c = client(server)
    texts = {c.chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=15, temperature=0).choices[0].message.content
             for _ in range(3)}
    assert len(texts) == 1


def test_stop_strings_across_token_boundaries(server):
    c = client(server)
    base = c.chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=40, temperature=0).choices[0].message.content
    assert len(base) > 12
    stop = base[6:10]
    r = c.chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=40, temperature=0, stop=["zzzz-unused", stop])
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == base[:base.index(stop)]
    streamed = "".join(ch.choices[0].delta.content or "" for ch in
                       c.chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=40, temperature=0, stop=stop, stream=True)
                       if ch.choices)
    assert streamed == base[:base.index(stop)]


def test_logprobs(server):
    r = client(server).chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=8, temperature=0,
                                                logprobs=True, top_logprobs=5)
    entries = r.choices[0].logprobs.content
    assert len(entries) >= 1
    for e in entries:
        assert e.logprob <= 0 and len(e.top_logprobs) == 5
        assert e.top_logprobs[0].logprob >= e.top_logprobs[-1].logprob
        assert e.logprob == e.top_logprobs[0].logprob  # greedy: the chosen token is the most likely
        assert bytes(e.bytes).decode("utf-8", "replace") == e.token
    assert sum(len(e.bytes) for e in entries) >= len(r.choices[0].message.content.encode()) - 3
    streamed = [e for ch in client(server).chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=8,
                                                                   temperature=0, logprobs=True, top_logprobs=2, stream=True)
                if ch.choices and ch.choices[0].logprobs for e in ch.choices[0].logprobs.content]
    assert [e.token for e in streamed] == [e.token for e in entries]


def test_n_choices(server):
    r = client(server).chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=6, n=2, seed=7, temperature=1)
    assert [c.index for c in r.choices] == [0, 1]
    assert 2 <= r.usage.completion_tokens <= 12 and r.choices[0].message.content != r.choices[1].message.content
    chunks = list(client(server).chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=6, n=2, seed=7,
                                                          temperature=1, stream=True))
    texts = ["", ""]
    for ch in chunks:
        for c in ch.choices:
            texts[c.index] += c.delta.content or ""
    assert texts == [c.message.content for c in r.choices]


def test_prefix_cache_reported(server):
    c = client(server)
    c.chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=2, temperature=0)
    r = c.chat.completions.create(model="kimi-mini", messages=MESSAGES, max_tokens=2, temperature=0)
    assert r.usage.prompt_tokens_details.cached_tokens == r.usage.prompt_tokens - 1


def test_models_and_health(server):
    models = client(server).models.list()
    assert [m.id for m in models.data] == ["kimi-mini"]
    assert client(server).models.retrieve("kimi-mini").id == "kimi-mini"
    with pytest.raises(openai.NotFoundError):
        client(server).models.retrieve("gpt-4")
    assert requests.get(server.url("/health")).json() == {"status": "ready"}


def test_curl_stream(server):
    body = json.dumps({"model": "kimi-mini", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5, "stream": True})
    out = subprocess.run(["curl", "-sN", server.base_url + "/chat/completions", "-H", "Content-Type: application/json", "-d", body],
                         capture_output=True, text=True, check=True).stdout
    events = [line for line in out.split("\n\n") if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


def test_scripted_tool_loop(scripted_server):
    """The model card's tool loop with the official client: ids survive the round trip."""
    c = client(scripted_server)
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Get weather information.",
                                               "parameters": {"type": "object", "required": ["city"],
                                                              "properties": {"city": {"type": "string"}}}}}]
    messages = [{"role": "user", "content": "What's the weather like in Beijing today?"}]
    finish_reason, rounds = None, 0
    while finish_reason is None or finish_reason == "tool_calls":
        choice = c.chat.completions.create(model="kimi-mini", messages=messages, temperature=0.6, tools=tools,
                                           tool_choice="auto").choices[0]
        finish_reason = choice.finish_reason
        if finish_reason == "tool_calls":
            assert choice.message.content is None
            messages.append(choice.message)
            for call in choice.message.tool_calls:
                assert call.id == "functions.get_weather:0" and call.type == "function"
                assert call.function.name == "get_weather"
                args = json.loads(call.function.arguments)
                messages.append({"role": "tool", "tool_call_id": call.id, "name": call.function.name,
                                 "content": json.dumps({"weather": "Sunny", "city": args["city"]})})
        rounds += 1
    assert rounds == 2
    assert choice.message.content == "The weather in Beijing is Sunny."


def test_scripted_parallel_calls_streamed(scripted_server):
    c = client(scripted_server)
    tools = [{"type": "function", "function": {"name": n, "parameters": {"type": "object", "properties": {}}}}
             for n in ("get_weather", "convert_units")]
    for _ in range(2):  # skip the first two scripts
        c.chat.completions.create(model="kimi-mini", messages=[{"role": "user", "content": "x"}], tools=tools)
    chunks = list(c.chat.completions.create(model="kimi-mini", messages=[{"role": "user", "content": "both"}], tools=tools, stream=True))
    content, calls = "", {}
    for ch in chunks:
        delta = ch.choices[0].delta
        content += delta.content or ""
        for tc in delta.tool_calls or []:
            if tc.id:
                assert tc.index not in calls and tc.type == "function"
                calls[tc.index] = {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments or ""}
            else:
                assert tc.function.name is None
                calls[tc.index]["arguments"] += tc.function.arguments
    assert content == "Let me check both."
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert calls[0]["id"] == "functions.get_weather:1" and calls[1]["id"] == "functions.convert_units:2"
    assert json.loads(calls[0]["arguments"]) == {"city": "São Paulo"}
    assert json.loads(calls[1]["arguments"]) == {"value": 30, "from": "km", "to": "mi"}


def test_scripted_stop_string_and_tool_choice_none(scripted_server):
    c = client(scripted_server)
    for _ in range(3):
        c.chat.completions.create(model="kimi-mini", messages=[{"role": "user", "content": "x"}])
    r = c.chat.completions.create(model="kimi-mini", messages=[{"role": "user", "content": "x"}], stop=["mma d"])
    assert r.choices[0].message.content == "alpha beta ga" and r.choices[0].finish_reason == "stop"
    # Script 0 again, with tools withheld: the call is not reported.
    r = c.chat.completions.create(model="kimi-mini", messages=[{"role": "user", "content": "x"}],
                                  tools=[{"type": "function", "function": {"name": "get_weather"}}], tool_choice="none")
    assert r.choices[0].message.tool_calls is None and r.choices[0].finish_reason == "stop"


WEATHER_TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get weather information. Call this tool when the user needs to get weather information",
    "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "description": "City name"}}}}}]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("tool_choice", ["required", {"type": "function", "function": {"name": "get_weather"}}])
def test_tool_choice_required_and_named_force_a_call(demo_server, tool_choice, stream):
    """The demo model, asked something that is not about the weather, still calls the tool."""
    client = openai.OpenAI(api_key="x", base_url=demo_server.base_url, max_retries=0)
    history = [{"role": "user", "content": "What's the weather like in Oslo today?"},
               {"role": "assistant", "content": "", "tool_calls": [{"id": "functions.get_weather:0", "type": "function",
                                                                       "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
               {"role": "tool", "tool_call_id": "functions.get_weather:0", "content": "{\"weather\": \"Sunny\"}"},
               {"role": "assistant", "content": "It's Sunny in Oslo right now."},
               {"role": "user", "content": "Hello!"}]
    kw = dict(model="kimi-k2-demo", messages=history, tools=WEATHER_TOOLS, tool_choice=tool_choice, temperature=0, max_tokens=40)
    if stream:
        calls, finish = {}, None
        for chunk in client.chat.completions.create(stream=True, **kw):
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
                for tc in choice.delta.tool_calls or []:
                    c = calls.setdefault(tc.index, {"id": None, "name": ""})
                    c["id"] = tc.id or c["id"]
                    c["name"] += tc.function.name or ""
        calls = list(calls.values())
    else:
        choice = client.chat.completions.create(**kw).choices[0]
        finish = choice.finish_reason
        calls = [{"id": c.id, "name": c.function.name} for c in choice.message.tool_calls or []]
    assert finish == "tool_calls" and calls
    # The call is numbered after the conversation's earlier one, as Kimi's format does.
    assert calls[0] == {"id": "functions.get_weather:1", "name": "get_weather"}
