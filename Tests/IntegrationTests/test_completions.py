"""Legacy completions (`/v1/completions`) with the official openai client: a prompt that is the
chat template's rendering (special tokens written as text) continues exactly as the chat endpoint
answers, and the legacy fields (echo, logprobs, n, lists of prompts, stop, streaming) keep their
shapes."""
import openai
import pytest
import requests

MESSAGES = [{"role": "user", "content": "Hello! Who are you?"}]


def client(server):
    return openai.OpenAI(api_key="none", base_url=server.base_url, max_retries=0)


def rendered(server, messages):
    tokens = requests.post(server.url("/tokenize"), json={"messages": messages}, timeout=30).json()["tokens"]
    return tokens, requests.post(server.url("/detokenize"), json={"tokens": tokens}, timeout=30).json()["prompt"]


def test_rendered_prompt_continues_as_the_chat_endpoint_answers(demo_server):
    c = client(demo_server)
    tokens, prompt = rendered(demo_server, MESSAGES)
    chat = c.chat.completions.create(model="kimi-k2-demo", messages=MESSAGES, temperature=0, max_tokens=40)
    raw = c.completions.create(model="kimi-k2-demo", prompt=prompt, temperature=0, max_tokens=40)
    assert raw.object == "text_completion" and raw.id.startswith("cmpl-")
    assert raw.choices[0].text == chat.choices[0].message.content
    assert raw.choices[0].finish_reason == chat.choices[0].finish_reason
    assert raw.usage.prompt_tokens == chat.usage.prompt_tokens == len(tokens)
    by_ids = c.completions.create(model="kimi-k2-demo", prompt=tokens, temperature=0, max_tokens=40)
    assert by_ids.choices[0].text == raw.choices[0].text
    chunks = list(c.completions.create(model="kimi-k2-demo", prompt=prompt, temperature=0, max_tokens=40, stream=True))
    assert "".join(ch.choices[0].text for ch in chunks if ch.choices) == raw.choices[0].text
    assert chunks[-1].choices[0].finish_reason == raw.choices[0].finish_reason


def test_legacy_fields(demo_server):
    c = client(demo_server)
    _, prompt = rendered(demo_server, MESSAGES)
    r = c.completions.create(model="kimi-k2-demo", prompt=[prompt, "Once upon a time"], n=2, seed=7, temperature=1.0,
                             max_tokens=8, logprobs=2, echo=True)
    assert [ch.index for ch in r.choices] == [0, 1, 2, 3]
    for ch in r.choices:
        start = prompt if ch.index < 2 else "Once upon a time"
        assert ch.text.startswith(start)
        lp = ch.logprobs
        assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) <= 8
        assert "".join(lp.tokens) == ch.text[len(start):] or ch.finish_reason == "length"
        assert lp.text_offset[0] == len(start.encode()) and all(len(t) <= 2 for t in lp.top_logprobs)
    again = c.completions.create(model="kimi-k2-demo", prompt=[prompt, "Once upon a time"], n=2, seed=7, temperature=1.0,
                                 max_tokens=8, logprobs=2, echo=True)
    assert [ch.text for ch in again.choices] == [ch.text for ch in r.choices]
    stopped = c.completions.create(model="kimi-k2-demo", prompt=prompt, temperature=0, max_tokens=40, stop=["Kimi"])
    assert "Kimi" not in stopped.choices[0].text and stopped.choices[0].finish_reason == "stop"
    assert c.completions.create(model="kimi-k2-demo", prompt="x", max_tokens=3).choices[0].finish_reason in ("stop", "length")


def test_refusals(demo_server):
    c = client(demo_server)
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model="kimi-k2-demo", prompt="def f(", suffix="return 1", max_tokens=5)
    assert e.value.body["param"] == "suffix"
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model="kimi-k2-demo", prompt=[1, 2, 10**9], max_tokens=5)
    assert e.value.body["param"] == "prompt[2]"
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model="kimi-k2-demo", prompt="x", max_tokens=10**6)
    assert e.value.body["code"] == "context_length_exceeded"
