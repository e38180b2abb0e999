"""Black-box tests: the real kimi-serve binary on a loopback port, driven by the official
`openai` client, `requests`, raw sockets and `curl` (run by Scripts/test.sh)."""
import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("KIMI_SERVE_BINARY", ROOT / ".build" / "release" / "kimi-serve"))
# `serve` with a test double in place of the weights (Tests/Testbed), built beside the binary.
TESTBED = BINARY.parent / "kimi-serve-testbed"
CHECKPOINT = ROOT / "Tests" / "Fixtures" / "checkpoints" / "kimi-mini"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """kimi-serve serve on a free port (kimi-serve-testbed serve with `testbed`); stopped by stop()."""

    def __init__(self, *args, env=None, host="127.0.0.1", model=CHECKPOINT, testbed=False):
        self.port = free_port()
        self.host = host
        command = [str(TESTBED if testbed else BINARY), "serve", *(["--model", str(model)] if model else []), "--host", host, "--port", str(self.port), *args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env={**os.environ, **(env or {})})
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kimi-serve exited: {self.process.stderr.read().decode()}")
            try:
                if requests.get(self.url("/health"), timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("kimi-serve did not become healthy")

    @property
    def base_url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def url(self, path):
        return self.base_url[:-3] + path

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def demo_server():
    """The demo checkpoint linked into the binary (no --model)."""
    s = Server(model=None)
    yield s
    s.stop()


@pytest.fixture(scope="session")
def keyed_server():
    s = Server("--api-key", "sk-first,sk-second")
    yield s
    s.stop()


@pytest.fixture()
def slow_server():
    """Each engine step sleeps 50 ms, so generations last long enough to queue and disconnect; one runs at a time."""
    s = Server("--step-delay", "0.05", "--max-queued", "1", "--max-running", "1", testbed=True)
    yield s
    s.stop()


SCRIPTS = [
    # The model card's tool loop: a call, then the answer once the result is in.
    "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
    "{\"city\": \"Beijing\"}<|tool_call_end|><|tool_calls_section_end|>",
    "The weather in Beijing is Sunny.",
    # Text, then two parallel calls with several keys.
    "Let me check both.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:1<|tool_call_argument_begin|>"
    "{\"city\": \"São Paulo\"}<|tool_call_end|><|tool_call_begin|>functions.convert_units:2<|tool_call_argument_begin|>"
    "{\"value\": 30, \"from\": \"km\", \"to\": \"mi\"}<|tool_call_end|><|tool_calls_section_end|>",
    # A stop string to find across token boundaries.
    "alpha beta gamma delta",
]


def start_scripted(tmp_path, scripts, guided=False):
    """A server that answers requests with `scripts` in turn (a scripted token source instead of
    the weights; each script is encoded with the special tokens, so its markers are real ones).
    Tool calls are unguided unless `guided`: the scripts are what a model might write, and the
    tests of the parsers need them to come out as written; an empty script is random logits."""
    path = tmp_path / "scripts.json"
    path.write_text(json.dumps(scripts))
    return Server("--scripted-output", str(path), "--guided-tools", "on" if guided else "off", testbed=True)


@pytest.fixture()
def scripted_server(tmp_path):
    """Answers requests with SCRIPTS in turn."""
    s = start_scripted(tmp_path, SCRIPTS)
    yield s
    s.stop()
