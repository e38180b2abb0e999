"""Token counting routes: vLLM's /tokenize and /detokenize, Moonshot's estimate-token-count. A
chat's count is what the chat endpoint prefills for it (its usage.prompt_tokens), and the
rendered prompt's text, tokenized with its special tokens read as such, gives the same ids."""
import requests

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
CHATS = [
    {"messages": [{"role": "user", "content": "Hello! Who are you?"}]},
    {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "天气如何？"}], "tools": TOOLS},
    {"messages": [{"role": "user", "content": "Weather in Lima?"}], "tools": TOOLS, "tool_choice": "required"},
]


def post(server, path, body):
    return requests.post(server.url(path), json=body, timeout=60)


def test_chat_counts_equal_the_chat_endpoints_usage(server):
    for chat in CHATS:
        usage = post(server, "/v1/chat/completions", {**chat, "max_tokens": 1}).json()["usage"]["prompt_tokens"]
        counted = post(server, "/tokenize", chat).json()
        assert counted["count"] == len(counted["tokens"]) == usage, chat
        assert counted["max_model_len"] > usage
        assert post(server, "/v1/tokenizers/estimate-token-count", chat).json() == {"data": {"total_tokens": usage}}


def test_detokenize_and_retokenize_round_trip(server):
    tokens = post(server, "/v1/tokenize", {**CHATS[1], "add_generation_prompt": False}).json()["tokens"]
    text = post(server, "/detokenize", {"tokens": tokens}).json()["prompt"]
    assert text.startswith("<|im_system|>tool_declare<|im_middle|>") and text.endswith("<|im_end|>")
    again = post(server, "/tokenize", {"prompt": text, "return_token_strs": True}).json()
    assert again["tokens"] == tokens and len(again["token_strs"]) == len(tokens)


def test_errors(server):
    r = post(server, "/detokenize", {"tokens": [1, -5]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "tokens[1]"
    r = post(server, "/tokenize", {"prompt": 5})
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"
    r = post(server, "/tokenize", {"messages": []})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
    assert post(server, "/tokenize", {"prompt": "x", "model": "other"}).status_code == 404
