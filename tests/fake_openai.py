"""A local OpenAI-compatible chat-completions server that misbehaves on request.

The behaviour is named by a ``[NAME]`` in the last user message, or else by the
model name (``--model openai-chat:NAME``), so one session can meet several faults:

- ``normal``: the first request calls ``write_todos`` and ``write_file``, the
  next streams an answer (tool results in the conversation tell them apart);
- ``http500``, ``http429``, ``http401``: that status with OpenAI's error body
  (the 401 echoes the key it was sent, as careless providers do);
- ``cut``: an answer that breaks off mid-stream, the connection dropped;
- ``stall``: an answer that stops sending bytes without ending;
- ``malformed``: chunks that are not JSON.

Standard library only; every request is counted per model in ``requests``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = ["The ", "garden ", "plan ", "is ", "written ", "to ", "/plan.md ", "with ", "two ", "todos."]
STALL_SECONDS = 30


def _chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _tool_calls() -> list[bytes]:
    calls = [
        (
            "write_todos",
            {
                "todos": [
                    {"content": "Plan the garden", "active_form": "Planning", "status": "in_progress"},
                    {"content": "Water it", "active_form": "Watering"},
                ]
            },
        ),
        ("write_file", {"path": "/plan.md", "content": "# Garden plan\n- tulips\n"}),
    ]
    chunks = [_chunk({"role": "assistant", "content": None})]
    for index, (name, args) in enumerate(calls):
        chunks.append(
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": f"call_{index}",
                            "type": "function",
                            "function": {"name": name, "arguments": json.dumps(args)},
                        }
                    ]
                }
            )
        )
    chunks.append(_chunk({}, "tool_calls"))
    return chunks


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep the test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        prompts = [m.get("content") for m in body.get("messages", []) if m.get("role") == "user"]
        marker = re.search(r"\[(\w+)\]", str(prompts[-1])) if prompts else None
        model = marker.group(1) if marker else body.get("model", "")
        self.server.requests[model] += 1
        answered = any(m.get("role") == "tool" for m in body.get("messages", []))
        if model.startswith("http"):
            self._error(int(model[4:]))
        elif model == "normal":
            self._stream(_tool_calls() if not answered else self._answer())
        elif model == "cut":
            self._stream(self._answer()[:4], cut=True)
        elif model == "stall":
            self._stream(self._answer()[:3], stall=True)
        elif model == "malformed":
            self._stream([b"data: {this is not json\n\n", b"data: [1, 2\n\n"])
        else:
            self._error(404)

    def _answer(self) -> list[bytes]:
        chunks = [_chunk({"role": "assistant", "content": ""})]
        chunks += [_chunk({"content": token}) for token in ANSWER]
        return [*chunks, _chunk({}, "stop")]

    def _error(self, status: int) -> None:
        key = self.headers.get("authorization", "").removeprefix("Bearer ")
        message = {
            500: "The server had an error while processing your request.",
            429: "Rate limit reached for requests. Please try again later.",
            401: f"Incorrect API key provided: {key}. You can find your API key at the dashboard.",
            404: "The model does not exist.",
        }[status]
        payload = json.dumps({"error": {"message": message, "type": "fake_error", "code": str(status)}}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        # The SDK retries 500 and 429 twice; a retry-after of 0 is not one it takes, and it backs off 0.5-3 s instead.
        self.send_header("retry-after-ms", "1")
        self.end_headers()
        self.wfile.write(payload)

    def _stream(self, chunks: list[bytes], *, cut: bool = False, stall: bool = False) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        if cut:
            self.wfile.write(b'40\r\ndata: {"id": "chatcmpl-fake", "choi')  # a chunk that never ends
            self.wfile.flush()
            self.close_connection = True
            return
        if stall:
            deadline = time.monotonic() + STALL_SECONDS
            while time.monotonic() < deadline and not self.server.stopping.is_set():
                time.sleep(0.05)
            return
        done = b"data: [DONE]\n\n"
        self.wfile.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
        self.wfile.flush()


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: Counter[str] = Counter()
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up on a stalled or cut stream is what the tests do on purpose."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running server on a free loopback port, stopped afterwards."""
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
