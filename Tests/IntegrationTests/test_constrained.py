"""Constrained decoding, black box: outputs sampled from models that cannot follow a schema —
a scripted model with random logits (only the grammar shapes its output) and the demo at
temperature 1.5 — must parse and validate with Python's `jsonschema` (a reference we did not
write) whenever they end with `stop` or `tool_calls`, for response_format and for tool calls
under tool_choice auto, required and named: over 2,000 requests in all."""
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
import requests

from conftest import Server, start_scripted

# Real-world shapes (tools, Pydantic models, agents' tools, recursion, formats, bounds), each
# with its source: Tests/Fixtures/schemas/corpus.json (Scripts/make_schema_fixtures.py).
CORPUS = json.loads((Path(__file__).parent.parent / "Fixtures" / "schemas" / "corpus.json").read_text())["schemas"]
# Requests per schema and kind; KIMI_CONSTRAINED_SCALE multiplies them for longer runs by hand.
SCALE = int(os.environ.get("KIMI_CONSTRAINED_SCALE", "1"))


def validator(schema):
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def tool_schemas():
    """The corpus schemas that describe objects: usable as tool parameters."""
    return [e for e in CORPUS if e["schema"].get("type") == "object"]


@pytest.fixture(scope="module")
def random_server(tmp_path_factory):
    s = start_scripted(tmp_path_factory.mktemp("random"), [""], guided=True)
    yield s
    s.stop()


def post(server, body):
    r = requests.post(server.base_url + "/chat/completions", json=body, timeout=300, stream=body.get("stream", False))
    assert r.status_code == 200, r.text[:500]
    if not body.get("stream"):
        choice = r.json()["choices"][0]
        return choice["finish_reason"], choice["message"].get("content"), choice["message"].get("tool_calls") or []
    content, calls, finish = "", {}, None
    for line in r.iter_lines():
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        for c in chunk["choices"]:
            delta = c["delta"]
            content += delta.get("content") or ""
            for t in delta.get("tool_calls") or []:
                call = calls.setdefault(t["index"], {"id": None, "function": {"name": None, "arguments": ""}})
                call["id"] = t.get("id") or call["id"]
                call["function"]["name"] = t.get("function", {}).get("name") or call["function"]["name"]
                call["function"]["arguments"] += t.get("function", {}).get("arguments") or ""
            finish = c.get("finish_reason") or finish
    return finish, content, [calls[i] for i in sorted(calls)]


def run_all(server, bodies):
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda b: post(server, b), bodies))


def response_format_bodies(temperature, reps, max_tokens):
    bodies = []
    for i, entry in enumerate(CORPUS):
        for rep in range(reps):
            bodies.append({"messages": [{"role": "user", "content": f"Give me {entry['name']} as JSON."}],
                           "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": entry["schema"], "strict": True}},
                           "temperature": temperature, "max_tokens": max_tokens, "seed": i * 1000 + rep, "stream": rep % 2 == 1,
                           "_schema": entry["schema"]})
    return bodies


def check_response_format(server, bodies):
    schemas = [b.pop("_schema") for b in bodies]
    counts = {}
    for schema, (finish, content, calls) in zip(schemas, run_all(server, bodies)):
        counts[finish] = counts.get(finish, 0) + 1
        assert not calls
        if finish == "stop":
            validator(schema).validate(json.loads(content))
    return counts


def test_response_format_random_model_always_valid(random_server):
    counts = check_response_format(random_server, response_format_bodies(1.0, 8 * SCALE, 600))
    print("response_format, random logits:", counts)
    assert counts.get("stop", 0) >= len(CORPUS) * 8 * SCALE // 4, counts


def test_json_object_random_model(random_server):
    bodies = [{"messages": [{"role": "user", "content": "JSON please"}], "response_format": {"type": "json_object"},
               "temperature": 1.0, "max_tokens": 300, "seed": s} for s in range(40)]
    for finish, content, _ in run_all(random_server, bodies):
        if finish == "stop":
            assert isinstance(json.loads(content), dict)


ID = re.compile(r"^functions\.([\w.-]+):(\d+)$")


def tool_bodies(choice_kind, reps, temperature=1.0):
    entries = tool_schemas()
    bodies = []
    for i, entry in enumerate(entries):
        other = entries[(i + 1) % len(entries)]
        tools = [{"type": "function", "function": {"name": "tool_a", "parameters": entry["schema"]}},
                 {"type": "function", "function": {"name": "tool_b", "parameters": other["schema"]}}]
        choice = {"auto": "auto", "required": "required", "named": {"type": "function", "function": {"name": "tool_b"}}}[choice_kind]
        for rep in range(reps):
            bodies.append({"messages": [{"role": "user", "content": "Call a tool."}], "tools": tools, "tool_choice": choice,
                           "temperature": temperature, "max_tokens": 600, "seed": i * 1000 + rep, "stream": rep % 2 == 0,
                           "_schemas": {"tool_a": entry["schema"], "tool_b": other["schema"]}})
    return bodies


def check_tool_calls(server, choice_kind, bodies):
    """Every call of a response ending in tool_calls names a declared tool (the named one when
    named) with the running index, and its arguments validate; required and named never stop
    without a call."""
    schemas = [b.pop("_schemas") for b in bodies]
    counts = {}
    for schema, (finish, content, calls) in zip(schemas, run_all(server, bodies)):
        counts[finish] = counts.get(finish, 0) + 1
        if choice_kind != "auto" and finish == "stop":
            pytest.fail(f"tool_choice {choice_kind} ended without a call")
        if finish != "tool_calls":
            continue
        assert calls
        for k, call in enumerate(calls):
            name = call["function"]["name"]
            m = ID.match(call["id"])
            assert m and m.group(1) == name and int(m.group(2)) == k, call["id"]
            if choice_kind == "named":
                assert name == "tool_b"
            validator(schema[name]).validate(json.loads(call["function"]["arguments"]))
    if choice_kind != "auto":  # under auto a model that cannot follow rarely opens the section; what it writes is still checked
        assert counts.get("tool_calls", 0) >= 1, counts
    return counts


@pytest.mark.parametrize("choice_kind", ["auto", "required", "named"])
def test_tool_calls_random_model_always_valid(random_server, choice_kind):
    print(f"tool_choice {choice_kind}, random logits:", check_tool_calls(random_server, choice_kind, tool_bodies(choice_kind, 6 * SCALE)))


@pytest.mark.parametrize("choice_kind", ["auto", "required", "named"])
def test_tool_calls_demo_hot_temperature_always_valid(demo_server, choice_kind):
    bodies = tool_bodies(choice_kind, SCALE, temperature=1.5)[:40 * SCALE]
    print(f"tool_choice {choice_kind}, demo at 1.5:", check_tool_calls(demo_server, choice_kind, bodies))


def test_tool_choice_none_never_calls(random_server):
    tools = [{"type": "function", "function": {"name": "t", "parameters": tool_schemas()[0]["schema"]}}]
    bodies = [{"messages": [{"role": "user", "content": "hi"}], "tools": tools, "tool_choice": "none",
               "temperature": 1.0, "max_tokens": 50, "seed": s} for s in range(20)]
    for finish, _, calls in run_all(random_server, bodies):
        assert finish in ("stop", "length") and not calls


def test_demo_hot_temperature_always_valid(demo_server):
    counts = check_response_format(demo_server, response_format_bodies(1.5, SCALE, 300)[:60 * SCALE])
    print("response_format, demo at 1.5:", counts)


def test_unenforceable_keyword_is_a_400_when_strict(random_server):
    schema = {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 3}}}
    body = {"messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": schema, "strict": True}}}
    r = requests.post(random_server.base_url + "/chat/completions", json=body, timeout=60)
    assert r.status_code == 400 and "multipleOf" in r.json()["error"]["message"], r.text
    assert r.json()["error"]["param"] == "response_format.json_schema.schema"
    body["response_format"]["json_schema"]["strict"] = False
    assert requests.post(random_server.base_url + "/chat/completions", json=body, timeout=60).status_code == 200
    tools = [{"type": "function", "function": {"name": "t", "strict": True, "parameters": schema}}]
    r = requests.post(random_server.base_url + "/chat/completions", timeout=60,
                      json={"messages": [{"role": "user", "content": "x"}], "tools": tools})
    assert r.status_code == 400 and r.json()["error"]["param"] == "tools[0].function.parameters", r.text


def test_openai_parse_with_a_pydantic_model(demo_server):
    """The official client's structured-output helper: it sends the model's strict JSON Schema and
    parses the reply into the model class (pydantic validates it). The demo was never trained to
    write JSON; every field here is bounded (string lengths, the integer's range, an enum), so
    every document the grammar admits ends within max_tokens and each reply must parse."""
    from enum import Enum
    from typing import Optional

    import openai
    from pydantic import BaseModel, Field

    class Sky(str, Enum):
        sunny = "sunny"
        rainy = "rainy"

    class Weather(BaseModel):
        city: str = Field(max_length=24)
        temperature_c: int = Field(ge=-90, le=60)
        sky: Sky
        note: Optional[str] = Field(max_length=40)

    client = openai.OpenAI(api_key="none", base_url=demo_server.base_url, max_retries=0)
    for seed in range(4):
        completion = client.chat.completions.parse(
            model="kimi-k2-demo", messages=[{"role": "user", "content": "What's the weather like in Beijing today?"}],
            response_format=Weather, temperature=0.6, max_tokens=3000, seed=seed)
        assert completion.choices[0].finish_reason == "stop"
        assert isinstance(completion.choices[0].message.parsed, Weather)


def test_constraints_keep_batch_invariance_and_seeds(server):
    """One sequence's grammar never changes another's output, and a constrained output is the same
    for the same seed whatever runs beside it: sampled (temperature 1, seeded) plain and
    constrained requests alone, then all at once."""
    schema = tool_schemas()[0]["schema"]
    plain = [{"messages": [{"role": "user", "content": f"Tell me about item {i}"}], "max_tokens": 24, "temperature": 1.0,
              "seed": i, "ignore_eos": True} for i in range(4)]
    constrained = [{"messages": [{"role": "user", "content": "JSON please"}], "max_tokens": 24, "temperature": 1.0, "seed": 100 + i,
                    "response_format": {"type": "json_schema", "json_schema": {"name": "o", "schema": schema}}} for i in range(4)]
    bodies = plain + constrained
    alone = [post(server, b) for b in bodies]
    together = run_all(server, bodies + bodies)
    assert together[:len(bodies)] == alone and together[len(bodies):] == alone
