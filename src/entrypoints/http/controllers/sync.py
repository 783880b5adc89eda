"""Offline sync over HTTP (SPEC §11, docs/sync.md)."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from core.domain.sync_cursor import DEFAULT_PULL_PAGE, MAX_PULL_PAGE
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.schemas.sync import (
    BatchIn,
    BatchOut,
    OpResultOut,
    PullOut,
    PushIn,
    PushOut,
)

log = structlog.get_logger("chorus.sync")


class SyncController(Controller):
    path = "/sync"
    tags = ["sync"]
    security = BEARER_SECURITY

    @post(
        "/push",
        summary="Apply operations recorded offline, each exactly once",
        description=(
            "At most 500 operations (`validation.submit`, `clip.skip`, `flag.create`, "
            "`notification.read`, `profile.update`), applied in order, each on its own. "
            "One result per operation, in order: "
            "`applied`, `rejected` (with the online endpoint's problem), `duplicate` (the "
            "remembered outcome of an `opId` seen before) or `failed` (push it again later). "
            "Retry rules: docs/sync.md."
        ),
        status_code=200,
        responses=problems(),
    )
    async def push(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[PushIn]
    ) -> PushOut:
        report = await container_of(request).push_ops()(
            principal, data.device_id, [op.to_op() for op in data.ops]
        )
        for clamped in report.clamped:
            log.warning(
                "sync_occurred_at_clamped",
                member_id=str(principal.profile_id),
                device_id=data.device_id,
                op_id=str(clamped.op_id),
                sent=clamped.sent.isoformat(),
                recorded=clamped.recorded.isoformat(),
            )
        return PushOut(results=[OpResultOut.of(result) for result in report.results])

    @post(
        "/batches",
        summary="Reserve clips to validate offline",
        description=(
            "Up to `size` (≤ 100) clips in `language`, with their audio URLs, each reserved "
            "for the caller until `expiresAt` (24 h by default): a vote within its reservation "
            "is paid when it agrees with the decision, even if others decided the clip before "
            "the phone synced. 409 `too_many_reserved` past the per-member limit."
        ),
        status_code=201,
        responses=problems(409, 422),
    )
    async def reserve_batch(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[BatchIn]
    ) -> BatchOut:
        batch = await container_of(request).reserve_offline_batch()(
            principal, data.language, data.size
        )
        return BatchOut.of(batch)

    @get(
        "/pull",
        summary="What changed for me since the cursor",
        description=(
            "Without a cursor: the current state. Changes to my clips' statuses, my "
            "notifications, my balance and the reward rates in force; `hasMore` asks for "
            "another pull at once. No change is ever skipped, whatever order transactions "
            "commit in (docs/sync.md)."
        ),
        responses=problems(422),
    )
    async def pull(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PULL_PAGE)] = DEFAULT_PULL_PAGE,
    ) -> PullOut:
        page = await container_of(request).pull_changes()(principal, cursor, limit)
        return PullOut.of(page)
