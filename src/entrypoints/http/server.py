"""The HTTP server: uvicorn with httptools, plus the limits uvicorn lacks.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no deadline for
a request's head, no limit on its headers with httptools, no timeout while a body trickles
in and no cap on open connections. ``GuardedHttpToolsProtocol`` adds them per connection:

- the request line and headers must arrive within ``header_timeout_seconds`` of the
  connection opening (or of the previous response, on keep-alive) → 408 and close;
- at most ``max_header_bytes`` of request line and headers, ``max_headers`` headers → 431
  and close;
- a body that sends nothing for ``body_timeout_seconds`` → 408 and close, and the app sees
  the client as gone (the access log says 408, not 500);
- beyond ``max_connections`` open connections per process a new one gets 503 and is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from entrypoints.http.request_context import BODY_TIMED_OUT
from entrypoints.settings import HttpLimits


class HeadTooLarge(Exception):
    """The request line and headers pass ``max_header_bytes`` or ``max_headers``."""


def _problem(status: int, reason: bytes, code: str, detail: str) -> bytes:
    body = msgspec.json.encode(
        {
            "type": f"urn:problem:chorus:{code}",
            "title": reason.decode(),
            "status": status,
            "code": code,
            "detail": detail,
        }
    )
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: application/problem+json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-content-type-options: nosniff\r\n",
            b"cache-control: no-store\r\n",
            b"retry-after: 1\r\n" if status == 503 else b"",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


HEAD_TIMEOUT = _problem(
    408, b"Request Timeout", "request_timeout", "The request's headers took too long to arrive."
)
BODY_TIMEOUT = _problem(
    408, b"Request Timeout", "request_timeout", "The request's body stopped arriving."
)
HEAD_TOO_LARGE = _problem(
    431,
    b"Request Header Fields Too Large",
    "headers_too_large",
    "The request's headers are too large or too many.",
)
TOO_MANY_CONNECTIONS = _problem(
    503, b"Service Unavailable", "too_many_connections", "Too many open connections; retry."
)


class ChorusServerConfig(uvicorn.Config):
    """uvicorn's configuration plus Chorus's HTTP limits (picklable, for worker processes)."""

    def __init__(self, app: Any, *, limits: HttpLimits, **options: Any) -> None:
        super().__init__(
            app,
            http=GuardedHttpToolsProtocol,
            timeout_keep_alive=limits.keep_alive_seconds,
            server_header=False,
            log_config=None,
            **options,
        )
        self.limits = limits


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head and body deadlines, header limits and a cap
    on open connections (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: HttpLimits = getattr(config, "limits", HttpLimits())
        self.head_deadline: asyncio.TimerHandle | None = None
        self.body_deadline: asyncio.TimerHandle | None = None
        self.head_bytes = 0
        self.head_count = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(TOO_MANY_CONNECTIONS)
            return
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadlines()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        # httptools turns an exception raised in a callback into a parser error, which
        # uvicorn answers with 400; ours (HeadTooLarge) means 431.
        if self.head_bytes > self.limits.max_header_bytes or (
            self.head_count > self.limits.max_headers
        ):
            self._refuse(HEAD_TOO_LARGE)
            return
        super().send_400_response(msg)

    # Parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_bytes = self.head_count = 0
        if self.head_deadline is None:
            self._arm_head_deadline()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url), headers=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4, headers=1)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel(self.head_deadline)
        self.head_deadline = None
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body and self._expects_body():
            self._arm_body_deadline()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if self.body_deadline is not None:
            self._arm_body_deadline()

    def on_message_complete(self) -> None:
        self._cancel(self.body_deadline)
        self.body_deadline = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        starts_pipelined_request = bool(self.pipeline)
        super().on_response_complete()
        if not self.transport.is_closing() and not starts_pipelined_request:
            self._arm_head_deadline()

    # Deadlines and refusals
    def _expects_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"0", b"")
            if name == b"transfer-encoding":
                return True
        return False

    def _count_head(self, size: int, *, headers: int) -> None:
        self.head_bytes += size
        self.head_count += headers
        if self.head_bytes > self.limits.max_header_bytes or (
            self.head_count > self.limits.max_headers
        ):
            raise HeadTooLarge

    def _arm_head_deadline(self) -> None:
        self._cancel(self.head_deadline)
        self.head_deadline = self.loop.call_later(
            self.limits.header_timeout_seconds, self._head_timed_out
        )

    def _arm_body_deadline(self) -> None:
        self._cancel(self.body_deadline)
        self.body_deadline = self.loop.call_later(
            self.limits.body_timeout_seconds, self._body_timed_out
        )

    def _head_timed_out(self) -> None:
        self.head_deadline = None
        self._refuse(HEAD_TIMEOUT)

    def _body_timed_out(self) -> None:
        self.body_deadline = None
        if self.flow.read_paused:
            # Reading is paused because the app has not taken what arrived: not the
            # client's fault.
            self._arm_body_deadline()
            return
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            self.transport.close()
            return
        self.scope[BODY_TIMED_OUT] = True  # type: ignore[literal-required]
        self._refuse(BODY_TIMEOUT)
        # The app's next receive() sees the client gone; whatever it sends is dropped.
        cycle.disconnected = True
        cycle.message_event.set()

    def _refuse(self, answer: bytes) -> None:
        self._cancel_deadlines()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def _cancel_deadlines(self) -> None:
        self._cancel(self.head_deadline)
        self._cancel(self.body_deadline)
        self.head_deadline = self.body_deadline = None

    @staticmethod
    def _cancel(timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()


def serve(config: ChorusServerConfig) -> None:
    """Run the server, in ``config.workers`` processes when more than one (as
    ``uvicorn.run`` does)."""
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config=config).run()
