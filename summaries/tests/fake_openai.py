"""A real HTTP server speaking the OpenAI chat.completions wire format, for tests.

Runs ``ThreadingHTTPServer`` on 127.0.0.1 (port 0 → a free port) in a background thread,
records every request (headers, raw body, parsed JSON) and answers from a per-test queue
of behaviours:

* ``ok(content, usage=(prompt, completion))`` or ``"ok"`` — a normal completion;
* ``"status:429"``, ``"status:500"``, ``"status:400"`` … — an OpenAI-style error body;
  the 400 message echoes the bearer token, as real servers sometimes echo a bad key;
* ``"sleep:<seconds>"`` — wait before answering (to trigger a client timeout);
* ``"gate"`` — hold the reply until the test calls :meth:`FakeOpenAI.open_gate` (to
  observe a job while it is running), then answer with the default completion;
* ``"malformed"`` — a completion whose content is not JSON;
* ``"reject_json_schema"`` — 400 about ``response_format`` if the request asks for
  ``json_schema``, otherwise the default completion.

When the queue is empty the server answers with :attr:`FakeOpenAI.default`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

DEFAULT_CONTENT: dict[str, Any] = {
    "narrative": "62-year-old male with community-acquired pneumonia, improving.",
    "diagnoses": ["Community-acquired pneumonia"],
    "medications": ["amoxicillin 1 g PO TID"],
    "allergies": ["penicillin (rash)"],
    "observations": ["2026-11-20: T 38.1 °C (fever)"],
    "plan": ["Repeat chest X-ray in 6 weeks"],
}


@dataclass(frozen=True)
class Behaviour:
    kind: str  # "ok" | "status" | "sleep" | "gate" | "malformed" | "reject_json_schema"
    content: Any = None
    usage: tuple[int, int] = (120, 80)
    status: int = 200
    seconds: float = 0.0
    message: str | None = None


def ok(content: Any = None, usage: tuple[int, int] = (120, 80)) -> Behaviour:
    """A successful completion; ``content`` is JSON-encoded unless it is already a str."""
    return Behaviour("ok", content=content, usage=usage)


def status(code: int, message: str | None = None) -> Behaviour:
    return Behaviour("status", status=code, message=message)


def _coerce(item: Behaviour | str) -> Behaviour:
    if isinstance(item, Behaviour):
        return item
    if item == "ok":
        return ok()
    if item.startswith("status:"):
        return status(int(item.split(":", 1)[1]))
    if item.startswith("sleep:"):
        return Behaviour("sleep", seconds=float(item.split(":", 1)[1]))
    if item in ("gate", "malformed", "reject_json_schema"):
        return Behaviour(item)
    raise ValueError(f"unknown behaviour {item!r}")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw_body: str
    body: Any
    behaviour: str = ""
    received_at: float = field(default_factory=time.monotonic)


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.default: Behaviour = ok()
        self._queue: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._gate = threading.Event()
        self.gate_reached = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # ----------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def open_gate(self) -> None:
        self._gate.set()

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are sleeping
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- scripting

    def enqueue(self, *behaviours: Behaviour | str) -> None:
        with self._lock:
            self._queue.extend(_coerce(b) for b in behaviours)

    def _next(self) -> Behaviour:
        with self._lock:
            return self._queue.popleft() if self._queue else self.default

    # ----------------------------------------------------------------- HTTP

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output quiet

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                try:
                    body: Any = json.loads(raw)
                except json.JSONDecodeError:
                    body = None
                behaviour = fake._next()
                fake.requests.append(
                    RecordedRequest(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        raw,
                        body,
                        behaviour.kind,
                    )
                )
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._error(404, f"unknown path {self.path}")
                    return
                self._respond(behaviour, body if isinstance(body, dict) else {})

            def _respond(self, behaviour: Behaviour, body: dict[str, Any]) -> None:
                if behaviour.kind == "sleep":
                    if fake._stopping.wait(behaviour.seconds):
                        return
                    self._completion(fake.default, body)
                elif behaviour.kind == "gate":
                    fake.gate_reached.set()
                    fake._gate.wait(30)
                    if fake._stopping.is_set():
                        return
                    self._completion(fake.default, body)
                elif behaviour.kind == "status":
                    self._error(behaviour.status, behaviour.message or self._status_message())
                elif behaviour.kind == "malformed":
                    self._completion(ok('{"narrative": "cut off', usage=(10, 5)), body)
                elif behaviour.kind == "reject_json_schema":
                    fmt = body.get("response_format") or {}
                    if fmt.get("type") == "json_schema":
                        self._error(
                            400,
                            "Invalid parameter: 'response_format' of type 'json_schema' is "
                            "not supported with this model.",
                            param="response_format",
                        )
                    else:
                        self._completion(fake.default, body)
                else:
                    self._completion(behaviour, body)

            def _status_message(self) -> str:
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                return f"Invalid request: rejected for API key {token}."

            def _completion(self, behaviour: Behaviour, body: dict[str, Any]) -> None:
                content = DEFAULT_CONTENT if behaviour.content is None else behaviour.content
                if not isinstance(content, str):
                    content = json.dumps(content)
                prompt_tokens, completion_tokens = behaviour.usage
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-fake{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": str(body.get("model") or "unknown"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {
                                    "role": "assistant",
                                    "content": content,
                                    "refusal": None,
                                },
                                "logprobs": None,
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": completion_tokens,
                            "total_tokens": prompt_tokens + completion_tokens,
                        },
                    },
                )

            def _error(self, code: int, message: str, param: str | None = None) -> None:
                kind = {429: "rate_limit_exceeded", 400: "invalid_request_error"}.get(
                    code, "server_error"
                )
                payload = {
                    "error": {"message": message, "type": kind, "param": param, "code": None}
                }
                self._send(code, payload)

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        return Handler
