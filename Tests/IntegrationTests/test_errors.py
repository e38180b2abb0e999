"""Every invalid input is a 4xx with an OpenAI error object naming the field, and the server
stays healthy."""
import json
import socket

import openai
import pytest
import requests

GOOD = {"model": "kimi-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}

INVALID = [
    # (change to GOOD, expected param)
    ({"messages": None}, "messages"),
    ({"messages": "hi"}, "messages"),
    ({"messages": []}, "messages"),
    ({"messages": [123]}, "messages[0]"),
    ({"messages": [{}]}, "messages[0].role"),
    ({"messages": [{"role": 1, "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
    ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ({"messages": [{"role": "user"}]}, "messages[0].content"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}]}, "messages[0].content[0].type"),
    ({"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]}]},
     "messages[0].tool_calls[0].function.arguments"),
    ({"model": 5}, "model"),
    ({"temperature": -1}, "temperature"),
    ({"temperature": 3}, "temperature"),
    ({"temperature": 999999}, "temperature"),
    ({"temperature": "hot"}, "temperature"),
    ({"top_p": -1}, "top_p"),
    ({"top_p": 2}, "top_p"),
    ({"top_k": -5}, "top_k"),
    ({"presence_penalty": 3}, "presence_penalty"),
    ({"frequency_penalty": -3}, "frequency_penalty"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": -1}, "max_tokens"),
    ({"max_tokens": 1.5}, "max_tokens"),
    ({"max_completion_tokens": 0}, "max_completion_tokens"),
    ({"n": 0}, "n"),
    ({"n": 1000000000}, "n"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"stop": [""]}, "stop[0]"),
    ({"stop": 5}, "stop"),
    ({"logit_bias": {"abc": 1}}, "logit_bias"),
    ({"logit_bias": {"99999999": 1}}, "logit_bias"),
    ({"logit_bias": {"5": 1000}}, "logit_bias"),
    ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
    ({"logprobs": True, "top_logprobs": -1}, "top_logprobs"),
    ({"top_logprobs": 5}, "top_logprobs"),
    ({"seed": 2 ** 64}, "seed"),
    ({"seed": "x"}, "seed"),
    ({"response_format": {"type": "json_schema"}}, "response_format.json_schema"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": 123}}}, "response_format.json_schema.schema"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "bad name", "schema": {}}}}, "response_format.json_schema.name"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "thing"}}}}, "response_format.json_schema.schema"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {"type": "array", "uniqueItems": True}}}},
     "response_format.json_schema.schema"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]}, "tools[0].function.parameters"),
    ({"response_format": {"type": "sound"}}, "response_format"),
    ({"stream_options": {"include_usage": True}}, "stream_options"),
    ({"tools": []}, "tools"),
    ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": 5}}]}, "tools[0].function.parameters"),
    ({"tool_choice": "auto"}, "tool_choice"),
    ({"tool_choice": "required"}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}}}, "tool_choice"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "sometimes"}, "tool_choice"),
    ({"stream": "yes"}, "stream"),
    ({"parallel_tool_calls": 1}, "parallel_tool_calls"),
    ({"functions": [{"name": "f"}]}, "functions"),
]


@pytest.mark.parametrize("change,param", INVALID, ids=[p for _, p in INVALID])
def test_invalid_field(server, change, param):
    body = {**GOOD, **change}
    r = requests.post(server.base_url + "/chat/completions", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["param"] == param, error


def test_unknown_fields_are_ignored(server):
    r = requests.post(server.base_url + "/chat/completions",
                      json={**GOOD, "user": "u1", "store": False, "metadata": {"a": "b"}, "service_tier": "auto", "x_custom": [1]})
    assert r.status_code == 200


def test_context_length_exceeded(server):
    long_text = "word " * 5000
    for stream in (False, True):
        r = requests.post(server.base_url + "/chat/completions",
                          json={**GOOD, "messages": [{"role": "user", "content": long_text}], "stream": stream})
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")
        error = r.json()["error"]
        assert error["code"] == "context_length_exceeded" and "4096" in error["message"]
    r = requests.post(server.base_url + "/chat/completions", json={**GOOD, "max_tokens": 5000})
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_length_exceeded"


def test_bad_bodies(server):
    url = server.base_url + "/chat/completions"
    for data in [b"", b"{", b"[1,2]", b"42", b'"x"', b'{"messages": [' + b"[" * 100000 + b"]}", b'{"a": "\xff\xfe"}',
                 b'{"messages": [{"role": "user", "content": "\\ud800"}]}']:
        r = requests.post(url, data=data, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (data[:40], r.text)
        assert r.json()["error"]["type"] == "invalid_request_error"
    r = requests.post(url, data="messages=hi", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert requests.get(server.url("/health")).status_code == 200


def test_model_not_found(server):
    with pytest.raises(openai.NotFoundError) as e:
        openai.OpenAI(api_key="x", base_url=server.base_url, max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert e.value.body["code"] == "model_not_found" and e.value.body["param"] == "model"


def test_routes_and_methods(server):
    r = requests.get(server.url("/v1/nothing"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = requests.get(server.base_url + "/chat/completions")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    # CORS is off unless --allowed-origins says otherwise (test_hostile.py): a preflight gets no
    # Access-Control-* headers, which a browser takes as a refusal.
    r = requests.options(server.base_url + "/chat/completions", headers={"Origin": "http://example.com",
                                                                          "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204 and "POST" in r.headers["allow"]
    assert not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_api_keys(keyed_server):
    url = keyed_server.base_url + "/chat/completions"
    assert requests.post(url, json=GOOD).status_code == 401
    r = requests.post(url, json=GOOD, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
    assert "sk-" not in r.text
    assert requests.post(url, json=GOOD, headers={"Authorization": "Bearer sk-first"}).status_code == 200
    assert requests.post(url, json=GOOD, headers={"x-api-key": "sk-second"}).status_code == 200
    assert requests.get(keyed_server.base_url + "/models").status_code == 401
    assert requests.get(keyed_server.url("/health")).status_code == 200
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="bad", base_url=keyed_server.base_url, max_retries=0).models.list()
    assert openai.OpenAI(api_key="sk-first", base_url=keyed_server.base_url, max_retries=0).models.list().data[0].id == "kimi-mini"


def raw(server, data, read=65536):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(read)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)


def status(response):
    return int(response.split(b" ", 2)[1])


def test_http_limits(server):
    # 413 from Content-Length alone, before any body is sent.
    r = raw(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n")
    assert status(r) == 413 and b'"error"' in r
    # Chunked body over the limit.
    chunk = b"%x\r\n" % (1 << 20) + b"a" * (1 << 20) + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(20):
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert status(s.recv(4096)) == 413
    # 431: too many header fields, one huge field, a huge request line.
    assert status(raw(server, b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n")) == 431
    assert status(raw(server, b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")) == 431
    assert status(raw(server, b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\n\r\n")) == 431
    # Malformed framing: 400 and close.
    assert status(raw(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")) == 400
    assert status(raw(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")) == 400
    assert status(raw(server, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")) == 400
    assert status(raw(server, b"GARBAGE\r\n\r\n")) == 400
    assert requests.get(server.url("/health")).status_code == 200


def test_keep_alive_chunked_and_expect_continue(server):
    body = json.dumps(GOOD).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        # Two requests on one connection; the second with a chunked body and Expect: 100-continue.
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(65536)
        assert status(first) == 200 and b"keep-alive" in first.lower()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        response = b""
        while b"chat.completion" not in response or not response.rstrip().endswith(b"}"):
            response += s.recv(65536)
        assert status(response) == 200
    # Connection: close is honoured.
    assert b"connection: close" in raw(server, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").lower()


def test_ipv6_loopback():
    from conftest import Server
    s = Server(host="::1")
    try:
        assert requests.get(f"http://[::1]:{s.port}/health").status_code == 200
    finally:
        s.stop()


def test_slowloris_is_cut_at_the_header_deadline(server):
    """A client that dribbles its headers is answered 408 and closed after 10 s, while others
    are served meanwhile."""
    import time
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
        start = time.time()
        s.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")
        for _ in range(4):
            time.sleep(1)
            s.sendall(b"a")
            assert requests.get(server.url("/health"), timeout=2).status_code == 200
        response = s.recv(4096)
        assert status(response) == 408 and 9 < time.time() - start < 13
