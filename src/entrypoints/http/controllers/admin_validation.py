"""Admin tools of validation: gold clips and validators' standing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, put
from litestar.params import FromPath, JSONBody

from core.domain.clips import Verdict
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.schemas.clips import ClipOut, GoldIn, StandingOut


class AdminValidationController(Controller):
    path = "/admin"
    tags = ["admin"]
    security = BEARER_SECURITY

    @put(
        "/clips/{clip_id:uuid}/gold",
        summary="Use a clip as gold with its true verdict (admin)",
        description=(
            "A decided clip keeps its status; `verdict` must match it (409 `verdict_mismatch`: "
            "moderate it first). A clip not decided yet (pending or disputed) is 409 "
            '`clip_not_decided` unless the body says `"decide": true`: the admin\'s verdict '
            "then decides the clip and its rewards are posted as for a consensus decision "
            "(the contributor is paid for a valid clip)."
        ),
        responses=problems(404, 409, 422),
    )
    async def mark_gold(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        clip_id: FromPath[UUID],
        data: JSONBody[GoldIn],
    ) -> ClipOut:
        clip = await container_of(request).mark_gold()(
            principal, clip_id, Verdict(data.verdict), decide=data.decide
        )
        return ClipOut.of(clip, details=True)

    @delete(
        "/clips/{clip_id:uuid}/gold",
        summary="Stop using a clip as gold (admin)",
        status_code=200,
        responses=problems(404),
    )
    async def unmark_gold(
        self, request: Request[Any, Any, Any], principal: Caller, clip_id: FromPath[UUID]
    ) -> ClipOut:
        clip = await container_of(request).unmark_gold()(principal, clip_id)
        return ClipOut.of(clip, details=True)

    @get(
        "/validators/{validator_id:uuid}/standing",
        summary="A validator's live standing: rates, counts, probation (admins only)",
        responses=problems(403, 404),
    )
    async def standing(
        self, request: Request[Any, Any, Any], principal: Caller, validator_id: FromPath[UUID]
    ) -> StandingOut:
        report = await container_of(request).validator_standing()(principal, validator_id)
        return StandingOut.of(report)
