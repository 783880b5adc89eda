"""The caller's own profile."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, put
from litestar.params import JSONBody

from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.openapi_links import link, linked
from entrypoints.http.schemas.badges import GoalIn, GoalOut, MyStatsOut
from entrypoints.http.schemas.clips import MyStandingOut
from entrypoints.http.schemas.me import ProfileOut, ProfilePatch


class MeController(Controller):
    path = "/me"
    tags = ["profile"]
    security = BEARER_SECURITY

    @get(
        summary="My profile",
        responses=problems(),
        operation_class=linked(
            (200,),
            LiveStanding=link(
                "GET",
                "/admin/validators/{validator_id}/standing",
                "This member's live standing as a validator (admins)",
                {"validator_id": "$response.body#/id"},
            ),
        ),
    )
    async def get_me(self, principal: Caller) -> ProfileOut:
        return ProfileOut.of(principal.require_member())

    @patch(
        summary="Change my name, languages, payout currency, time zone or leaderboard opt-in",
        description=(
            "`timeZone` is an IANA name (`Africa/Lagos`); streaks and weekly goals count days "
            "in it (UTC until set). `showOnLeaderboards: true` shows your display name on "
            "leaderboards (anonymous otherwise)."
        ),
        responses=problems(422),
    )
    async def update_me(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[ProfilePatch]
    ) -> ProfileOut:
        updated = await container_of(request).update_own_profile()(principal, data.to_changes())
        return ProfileOut.of(updated)

    @get(
        "/standing",
        summary="My validation standing, as of the last periodic refit",
        description=(
            "Balanced accuracy (rounded to 0.01) and probation as the last refit of the "
            "consensus model computed them; they change at most once per refit, never right "
            "after one answer."
        ),
        responses=problems(),
    )
    async def my_standing(
        self, request: Request[Any, Any, Any], principal: Caller
    ) -> MyStandingOut:
        return MyStandingOut.of(await container_of(request).my_standing()(principal))

    @get(
        "/stats",
        summary="My statistics: contributions, accuracy, streaks, earnings, weekly goal",
        description=(
            "Maintained counters (never a scan of your history). Accuracy and its sample are "
            "as the last refit of the consensus model published them; streaks and the week "
            "are in your time zone; lifetime earnings are earned minus reversed, per currency."
        ),
        responses=problems(),
    )
    async def my_stats(self, request: Request[Any, Any, Any], principal: Caller) -> MyStatsOut:
        return MyStatsOut.of(await container_of(request).my_stats()(principal))

    @put(
        "/goals",
        summary="Set my weekly goal (clips, validations or both; both null clears it)",
        description=(
            "Counts from Monday in your time zone, including what you already did this week; "
            "meeting it earns the weekly-goal badge for that week. 422 `invalid_goal` outside "
            "1–10,000."
        ),
        responses=problems(422),
    )
    async def set_goal(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[GoalIn]
    ) -> GoalOut:
        progress = await container_of(request).set_weekly_goal()(principal, data.to_goal())
        return GoalOut.of(progress)
