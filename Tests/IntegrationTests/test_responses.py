"""The Responses API (`/v1/responses`, stateless) with the official openai client: text and
function calls as output items, the semantic event stream, a function-call loop through
function_call_output, text.format constrained like response_format, and the stateful fields
refused."""
import json

import openai
import pytest

from conftest import start_scripted

TOOLS = [{"type": "function", "name": "get_weather", "description": "Get weather information.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
SCRIPTS = [
    "Let me look.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
    "{\"city\": \"Lima\"}<|tool_call_end|><|tool_calls_section_end|>",
    "It is Sunny in Lima.",
]


def client(server):
    return openai.OpenAI(api_key="none", base_url=server.base_url, max_retries=0)


def test_text_streamed_and_not(demo_server):
    c = client(demo_server)
    r = c.responses.create(model="kimi-k2-demo", input="Hello! Who are you?", temperature=0, max_output_tokens=40,
                           instructions="You are Kimi, an AI assistant created by Moonshot AI.")
    assert r.object == "response" and r.status in ("completed", "incomplete") and r.output_text
    assert [i.type for i in r.output] == ["message"] and r.usage.input_tokens > 0 and 0 < r.usage.output_tokens <= 40
    events = list(c.responses.create(model="kimi-k2-demo", input="Hello! Who are you?", temperature=0, max_output_tokens=40,
                                     instructions="You are Kimi, an AI assistant created by Moonshot AI.", stream=True))
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response." + r.status
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == r.output_text
    assert events[-1].response.output_text == r.output_text
    # The same conversation as chat messages gives the same answer.
    chat = c.chat.completions.create(model="kimi-k2-demo", temperature=0, max_tokens=40, messages=[
        {"role": "system", "content": "You are Kimi, an AI assistant created by Moonshot AI."}, {"role": "user", "content": "Hello! Who are you?"}])
    assert chat.choices[0].message.content == r.output_text


@pytest.mark.parametrize("stream", [False, True])
def test_function_call_loop(tmp_path, stream):
    server = start_scripted(tmp_path, SCRIPTS)
    try:
        c = client(server)
        items = [{"role": "user", "content": "What's the weather like in Lima?"}]
        if stream:
            events = list(c.responses.create(model="kimi-mini", input=items, tools=TOOLS, stream=True))
            r = events[-1].response
            args = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
            assert json.loads(args) == {"city": "Lima"}
        else:
            r = c.responses.create(model="kimi-mini", input=items, tools=TOOLS)
        assert [i.type for i in r.output] == ["message", "function_call"] and r.output_text == "Let me look."
        call = r.output[1]
        assert (call.call_id, call.name, json.loads(call.arguments)) == ("functions.get_weather:0", "get_weather", {"city": "Lima"})
        items += [{"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
                  {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"}]
        r = c.responses.create(model="kimi-mini", input=items, tools=TOOLS)
        assert r.output_text == "It is Sunny in Lima." and r.status == "completed"
    finally:
        server.stop()


def test_text_format_json_schema(demo_server):
    schema = {"type": "object", "properties": {"sky": {"enum": ["sunny", "rainy"]}, "rain": {"type": "boolean"}},
              "required": ["sky", "rain"], "additionalProperties": False}
    r = client(demo_server).responses.create(model="kimi-k2-demo", input="Weather in Oslo?", max_output_tokens=2000,
                                             text={"format": {"type": "json_schema", "name": "w", "schema": schema, "strict": True}})
    value = json.loads(r.output_text)
    assert value["sky"] in ("sunny", "rainy") and isinstance(value["rain"], bool)


def test_stateful_fields_refused(demo_server):
    c = client(demo_server)
    with pytest.raises(openai.BadRequestError) as e:
        c.responses.create(model="kimi-k2-demo", input="hi", previous_response_id="resp_123")
    assert e.value.body["param"] == "previous_response_id" and "stateless" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError) as e:
        c.responses.create(model="kimi-k2-demo", input="hi", store=True)
    assert e.value.body["param"] == "store"
    with pytest.raises(openai.BadRequestError) as e:
        c.responses.create(model="kimi-k2-demo", input="hi", tools=[{"type": "web_search"}])
    assert e.value.body["param"] == "tools[0].type"
