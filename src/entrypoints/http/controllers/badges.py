"""Badges: the catalogue, a member's badges with progress, manual awards, the admin
catalogue, and the weekly leaderboards (SPEC §7)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from core.domain.badges import BadgeChanges
from core.domain.leaderboards import Board
from core.domain.streaks import week_label
from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.schemas.badges import (
    AwardIn,
    AwardOut,
    BadgeIn,
    BadgeList,
    BadgeOut,
    BadgePatch,
    LeaderboardOut,
    MemberBadgesOut,
)


class BadgesController(Controller):
    path = "/badges"
    tags = ["badges"]
    security = BEARER_SECURITY

    @get(summary="The badge catalogue", responses=problems())
    async def catalogue(self, request: Request[Any, Any, Any], principal: Caller) -> BadgeList:
        return BadgeList.of(await container_of(request).list_badges()(principal))

    @get(
        "/user/{profile_id:uuid}",
        summary="A member's badges and progress toward the others",
        description=(
            "Earned badges with when they were first and last earned (weekly-goal badges "
            "count the weeks), and progress (current value, threshold, fraction in [0, 1]) "
            "toward every active badge not earned yet. Badges about private metrics "
            "(earnings, payouts, accuracy, agreement, goals) are shown only to the member, "
            "admins and services. 404 for unknown members."
        ),
        responses=problems(404),
    )
    async def of_member(
        self, request: Request[Any, Any, Any], principal: Caller, profile_id: FromPath[UUID]
    ) -> MemberBadgesOut:
        view = await container_of(request).member_badges()(principal, profile_id)
        return MemberBadgesOut.of(view)

    @post(
        "/award",
        summary="Award a badge by hand (admins and services)",
        description=(
            "`badgeId` or `badgeCode`, the member and a reason (1–500 characters), recorded "
            "with the award and who gave it. 201 with the new award; 200 with the existing "
            "one when the member already holds the badge (nothing new is recorded). The "
            "member is notified (feed and push) like for an automatic award."
        ),
        status_code=201,
        responses=problems(404, 409, 422),
    )
    async def award(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[AwardIn]
    ) -> Response[AwardOut]:
        result = await container_of(request).award_badge()(
            principal,
            profile_id=data.profile_id,
            reason=data.reason,
            badge_id=data.badge_id,
            badge_code=data.badge_code,
        )
        return Response(AwardOut.of(result), status_code=201 if result.created else 200)


class AdminBadgesController(Controller):
    path = "/admin/badges"
    tags = ["admin"]
    security = BEARER_SECURITY

    @get(summary="Every badge, retired ones included (admin)", responses=problems())
    async def list_badges(self, request: Request[Any, Any, Any], principal: Caller) -> BadgeList:
        return BadgeList.of(await container_of(request).list_all_badges()(principal))

    @post(
        summary="Add a badge (admin)",
        description=(
            "A unique `code` (2–64 of a-z, 0-9, `_`, `-`; never changes), a name and a "
            "criterion. Criteria are checked: 422 `unknown_metric`, `invalid_threshold`, "
            "`threshold_required`, `language_not_allowed`, `currency_required`, "
            "`currency_not_allowed`, `min_sample_required`, `sample_not_allowed`, "
            "`invalid_language`, `unsupported_currency`; 409 `badge_code_taken`."
        ),
        status_code=201,
        responses=problems(409, 422),
    )
    async def create(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[BadgeIn]
    ) -> BadgeOut:
        badge = await container_of(request).create_badge()(principal, data.to_draft())
        return BadgeOut.of(badge)

    @get("/{badge_id:uuid}", summary="One badge (admin)", responses=problems(404))
    async def get_badge(
        self, request: Request[Any, Any, Any], principal: Caller, badge_id: FromPath[UUID]
    ) -> BadgeOut:
        return BadgeOut.of(await container_of(request).get_badge()(principal, badge_id))

    @patch(
        "/{badge_id:uuid}",
        summary="Change a badge (admin)",
        description=(
            "Name, description, position, criterion (checked as on creation), or "
            "`retired`. Badges already earned stay earned."
        ),
        responses=problems(404, 422),
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        badge_id: FromPath[UUID],
        data: JSONBody[BadgePatch],
    ) -> BadgeOut:
        badge = await container_of(request).update_badge()(principal, badge_id, data.to_changes())
        return BadgeOut.of(badge)

    @delete(
        "/{badge_id:uuid}",
        summary="Retire a badge (admin)",
        description=(
            "The badge is no longer awarded nor listed in the catalogue; members who earned "
            "it keep it. `PATCH` with `retired: false` brings it back."
        ),
        status_code=200,
        responses=problems(404),
    )
    async def retire(
        self, request: Request[Any, Any, Any], principal: Caller, badge_id: FromPath[UUID]
    ) -> BadgeOut:
        badge = await container_of(request).update_badge()(
            principal, badge_id, BadgeChanges(retired=True)
        )
        return BadgeOut.of(badge)


class LeaderboardsController(Controller):
    path = "/leaderboards"
    tags = ["badges"]
    security = BEARER_SECURITY

    @get(
        "/{language:str}",
        summary="A language's weekly leaderboard",
        description=(
            "Members with the most accepted clips (`board=clips`) or heard validations "
            "(`board=validations`) in a week (ISO week, UTC; this week unless `week=2026-W49`)."
            ' Members who did not opt in (`PATCH /me {"showOnLeaderboards": true}`) have '
            "no name; nobody is listed with an id; `you` marks the caller's entry."
        ),
        responses=problems(422),
    )
    async def board(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        language: FromPath[str],
        board: FromQuery[Literal["clips", "validations"]] = "clips",
        week: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> LeaderboardOut:
        result = await container_of(request).leaderboard()(
            principal, language, board=Board(board), week=week, limit=limit
        )
        return LeaderboardOut.of(result, week_label(result.week_start), principal.profile_id)
