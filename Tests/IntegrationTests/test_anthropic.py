"""Anthropic Messages (`/v1/messages`, `/v1/messages/count_tokens`) against the official
`anthropic` client: its parsing of our JSON and of our event stream is the reference."""
import json

import anthropic
import pytest
import requests

from conftest import Server, start_scripted

WEATHER = {"name": "get_weather", "description": "Get weather information. Call this tool when the user needs to get weather information",
           "input_schema": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "description": "City name"}}}}

SCRIPTS = [
    "Hello there. STOP here, not later.",
    "Let me look.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
    "{\"city\": \"Lima\"}<|tool_call_end|><|tool_calls_section_end|>",
    "It is Sunny in Lima.",
]


def client(server, **kwargs):
    return anthropic.Anthropic(api_key="none", base_url=server.base_url[:-3], max_retries=0, **kwargs)


@pytest.fixture()
def scripted(tmp_path):
    s = start_scripted(tmp_path, SCRIPTS)
    yield s
    s.stop()


def test_create_text_usage_and_count_tokens(demo_server):
    c = client(demo_server)
    messages = [{"role": "user", "content": "Hello! Who are you?"}]
    m = c.messages.create(model="kimi-k2-demo", max_tokens=64, messages=messages, extra_body={"temperature": 0})
    assert m.type == "message" and m.role == "assistant" and m.model == "kimi-k2-demo" and m.id.startswith("msg_")
    assert [b.type for b in m.content] == ["text"] and m.content[0].text
    assert m.stop_reason in ("end_turn", "max_tokens") and m.stop_sequence is None
    counted = c.messages.count_tokens(model="kimi-k2-demo", messages=messages).input_tokens
    assert m.usage.input_tokens + m.usage.cache_read_input_tokens == counted
    assert 0 < m.usage.output_tokens <= 64


def test_stream_events_and_text_helper(demo_server):
    c = client(demo_server)
    kwargs = dict(model="kimi-k2-demo", max_tokens=48, messages=[{"role": "user", "content": "Hello! Who are you?"}],
                  extra_body={"temperature": 0})
    with c.messages.stream(**kwargs) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text == final.content[0].text == c.messages.create(**kwargs).content[0].text
    # The raw event sequence, as Anthropic orders it (the client hides pings).
    body = {"model": "kimi-k2-demo", "max_tokens": 48, "stream": True, "temperature": 0,
            "messages": [{"role": "user", "content": "Hello! Who are you?"}]}
    with requests.post(demo_server.url("/v1/messages"), json=body, stream=True, timeout=60) as r:
        lines = [line.decode() for line in r.iter_lines() if line]
    names = [line[7:] for line in lines if line.startswith("event: ")]
    datas = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [d["type"] for d in datas] == names
    assert names[:2] == ["message_start", "ping"] and names[-2:] == ["message_delta", "message_stop"]
    assert names.count("content_block_start") == names.count("content_block_stop") == 1
    assert set(names[2:-2]) <= {"content_block_start", "content_block_delta", "content_block_stop", "ping"}
    assert "".join(d["delta"]["text"] for d in datas if d["type"] == "content_block_delta") == text


def test_stop_sequence_reported(scripted):
    m = client(scripted).messages.create(model="kimi-mini", max_tokens=50, stop_sequences=["STOP", "never"],
                                         messages=[{"role": "user", "content": "hi"}])
    assert m.content[0].text == "Hello there. " and m.stop_reason == "stop_sequence" and m.stop_sequence == "STOP"


@pytest.mark.parametrize("stream", [False, True])
def test_scripted_tool_loop_ids_round_trip(tmp_path, stream):
    server = start_scripted(tmp_path, SCRIPTS[1:])
    try:
        c = client(server)
        messages = [{"role": "user", "content": "What's the weather like in Lima?"}]
        if stream:
            with c.messages.stream(model="kimi-mini", max_tokens=100, tools=[WEATHER], messages=messages) as s:
                m = s.get_final_message()
        else:
            m = c.messages.create(model="kimi-mini", max_tokens=100, tools=[WEATHER], messages=messages)
        assert m.stop_reason == "tool_use"
        assert [b.type for b in m.content] == ["text", "tool_use"] and m.content[0].text == "Let me look."
        use = m.content[1]
        assert (use.id, use.name, use.input) == ("functions.get_weather:0", "get_weather", {"city": "Lima"})
        messages += [{"role": "assistant", "content": m.content},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny"}]}]
        m = c.messages.create(model="kimi-mini", max_tokens=100, tools=[WEATHER], messages=messages)
        assert m.stop_reason == "end_turn" and m.content[0].text == "It is Sunny in Lima."
    finally:
        server.stop()


def test_model_card_tool_loop_through_anthropic(demo_server):
    """The model card's tool_call_with_client loop, its user message verbatim, spoken in
    Anthropic's shape: a tool_use block whose input names the city, then an answer. Greedy:
    Anthropic's default temperature is 1, at which the small demo may misspell the city."""
    c = client(demo_server)
    messages = [{"role": "user", "content": "What's the weather like in Beijing today? Use the tool to check."}]
    m = c.messages.create(model="kimi-k2-demo", max_tokens=256, tools=[WEATHER], tool_choice={"type": "any"}, messages=messages,
                          extra_body={"temperature": 0})
    assert m.stop_reason == "tool_use"
    use = next(b for b in m.content if b.type == "tool_use")
    assert use.name == "get_weather" and "Beijing" in use.input["city"]
    messages += [{"role": "assistant", "content": m.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": json.dumps({"weather": "Sunny"})}]}]
    m = c.messages.create(model="kimi-k2-demo", max_tokens=256, tools=[WEATHER], messages=messages, extra_body={"temperature": 0})
    assert m.content and m.stop_reason in ("end_turn", "tool_use", "max_tokens")


def test_tool_choice_tool_forces_that_tool_streamed(demo_server):
    other = {"name": "get_time", "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}
    with client(demo_server).messages.stream(model="kimi-k2-demo", max_tokens=200, tools=[WEATHER, other],
                                             tool_choice={"type": "tool", "name": "get_time"},
                                             messages=[{"role": "user", "content": "Hello!"}]) as s:
        m = s.get_final_message()
    uses = [b for b in m.content if b.type == "tool_use"]
    if m.stop_reason == "tool_use":
        assert uses and all(u.name == "get_time" and isinstance(u.input["zone"], str) for u in uses)
    else:
        assert m.stop_reason == "max_tokens"


def test_claude_code_shaped_request(demo_server):
    """What Claude Code sends: several system blocks with cache_control, many tools, metadata,
    thinking for a model that does not think, the anthropic-version and beta headers."""
    tools = [{"name": f"tool_{i}", "description": f"Tool number {i}.", "cache_control": {"type": "ephemeral"} if i == 11 else None,
              "input_schema": {"type": "object", "properties": {"path": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}},
                               "required": ["path"], "additionalProperties": False}} for i in range(12)]
    for t in tools:
        if t["cache_control"] is None:
            del t["cache_control"]
    c = client(demo_server, default_headers={"anthropic-beta": "prompt-caching-2024-07-31"})
    m = c.messages.create(
        model="kimi-k2-demo", max_tokens=64, tools=tools, metadata={"user_id": "user_abc"},
        thinking={"type": "disabled"},
        system=[{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
                {"type": "text", "text": "Answer briefly.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "List the files.", "cache_control": {"type": "ephemeral"}}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "Sure."}]},
                  {"role": "user", "content": "Go on."}])
    assert m.type == "message" and m.stop_reason in ("end_turn", "tool_use", "max_tokens")
    for b in m.content:
        if b.type == "tool_use":
            assert b.name.startswith("tool_") and isinstance(b.input["path"], str)


def test_structured_output_parses(demo_server):
    """Anthropic's structured outputs (`output_config.format`) through the client's parse helper.
    The client moves length and range keywords out of the schema it sends, so the fields here are
    bounded by their types alone (an enum, a boolean, an integer of at most 40 digits) and no
    other key is allowed: each document the grammar admits ends within max_tokens."""
    from typing import Literal

    from pydantic import BaseModel, ConfigDict

    class Forecast(BaseModel):
        model_config = ConfigDict(extra="forbid")
        sky: Literal["sunny", "cloudy", "rainy"]
        high_c: int
        rain: bool

    m = client(demo_server).messages.parse(model="kimi-k2-demo", max_tokens=2000, output_format=Forecast,
                                           messages=[{"role": "user", "content": "Forecast for Oslo?"}])
    assert m.stop_reason == "end_turn" and isinstance(m.parsed_output, Forecast)


def test_errors_in_anthropic_shape(demo_server):
    c = client(demo_server)
    with pytest.raises(anthropic.BadRequestError) as e:
        c.messages.create(model="kimi-k2-demo", max_tokens=10, messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}]}])
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "invalid_request_error"
    assert "text only" in e.value.body["error"]["message"]
    with pytest.raises(anthropic.NotFoundError) as e:
        c.messages.create(model="claude-opus-4", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["error"]["type"] == "not_found_error"
    r = requests.post(demo_server.url("/v1/messages"), json={"messages": [{"role": "user", "content": "hi"}]}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("max_tokens")
    with pytest.raises(anthropic.BadRequestError) as e:
        c.messages.create(model="kimi-k2-demo", max_tokens=10, tools=[{"type": "web_search_20250305", "name": "web_search"}],
                          messages=[{"role": "user", "content": "hi"}])
    assert "server tools" in e.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError) as e:
        c.messages.create(model="kimi-k2-demo", max_tokens=10, messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": [
            {"type": "tool_use", "id": "functions.f:0", "name": "f", "input": {}}]}])
    assert "prefill" in e.value.body["error"]["message"]


def test_x_api_key(tmp_path):
    server = Server("--api-key", "sk-anthropic")
    try:
        with pytest.raises(anthropic.AuthenticationError) as e:
            client(server).messages.create(model="kimi-mini", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
        assert e.value.body["error"]["type"] == "authentication_error"
        c = anthropic.Anthropic(api_key="sk-anthropic", base_url=server.base_url[:-3], max_retries=0)
        assert c.messages.create(model="kimi-mini", max_tokens=5, messages=[{"role": "user", "content": "hi"}]).type == "message"
    finally:
        server.stop()
