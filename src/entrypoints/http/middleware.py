"""Request context (request id in and out, one structured access-log line) and one database
connection per request."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.shared_connection import one_connection_per_request
from entrypoints.http.request_context import (
    REQUEST_ID_HEADER,
    accept_or_make_request_id,
    current_request_id,
)

access_log = structlog.get_logger("chorus.access")


class RequestContextMiddleware:
    """Pure ASGI middleware, outermost, so even routing errors carry a request id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode())
        request_id = accept_or_make_request_id(incoming.decode("latin-1") if incoming else None)
        token = current_request_id.set(request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                method=scope.get("method"),
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            current_request_id.reset(token)


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
