"""Many users at once over HTTP: concurrent outputs equal sequential ones, the prefix cache
shows in usage, /metrics in Prometheus text format, an abandoned flood does not delay others."""
import json
import re
import socket
import threading
import time

import openai
import requests

from conftest import Server

MESSAGES = [[{"role": "user", "content": f"Tell me about item {i} " + "and more " * (i % 5)}] for i in range(8)]


def complete(server, messages, **kw):
    client = openai.OpenAI(api_key="x", base_url=server.base_url, max_retries=0)
    return client.chat.completions.create(model="kimi-mini", messages=messages, max_tokens=12, temperature=0,
                                          extra_body={"ignore_eos": True}, **kw)


def test_concurrent_outputs_equal_sequential(server):
    sequential = [complete(server, m).choices[0].message.content for m in MESSAGES]
    concurrent = [None] * len(MESSAGES)

    def run(i):
        concurrent[i] = complete(server, MESSAGES[i]).choices[0].message.content

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(MESSAGES))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert concurrent == sequential


def test_follow_up_turn_reports_cached_tokens(server):
    history = [{"role": "system", "content": "You answer briefly. " * 20}, {"role": "user", "content": "First question?"}]
    first = complete(server, history)
    follow = history + [{"role": "assistant", "content": first.choices[0].message.content},
                        {"role": "user", "content": "And the second?"}]
    second = complete(server, follow)
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert first.usage.prompt_tokens <= cached < second.usage.prompt_tokens
    # Streaming reports it in the usage chunk too.
    client = openai.OpenAI(api_key="x", base_url=server.base_url, max_retries=0)
    stream = client.chat.completions.create(model="kimi-mini", messages=follow, max_tokens=12, temperature=0, stream=True,
                                            stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    usage = [c.usage for c in stream if c.usage][-1]
    assert usage.prompt_tokens_details.cached_tokens >= cached


def metric(text, name, labels=""):
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_metrics_in_prometheus_format(server):
    complete(server, MESSAGES[0])
    before = requests.get(server.url("/metrics"), timeout=10)
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
    complete(server, MESSAGES[1])
    text = requests.get(server.url("/metrics"), timeout=10).text
    for family in ["kimi_requests_total", "kimi_prompt_tokens_total", "kimi_generation_tokens_total",
                   "kimi_cached_prompt_tokens_total", "kimi_time_to_first_token_seconds", "kimi_inter_token_latency_seconds",
                   "kimi_queue_depth", "kimi_running_sequences", "kimi_kv_cache_used_bytes", "kimi_kv_cache_budget_bytes",
                   "kimi_engine_step_seconds", "kimi_engine_last_step_timestamp_seconds", "kimi_engine_steps_total",
                   "kimi_prefix_cache_entries", "kimi_prefix_cache_tokens"]:
        assert f"# TYPE {family} " in text, family
    # Both conversations' prompts stay cached for their next turns.
    assert metric(text, "kimi_prefix_cache_entries") >= 2
    assert metric(text, "kimi_prefix_cache_tokens") >= 2 * metric(text, "kimi_prefix_cache_entries")
    assert metric(text, "kimi_requests_total", '{status="200"}') >= metric(before.text, "kimi_requests_total", '{status="200"}') + 1
    assert metric(text, "kimi_generation_tokens_total") >= metric(before.text, "kimi_generation_tokens_total") + 12
    assert metric(text, "kimi_time_to_first_token_seconds_count") >= 2
    assert abs(metric(text, "kimi_engine_last_step_timestamp_seconds") - time.time()) < 60


def test_abandoned_flood_then_prompt_service():
    """50 streaming clients connect (all admitted or queued) and leave at once; the next request
    is answered promptly."""
    slow_server = Server("--step-delay", "0.05", "--max-queued", "64", "--max-running", "4", testbed=True)
    try:
        abandoned_flood(slow_server)
    finally:
        slow_server.stop()


def abandoned_flood(slow_server):
    body = json.dumps({"model": "kimi-mini", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 2000,
                       "ignore_eos": True, "stream": True}).encode()
    sockets = []
    for _ in range(50):
        s = socket.create_connection(("127.0.0.1", slow_server.port), timeout=10)
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        sockets.append(s)
    time.sleep(0.3)
    for s in sockets:
        s.close()
    # The engine drops the departed clients' generations within a few steps...
    start = time.time()
    while time.time() - start < 3:
        text = requests.get(slow_server.url("/metrics"), timeout=10).text
        if metric(text, "kimi_queue_depth") == 0 and metric(text, "kimi_running_sequences") == 0:
            break
        time.sleep(0.05)
    assert metric(text, "kimi_queue_depth") == 0 and metric(text, "kimi_running_sequences") == 0
    # ...and the next request is served at once.
    r = requests.post(slow_server.url("/v1/chat/completions"),
                      json={"model": "kimi-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}, timeout=30)
    assert r.status_code == 200 and time.time() - start < 4
