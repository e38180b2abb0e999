"""Browser clients, for real: headless Chromium loads a page from another origin whose script
calls the server with `fetch` and the headers the OpenAI and Anthropic browser SDKs send
(Authorization, X-Stainless-*, anthropic-version, anthropic-dangerous-direct-browser-access),
streaming and not, and reads an error; the page posts what it saw back to the test. With the
origin allowed every call goes through the browser's CORS checks; without it the browser
refuses to hand the page anything."""
import json
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import Server, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html><meta charset="utf-8"><script>
const api = "%(api)s";
const openaiHeaders = {"Content-Type": "application/json", "Authorization": "Bearer sk-browser",
                       "X-Stainless-Lang": "js", "X-Stainless-OS": "Linux", "X-Stainless-Retry-Count": "0"};
const anthropicHeaders = {"Content-Type": "application/json", "x-api-key": "sk-browser", "anthropic-version": "2023-06-01",
                          "anthropic-dangerous-direct-browser-access": "true", "X-Stainless-Lang": "js"};
async function run() {
  const out = {};
  try {
    const chat = await fetch(api + "/v1/chat/completions", {method: "POST", headers: openaiHeaders,
      body: JSON.stringify({messages: [{role: "user", content: "Hello"}], max_tokens: 8})});
    const body = await chat.json();
    out.chat = {status: chat.status, content: body.choices[0].message.content, requestId: chat.headers.get("x-request-id")};
    const stream = await fetch(api + "/v1/chat/completions", {method: "POST", headers: openaiHeaders,
      body: JSON.stringify({messages: [{role: "user", content: "Hello"}], max_tokens: 8, stream: true})});
    const reader = stream.body.getReader();
    let text = "";
    for (;;) { const {done, value} = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
    out.stream = {status: stream.status, events: text.split("\\n\\n").filter(e => e.startsWith("data: ")).length, done: text.includes("data: [DONE]")};
    const msg = await fetch(api + "/v1/messages", {method: "POST", headers: anthropicHeaders,
      body: JSON.stringify({model: "kimi-mini", max_tokens: 8, stream: true, messages: [{role: "user", content: "Hello"}]})});
    const raw = await msg.text();
    out.messages = {status: msg.status, stop: raw.includes("event: message_stop")};
    const err = await fetch(api + "/v1/chat/completions", {method: "POST", headers: openaiHeaders, body: "{"});
    out.error = {status: err.status, type: (await err.json()).error.type};
  } catch (e) {
    out.failure = String(e);
  }
  await fetch("/result", {method: "POST", body: JSON.stringify(out)});
}
run();
</script>"""


class Page:
    """Serves the page on its own origin and receives what the page reports."""

    def __init__(self):
        self.api = None  # the server's origin, set once it runs
        self.result = None
        self.done = threading.Event()
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = (PAGE % {"api": page.api}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                page.result = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()
                page.done.set()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    @property
    def origin(self):
        return f"http://localhost:{self.port}"

    def visit(self, tmp_path):
        browser = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                    f"--user-data-dir={tmp_path / 'profile'}", self.origin + "/"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert self.done.wait(60), "the page never reported"
        finally:
            browser.kill()
            browser.wait()
            self.http.shutdown()
        return self.result


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Scripts/install-deps.sh installs it)")
@pytest.mark.parametrize("allowed", [True, False])
def test_browser_page_on_another_origin(tmp_path, allowed):
    page = Page()
    server = Server("--api-key", "sk-browser", *(["--allowed-origins", page.origin] if allowed else []))
    try:
        page.api = f"http://127.0.0.1:{server.port}"
        seen = page.visit(tmp_path)
    finally:
        server.stop()
    if allowed:
        assert "failure" not in seen, seen
        assert seen["chat"]["status"] == 200 and seen["chat"]["content"] is not None and seen["chat"]["requestId"]
        assert seen["stream"]["status"] == 200 and seen["stream"]["done"] and seen["stream"]["events"] > 2
        assert seen["messages"] == {"status": 200, "stop": True}
        assert seen["error"] == {"status": 400, "type": "invalid_request_error"}
    else:
        # The browser withholds the response from a page whose origin the server did not allow.
        assert "failure" in seen and "Failed to fetch" in seen["failure"]
