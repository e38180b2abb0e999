"""Two replicas behind nginx with the shipped configuration (Scripts/router/kimi-serve.nginx.conf and
kimi-replicas.upstream, laid out as in /etc/nginx):
a conversation's second turn finds its prefix cached, a killed replica's traffic goes to the other,
and a rolling restart under steady streaming load loses nothing."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests
from openai import OpenAI

from conftest import BINARY, CHECKPOINT, ROOT, free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = pytest.mark.skipif(NGINX is None and os.environ.get("CI") != "true", reason="nginx is not installed")


class Replica:
    def __init__(self, port):
        self.port = port
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen([str(BINARY), "serve", "--model", str(CHECKPOINT), "--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("replica did not become ready")

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(60)


@pytest.fixture
def cluster():
    """Two replicas and nginx with the shipped configuration, its replica ports and listen port
    replaced by free ones."""
    ports = [free_port(), free_port()]
    replicas = [Replica(p) for p in ports]
    front = free_port()
    directory = tempfile.mkdtemp()
    router = ROOT / "Scripts" / "router"
    conf, upstream = (router / "kimi-serve.nginx.conf").read_text(), (router / "kimi-replicas.upstream").read_text()
    assert "server 127.0.0.1:8001 " in upstream and "server 127.0.0.1:8002 " in upstream and "listen 8000;" in conf
    upstream = upstream.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
    os.makedirs(os.path.join(directory, "conf.d"))
    with open(os.path.join(directory, "conf.d", "kimi-serve.nginx.conf"), "w") as f:
        f.write(conf.replace("listen 8000;", f"listen 127.0.0.1:{front};"))
    with open(os.path.join(directory, "conf.d", "kimi-replicas.upstream"), "w") as f:
        f.write(upstream)
    temp = {name: os.path.join(directory, name) for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    with open(os.path.join(directory, "nginx.conf"), "w") as f:
        f.write(f"pid {directory}/nginx.pid;\nerror_log {directory}/error.log;\nevents {{}}\nhttp {{\n"
                f"  access_log off;\n  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
                f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n  scgi_temp_path {temp['scgi']};\n"
                f"  include conf.d/*.conf;\n}}\n")
    nginx = subprocess.Popen([NGINX, "-p", directory, "-c", os.path.join(directory, "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{front}"
    deadline = time.time() + 10
    while True:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert nginx.poll() is None, nginx.stderr.read().decode()
        assert time.time() < deadline
        time.sleep(0.05)
    try:
        yield base, replicas
    finally:
        nginx.terminate()
        nginx.wait(10)
        for r in replicas:
            r.stop(signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)


def two_turns(client, index, how):
    """A conversation's two turns, keyed as `how` says; the second turn's cached prompt tokens."""
    session = str(uuid.uuid4())
    extra = {"extra_headers": {"X-Session-Id": session}} if how == "header" else {"user": session} if how == "user" else {}
    # Conversations keyed by their first messages differ in their first message.
    messages = [{"role": "system", "content": f"You are assistant number {index} of a fleet."},
                {"role": "user", "content": f"Conversation {index}: tell me something."}]
    first = client.chat.completions.create(model="kimi-mini", messages=messages, max_tokens=8, temperature=0, **extra)
    messages += [{"role": "assistant", "content": first.choices[0].message.content or ""},
                 {"role": "user", "content": "And then?"}]
    second = client.chat.completions.create(model="kimi-mini", messages=messages, max_tokens=8, temperature=0, **extra)
    details = second.usage.prompt_tokens_details
    return details.cached_tokens if details else 0


def test_affinity_failover_and_rolling_restart(cluster):
    base, replicas = cluster
    client = OpenAI(base_url=base + "/v1", api_key="none", max_retries=0)

    def served():
        """Tokens each replica has generated."""
        counts = []
        for r in replicas:
            text = requests.get(f"http://127.0.0.1:{r.port}/metrics", timeout=5).text
            line = next((l for l in text.splitlines() if l.startswith("kimi_generation_tokens_total ")), None)
            counts.append(float(line.split()[-1]) if line else 0.0)
        return counts

    # Affinity: a second turn through the router finds its first turn cached, whichever key, and
    # the conversations are spread over both replicas (not all sent to one).
    for how in ("header", "user", "body"):
        before = served()
        cached = [two_turns(client, i, how) for i in range(10)]
        assert sum(c > 0 for c in cached) >= 9, (how, cached)
        assert all(after > b for after, b in zip(served(), before)), (how, before, served())

    # Failover: with one replica killed, new requests succeed on the other.
    replicas[0].stop(signal.SIGKILL)
    for i in range(10):
        r = client.chat.completions.create(model="kimi-mini", max_tokens=4,
                                           messages=[{"role": "user", "content": f"after the kill {i}"}])
        assert r.choices[0].finish_reason in ("stop", "length")
    replicas[0].start()

    # Rolling restart under 8 streaming clients: no request lost, every stream ends with [DONE].
    stop = threading.Event()
    outcomes = []  # appended to by the clients (list.append is atomic)

    def client_loop(k):
        n = 0
        while not stop.is_set():
            n += 1
            body = {"model": "kimi-mini", "stream": True, "max_tokens": 24,
                    "messages": [{"role": "user", "content": f"client {k} request {n}"}]}
            try:
                with requests.post(base + "/v1/chat/completions", json=body, stream=True, timeout=60) as r:
                    lines = [line.decode() for line in r.iter_lines() if line]
                    outcomes.append((r.status_code, lines[-1] if lines else ""))
            except requests.RequestException as error:
                outcomes.append((0, repr(error)))

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    time.sleep(1)
    for replica in replicas:
        assert replica.stop(signal.SIGTERM) == 0  # drains its streams, then exits
        replica.start()
        time.sleep(3)  # nginx's fail_timeout (2 s) after the replica is ready again
    stop.set()
    for t in threads:
        t.join(60)
    assert len(outcomes) >= 16, len(outcomes)
    failures = [o for o in outcomes if o != (200, "data: [DONE]")]
    assert not failures, failures[:5]
