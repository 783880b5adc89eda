"""Moderation over HTTP (SPEC §13): members flag; moderators read the queue and decide;
admins read the audit log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from core.use_cases.moderation import (
    AuditQuery,
    CreateFlag,
    DecideModeration,
    ReadModerationAudit,
    ReadModerationQueue,
)
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.controllers.live import rules_of
from entrypoints.http.cursors import decode_cursor, encode_cursor
from entrypoints.http.openapi import problems
from entrypoints.http.schemas.moderation import (
    AuditPageOut,
    DecisionIn,
    DecisionOut,
    FlagIn,
    FlagOut,
    QueueItemOut,
    QueuePageOut,
    TargetTypeName,
)

PageLimit = Annotated[int, QueryParameter(ge=1, le=100)]


class ModerationController(Controller):
    path = "/moderation"
    tags = ["moderation"]
    security = BEARER_SECURITY

    @post(
        "/flags",
        summary="Flag a clip, a chat message, a stream or a profile",
        description=rules_of(CreateFlag),
        status_code=201,
        responses=problems(403, 404, 409, 422),
    )
    async def flag(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[FlagIn]
    ) -> FlagOut:
        receipt = await container_of(request).create_flag()(principal, data.to_command())
        return FlagOut.of(receipt)

    @get(
        "/queue",
        summary="Hidden and flagged items, oldest first (moderators)",
        description=rules_of(ReadModerationQueue),
        responses=problems(403, 422),
    )
    async def queue(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
    ) -> QueuePageOut:
        page = await container_of(request).moderation_queue()(
            principal, after=decode_cursor(cursor), limit=limit
        )
        return QueuePageOut(
            items=[QueueItemOut.of(item) for item in page.items],
            next_cursor=encode_cursor(*page.next) if page.next else None,
        )

    @post(
        "/decisions",
        summary="Decide about a target (moderators and admins)",
        description=rules_of(DecideModeration),
        status_code=201,
        responses=problems(403, 404, 409, 422),
    )
    async def decide(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[DecisionIn]
    ) -> DecisionOut:
        decision = await container_of(request).decide_moderation()(principal, data.to_command())
        return DecisionOut.of(decision)

    @get(
        "/audit",
        summary="The audit log of decisions, newest first (admins)",
        description=rules_of(ReadModerationAudit),
        responses=problems(403, 422),
    )
    async def audit(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: FromQuery[str | None] = None,
        limit: PageLimit = 50,
        target_type: Annotated[TargetTypeName | None, QueryParameter(name="targetType")] = None,
        target_id: Annotated[UUID | None, QueryParameter(name="targetId")] = None,
        member_id: Annotated[UUID | None, QueryParameter(name="memberId")] = None,
    ) -> AuditPageOut:
        query = AuditQuery(decode_cursor(cursor), limit, target_type, target_id, member_id)
        decisions = await container_of(request).moderation_audit()(principal, query)
        last = decisions[-1] if len(decisions) == limit else None
        return AuditPageOut(
            items=[DecisionOut.of(d) for d in decisions],
            next_cursor=encode_cursor(last.created_at, last.id) if last else None,
        )
