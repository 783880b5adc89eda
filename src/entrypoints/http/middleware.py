"""Request context (request id in and out, security headers, one structured access-log line,
request metrics), the complete ``Allow`` header, and one database connection per request."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.shared_connection import one_connection_per_request
from entrypoints.http.metrics import RequestMetrics
from entrypoints.http.request_context import (
    BODY_TIMED_OUT,
    CLIENT_CLOSED_REQUEST,
    REQUEST_ID_HEADER,
    accept_or_make_request_id,
    current_request_id,
)
from entrypoints.logging import AccessLog

access_log = AccessLog()
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()


class RequestContextMiddleware:
    """Pure ASGI middleware, outermost, so even routing errors carry a request id, the
    security headers and a line in the access log and the metrics. A request whose client
    went away (or whose body timed out) before the answer is logged as 499 (or 408), not as
    whatever the app tried to send to nobody.

    Security headers on every response: ``X-Content-Type-Options: nosniff``, and
    ``Cache-Control: no-store`` on every response that does not choose its own caching —
    nearly everything Chorus answers is one member's private data (balance, history,
    profile, notifications), which no browser, proxy or CDN may keep."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == _REQUEST_ID_KEY), None)
        request_id = accept_or_make_request_id(incoming.decode("latin-1") if incoming else None)
        token = current_request_id.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        method = str(scope.get("method", ""))
        measured = self.metrics is not None and scope["path"] not in RequestMetrics.EXCLUDED
        in_flight = self.metrics.started(method) if measured and self.metrics else None
        status = 500
        answered = gone = False

        async def receive_noting_disconnect() -> Message:
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect" and not answered:
                gone = True
            return message  # type: ignore[return-value]

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                answered = True
                status = message["status"]
                headers = MutableScopeHeaders.from_message(message)
                headers[REQUEST_ID_HEADER] = request_id
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive_noting_disconnect, send_with_id)  # type: ignore[arg-type]
        finally:
            if gone:
                status = 408 if scope.get(BODY_TIMED_OUT) else CLIENT_CLOSED_REQUEST
            elapsed = time.perf_counter() - started
            if in_flight is not None and self.metrics is not None:
                in_flight.dec()
                template = scope.get("path_template") or "unmatched"
                self.metrics.finished(method, template, status, elapsed)
            access_log.request(
                request_id=request_id,
                method=method,
                path=scope["path"],
                status=status,
                duration_ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            current_request_id.reset(token)


class CompleteAllowHeader:
    """Pure ASGI middleware: ``OPTIONS`` lists every method of the path. Litestar registers a
    controller's handlers one by one and its automatic ``OPTIONS`` answer keeps the methods
    of the first (``/me`` said ``GET, OPTIONS``, leaving out ``PATCH``)."""

    def __init__(self, app: ASGIApp, allowed: Mapping[str, str]) -> None:
        self.app = app
        self.allowed = allowed  # route path template -> "GET, OPTIONS, PATCH"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start":
                allow = self.allowed.get(scope.get("path_template", ""))
                headers = MutableScopeHeaders.from_message(message)
                if allow and "allow" in headers:
                    headers["Allow"] = allow
            await send(message)

        await self.app(scope, receive, send_with_allow)


class OneConnectionPerRequest:
    """Pure ASGI middleware: the units of work of one request share one pooled connection
    (``adapters.postgres.shared_connection``), checked out when the first one opens and
    returned as soon as the response starts, so a long streamed response holds none."""

    def __init__(self, app: ASGIApp, engine: Callable[[], AsyncEngine]) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        async with one_connection_per_request(self.engine()) as shared:

            async def send_releasing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await shared.release()
                await send(message)

            await self.app(scope, receive, send_releasing)
