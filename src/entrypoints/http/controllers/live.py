"""Live streams (SPEC §8): going live, join tokens, ending, listings, chat and LiveKit's
signed webhooks. Every endpoint answers 503 ``live_unavailable`` when LiveKit is not
configured."""

from __future__ import annotations

import inspect
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath, JSONBody, Parameter

from core.use_cases.live import (
    MAX_PAGE_SIZE,
    EndStream,
    HandleLiveWebhook,
    IssueStreamToken,
    ListChatMessages,
    ListLiveStreams,
    PostChatMessage,
    StartStream,
)
from entrypoints.container import Container
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.openapi_links import linked, stream_links
from entrypoints.http.schemas.live import (
    ChatMessageIn,
    ChatMessageOut,
    ChatPageOut,
    StartStreamIn,
    StreamJoinOut,
    StreamOut,
    StreamPageOut,
    StreamRefIn,
    StreamTokenIn,
    WebhookOut,
    decode_cursor,
    encode_cursor,
)
from entrypoints.http.schemas.wire import CursorQuery
from entrypoints.live import live_unavailable

PageSize = Annotated[
    int, Parameter(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (1–{MAX_PAGE_SIZE})")
]


def rules_of(use_case: type) -> str:
    """A use case's docstring (its business rules) as the OpenAPI description."""
    return inspect.cleandoc(use_case.__doc__ or "")


async def require_live_configured(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard: 503 ``live_unavailable`` before anything else when LiveKit is not configured."""
    container: Container = connection.app.state.container
    if container.live_video() is None or container.live_webhooks() is None:
        raise live_unavailable()


class LiveController(Controller):
    path = "/live"
    tags = ["live"]
    security = BEARER_SECURITY
    guards = [require_live_configured]

    @post(
        "/start",
        summary="Go live: a stream, its room and my publish token",
        description=rules_of(StartStream),
        status_code=201,
        responses=problems(409, 422),
        operation_class=linked((201,), **stream_links("$response.body#/stream/id")),
    )
    async def start(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[StartStreamIn]
    ) -> StreamJoinOut:
        join = await container_of(request).start_stream()(principal, data.to_command())
        return StreamJoinOut.of(join)

    @post(
        "/token",
        summary="A token to join a stream (publish for its host, watch and chat for others)",
        description=rules_of(IssueStreamToken),
        status_code=200,
        responses=problems(404, 409),
    )
    async def token(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[StreamTokenIn]
    ) -> StreamJoinOut:
        join = await container_of(request).issue_stream_token()(
            principal, data.stream_id, data.live_role()
        )
        return StreamJoinOut.of(join)

    @post(
        "/end",
        summary="End a live stream (host, moderator or admin)",
        description=rules_of(EndStream),
        status_code=200,
        responses=problems(404, 409),
    )
    async def end(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[StreamRefIn]
    ) -> StreamOut:
        return StreamOut.of(await container_of(request).end_stream()(principal, data.stream_id))

    @get(
        "/",
        summary="Streams live now, newest first",
        description=rules_of(ListLiveStreams),
        responses=problems(422),
    )
    async def list_live(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        limit: PageSize = 20,
        cursor: CursorQuery = None,
    ) -> StreamPageOut:
        page = await container_of(request).list_live_streams()(
            limit=limit, after=decode_cursor(cursor)
        )
        return StreamPageOut(
            items=[StreamOut.of(s) for s in page.items], next_cursor=encode_cursor(page.next)
        )

    @get("/{stream_id:uuid}", summary="One stream, live or ended", responses=problems(404))
    async def get_stream(
        self, request: Request[Any, Any, Any], principal: Caller, stream_id: FromPath[UUID]
    ) -> StreamOut:
        return StreamOut.of(await container_of(request).get_stream()(stream_id))

    @get(
        "/{stream_id:uuid}/messages",
        summary="A stream's chat, newest first",
        description=rules_of(ListChatMessages),
        responses=problems(404, 422),
    )
    async def list_messages(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        stream_id: FromPath[UUID],
        limit: PageSize = 50,
        cursor: CursorQuery = None,
    ) -> ChatPageOut:
        page = await container_of(request).list_chat_messages()(
            stream_id, limit=limit, before=decode_cursor(cursor)
        )
        return ChatPageOut(
            items=[ChatMessageOut.of(m) for m in page.items], next_cursor=encode_cursor(page.next)
        )

    @post(
        "/{stream_id:uuid}/messages",
        summary="Post a chat message",
        description=rules_of(PostChatMessage),
        status_code=201,
        responses=problems(404, 409, 422, 429),
    )
    async def post_message(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        stream_id: FromPath[UUID],
        data: JSONBody[ChatMessageIn],
    ) -> ChatMessageOut:
        message = await container_of(request).post_chat_message()(principal, stream_id, data.body)
        return ChatMessageOut.of(message)


class LiveWebhookController(Controller):
    """LiveKit calls this; it authenticates with its signature, not a bearer token."""

    path = "/live/webhook"
    tags = ["live"]
    guards = [require_live_configured]

    @post(
        "/",
        summary="LiveKit's signed webhooks",
        description=rules_of(HandleLiveWebhook),
        status_code=200,
        security=[],
        responses=problems(401, 422),
    )
    async def receive(self, request: Request[Any, Any, Any]) -> WebhookOut:
        # The signature covers the exact bytes sent; undecodable bytes are replaced, so such
        # a body can only fail the hash check (401).
        body = (await request.body()).decode("utf-8", errors="replace")
        outcome = await container_of(request).handle_live_webhook()(
            body, request.headers.get("authorization", "")
        )
        return WebhookOut(outcome=outcome.value)
