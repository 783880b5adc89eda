"""Validation over HTTP (the seed's /monetization paths, SPEC §5)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.openapi.spec import Example
from litestar.params import JSONBody, QueryParameter

from core.domain.clips import Verdict
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.openapi_links import clip_links, linked
from entrypoints.http.schemas.clips import ClipOut, QueuePage, SkipIn, VoteIn, VoteOut
from entrypoints.http.schemas.wire import LANGUAGE_TAG


class ValidationController(Controller):
    path = "/monetization"
    tags = ["validation"]
    security = BEARER_SECURITY

    @post(
        "/validate",
        summary="Vote valid or invalid on a clip",
        description=(
            "One vote per validator per clip (409 `already_voted`); never on one's own clip "
            "(403 `own_clip`); hidden or unknown clips are 404. A vote on a clip decided "
            "meanwhile is recorded as `late`: it changes nothing and earns nothing."
        ),
        status_code=200,
        responses=problems(404, 409),
    )
    async def validate(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[VoteIn]
    ) -> VoteOut:
        receipt = await container_of(request).submit_vote()(
            principal, data.clip_id, Verdict(data.verdict)
        )
        return VoteOut.of(receipt)

    @post(
        "/skip",
        summary="Pass on a clip (recorded, not a vote)",
        status_code=204,
        responses=problems(404),
    )
    async def skip(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[SkipIn]
    ) -> None:
        await container_of(request).skip_clip()(principal, data.clip_id)

    @get(
        "/queue",
        summary="Clips to validate next",
        responses=problems(422),
        operation_class=linked((200,), **clip_links("$response.body#/items/0/id")),
    )
    async def queue(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        language: Annotated[
            str,
            QueryParameter(
                min_length=2,
                max_length=35,
                pattern=LANGUAGE_TAG,
                description="BCP 47 language tag",
                examples=[Example(value="yo")],
            ),
        ],
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    ) -> QueuePage:
        clips = await container_of(request).next_queue_page()(principal, language, limit)
        return QueuePage(items=[ClipOut.of(clip, details=False) for clip in clips])
