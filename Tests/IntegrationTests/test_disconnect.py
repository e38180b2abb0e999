"""Clients that leave, and a queue that fills: the server cancels, refuses fast, recovers."""
import json
import socket
import threading
import time

import openai
import requests

BODY = {"model": "kimi-mini", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 2000,
        "ignore_eos": True, "temperature": 0}


def test_disconnect_mid_stream_then_healthy(slow_server):
    with socket.create_connection(("127.0.0.1", slow_server.port), timeout=10) as s:
        payload = json.dumps({**BODY, "stream": True}).encode()
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload))
        received = b""
        while received.count(b"data: ") < 3:
            received += s.recv(4096)
    # The abandoned generation (2000 tokens at 50 ms each) must stop: a new request is served promptly.
    start = time.time()
    r = requests.post(slow_server.base_url + "/chat/completions", json={**BODY, "max_tokens": 3}, timeout=20)
    assert r.status_code == 200 and time.time() - start < 3
    assert r.json()["usage"]["completion_tokens"] == 3


def test_non_stream_client_timeout_cancels(slow_server):
    client = openai.OpenAI(api_key="x", base_url=slow_server.base_url, max_retries=0, timeout=0.5)
    try:
        client.chat.completions.create(**{k: v for k, v in BODY.items() if k != "ignore_eos"}, extra_body={"ignore_eos": True})
    except openai.APITimeoutError:
        pass
    start = time.time()
    r = requests.post(slow_server.base_url + "/chat/completions", json={**BODY, "max_tokens": 3}, timeout=20)
    assert r.status_code == 200 and time.time() - start < 3


def test_queue_full_is_429_with_retry_after(slow_server):
    """--max-running 1 --max-queued 1: one running, one waiting, the third refused at once."""
    results = {}

    def run(name):
        results[name] = requests.post(slow_server.base_url + "/chat/completions", json={**BODY, "max_tokens": 20}, timeout=30)

    first = threading.Thread(target=run, args=("running",))
    first.start()
    time.sleep(0.3)
    second = threading.Thread(target=run, args=("queued",))
    second.start()
    time.sleep(0.3)
    start = time.time()
    refused = requests.post(slow_server.base_url + "/chat/completions", json={**BODY, "max_tokens": 20}, timeout=30)
    assert refused.status_code == 429 and time.time() - start < 0.5
    assert refused.headers["retry-after"] == "1" and refused.json()["error"]["type"] == "rate_limit_error"
    first.join()
    second.join()
    assert results["running"].status_code == 200 and results["queued"].status_code == 200
