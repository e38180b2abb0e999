"""Running as a service: systemd's notify protocol, graceful shutdown, KIMI_* variables, the unit."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from conftest import BINARY, CHECKPOINT, ROOT, Server, free_port


def test_notify_ready_watchdog_stopping():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    port = free_port()
    process = subprocess.Popen([str(BINARY), "serve", "--model", str(CHECKPOINT), "--port", str(port)],
                               stderr=subprocess.PIPE,
                               env={**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
    try:
        messages = []
        while not any("READY=1" in m for m in messages):
            messages.append(sock.recv(4096).decode())
        # READY=1 only once the listener answers.
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        assert any(m.startswith("STATUS=") for m in messages)
        start, pings = time.time(), 0
        while time.time() - start < 1.5:
            if "WATCHDOG=1" in sock.recv(4096).decode():
                pings += 1
        assert pings >= 4  # every 0.2 s (half of WATCHDOG_USEC)
        process.send_signal(signal.SIGTERM)
        seen = []
        while not any("STOPPING=1" in m for m in seen):
            seen.append(sock.recv(4096).decode())
        assert process.wait(10) == 0
    finally:
        process.kill()
        sock.close()
        shutil.rmtree(directory)


def stream(base_url, max_tokens, results, i):
    body = {"model": "kimi-mini", "messages": [{"role": "user", "content": f"Hello {i}"}], "max_tokens": max_tokens,
            "ignore_eos": True, "stream": True}
    events = []
    with requests.post(base_url + "/chat/completions", json=body, stream=True, timeout=60) as r:
        for line in r.iter_lines():
            if line:
                events.append(line.decode())
    results[i] = events


@pytest.mark.parametrize("timeout,max_tokens,expected", [(30, 150, "length"), (0.5, 2000, "abort")])
def test_sigterm_drains_running_streams(timeout, max_tokens, expected):
    """SIGTERM with 4 streams running: they finish (or end cleanly after --shutdown-timeout), new
    requests are refused, and the process exits 0."""
    s = Server("--step-delay", "0.02", "--max-queued", "8", "--shutdown-timeout", str(timeout), testbed=True)
    results = {}
    threads = [threading.Thread(target=stream, args=(s.base_url, max_tokens, results, i)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    # A health check whose request is half sent when the signal comes (idle connections are closed
    # with the listener; one in the middle of a request is answered).
    pending = socket.create_connection(("127.0.0.1", s.port), timeout=5)
    pending.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.1)
    s.process.send_signal(signal.SIGTERM)
    time.sleep(0.1)
    with pytest.raises(requests.ConnectionError):
        requests.get(s.url("/health"), timeout=2)
    pending.sendall(b"Connection: close\r\n\r\n")
    answer = b""
    while chunk := pending.recv(65536):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 503") and answer.endswith(b'{"status":"draining"}'), answer
    for t in threads:
        t.join(60)
    assert s.process.wait(20) == 0
    for i in range(4):
        events = results[i]
        assert events[-1] == "data: [DONE]"
        finals = [json.loads(e[6:]) for e in events[:-1] if '"finish_reason":"' in e]
        assert finals and finals[-1]["choices"][0]["finish_reason"] == expected


def test_health_while_loading():
    """The port is bound before the model loads: /health answers 503 "loading" and other requests a
    503 error in the API's shape, both with Retry-After, until the model is ready."""
    port = free_port()
    process = subprocess.Popen([str(ROOT / ".build" / "release" / "kimi-serve-testbed"), "serve", "--model", str(CHECKPOINT),
                                "--port", str(port), "--load-delay", "3"], stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except requests.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.05)
        assert r.status_code == 503 and r.json() == {"status": "loading"} and r.headers["Retry-After"] == "5"
        chat = requests.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=5,
                             json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
        assert chat.status_code == 503 and chat.headers["Retry-After"] == "5"
        assert chat.json()["error"]["type"] == "service_unavailable"
        while r.status_code == 503:
            assert r.json() == {"status": "loading"} and time.time() < deadline
            time.sleep(0.1)
            r = requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
        assert r.status_code == 200 and r.json() == {"status": "ready"}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_environment_variables_and_flags():
    port = free_port()
    env = {**os.environ, "KIMI_PORT": str(free_port()), "KIMI_SERVED_MODEL_NAME": "alpha,beta", "KIMI_API_KEY": "env-key",
           "KIMI_MAX_MODEL_LEN": "1000", "KIMI_LOG_FORMAT": "json", "KIMI_MAX_QUEUED": "3"}
    process = subprocess.Popen([str(BINARY), "serve", "--model", str(CHECKPOINT), "--port", str(port)],
                               stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.time() + 20
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer env-key"}, timeout=1)
                if r.status_code != 503:  # 503 while the model loads
                    break
            except requests.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.05)
        models = r.json()["data"]  # the flag's port won over KIMI_PORT
        assert [m["id"] for m in models] == ["alpha", "beta"] and models[0]["max_model_len"] == 1000
        assert requests.get(f"http://127.0.0.1:{port}/v1/models").status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    log = process.stderr.read().decode().strip().splitlines()
    assert all(json.loads(line)["level"] for line in log)  # KIMI_LOG_FORMAT=json
    assert "env-key" not in "\n".join(log)


@pytest.mark.parametrize("args,env", [
    (["--api-key", "a", "--api-key-file", "/dev/null"], {}),
    (["--kv-cache-dtype", "fp4"], {}),
    ([], {"KIMI_PRELOAD": "maybe"}),
    ([], {"KIMI_LOG_LEVEL": "loud"}),
])
def test_invalid_settings_exit_64(args, env):
    r = subprocess.run([str(BINARY), "serve", "--model", str(CHECKPOINT), *args], capture_output=True, text=True,
                       env={**os.environ, **env}, timeout=30)
    assert r.returncode == 64 and r.stderr.strip()


def test_max_model_len_above_the_checkpoint_is_refused():
    """A context longer than the checkpoint's is an error that says so, not a silent cap (found once the
    checkpoint is read, so exit 1, as for a --max-model-len over the KV budget)."""
    limit = json.loads((CHECKPOINT / "config.json").read_text())["max_position_embeddings"]
    r = subprocess.run([str(BINARY), "serve", "--model", str(CHECKPOINT), "--port", "0", "--max-model-len", str(limit + 1)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and f"max_position_embeddings {limit}" in r.stderr, r.stderr


def test_unit_file_verifies(tmp_path):
    unit = (ROOT / "Scripts" / "kimi-serve.service").read_text().replace("/usr/local/bin/kimi-serve", str(BINARY.resolve()))
    path = tmp_path / "kimi-serve.service"
    path.write_text(unit)
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Type=notify" in unit and "WatchdogSec=" in unit and "NoNewPrivileges=yes" in unit


def test_every_stream_stays_alive_through_a_long_silence():
    """A pass slower than the keep-alive interval (15 s): every streaming API sends an SSE
    comment while it waits, so proxies and clients with idle timeouts keep the stream."""
    s = Server("--step-delay", "16", testbed=True)
    try:
        requests_by_route = {
            "/v1/chat/completions": {"model": "kimi-mini", "messages": [{"role": "user", "content": "Hi"}]},
            "/v1/completions": {"model": "kimi-mini", "prompt": "Hi"},
            "/v1/responses": {"model": "kimi-mini", "input": "Hi"},
            "/v1/messages": {"model": "kimi-mini", "messages": [{"role": "user", "content": "Hi"}]},
        }
        bodies = {}

        def stream(route, body):
            limit = "max_output_tokens" if route == "/v1/responses" else "max_tokens"
            with requests.post(s.url(route), json={**body, limit: 1, "stream": True}, stream=True, timeout=60) as r:
                assert r.status_code == 200, r.text
                bodies[route] = b"".join(r.iter_content(None))

        threads = [threading.Thread(target=stream, args=item) for item in requests_by_route.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
        assert set(bodies) == set(requests_by_route)
        for route, raw in bodies.items():
            # Anthropic's own ping event once message_start is out (one follows it anyway).
            kept_alive = b": ping\n\n" in raw or (route == "/v1/messages" and raw.count(b"event: ping\n") >= 2)
            assert kept_alive, (route, raw[:400])
    finally:
        s.stop()
