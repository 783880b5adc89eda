"""A local stand-in for PostHog's capture API (``/batch/``, ``/capture/``, ``/i/v0/e/``) on
127.0.0.1: accepts gzip or plain JSON, records events, and can be switched down.

    with running_posthog_server() as posthog:
        analytics = PostHogAnalytics(api_key="phc_test", host=posthog.base_url)
        ...
        posthog.wait_for_events(1)           # -> list of event dicts, api_key included
        posthog.go_down(refuse=True)         # connection refused (listener closed)
        posthog.go_down()                    # 503 for every request
        posthog.come_back()
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

CAPTURE_PATHS = frozenset({"/batch/", "/capture/", "/i/v0/e/", "/e/", "/track/"})


class PostHogContractServer:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.requests = 0
        self.unavailable = False
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"contract": self})
        server = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None

    def go_down(self, *, refuse: bool = False) -> None:
        """Answer 503 to everything, or (``refuse``) stop listening: connection refused."""
        self.unavailable = True
        if refuse:
            self.stop()

    def come_back(self) -> None:
        """Serve normally again, on the same port."""
        self.unavailable = False
        if self._server is None:
            self.start()

    def count_request(self) -> None:
        with self._changed:
            self.requests += 1

    def record(self, events: list[dict[str, Any]]) -> None:
        with self._changed:
            self.events.extend(events)
            self._changed.notify_all()

    def wait_for_events(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """At least ``count`` events, waiting up to ``timeout`` seconds (returns what came)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.events) < count and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            return list(self.events)


def _decode(raw: bytes, encoding: str | None) -> Any:
    if encoding == "gzip" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif encoding == "deflate":
        raw = zlib.decompress(raw)
    return json.loads(raw)


def _events_in(body: Any) -> list[dict[str, Any]]:
    """The events of a ``/batch/`` body, a single-event body, or a bare list."""
    if isinstance(body, list):
        return body
    api_key = body.get("api_key")
    events = body.get("batch", [body])
    return [{"api_key": api_key, **event} for event in events]


class _Handler(BaseHTTPRequestHandler):
    server_version = "PostHogContract/1"
    contract: PostHogContractServer

    def do_POST(self) -> None:
        self.contract.count_request()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        if self.contract.unavailable:
            self._reply(503, {"detail": "unavailable"})
        elif path not in CAPTURE_PATHS:
            self._reply(404, {"detail": f"no route {path}"})
        else:
            try:
                events = _events_in(_decode(raw, self.headers.get("Content-Encoding")))
            except (ValueError, OSError, KeyError, AttributeError):
                self._reply(400, {"detail": "invalid payload"})
                return
            self.contract.record(events)
            self._reply(200, {"status": 1})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@contextmanager
def running_posthog_server() -> Iterator[PostHogContractServer]:
    """Serve on 127.0.0.1 at a free port for the duration of the block."""
    contract = PostHogContractServer()
    contract.start()
    try:
        yield contract
    finally:
        contract.stop()


@pytest.fixture
def posthog_server() -> Iterator[PostHogContractServer]:
    """A fresh server per test (import this fixture into the test module)."""
    with running_posthog_server() as server:
        yield server
