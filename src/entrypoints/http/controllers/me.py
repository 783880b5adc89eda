"""The caller's own profile."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch
from litestar.params import JSONBody

from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.schemas.me import ProfileOut, ProfilePatch


class MeController(Controller):
    path = "/me"
    tags = ["profile"]
    security = BEARER_SECURITY

    @get(summary="My profile", responses=problems())
    async def get_me(self, principal: Caller) -> ProfileOut:
        return ProfileOut.of(principal.require_member())

    @patch(summary="Change my display name, languages or payout currency", responses=problems(422))
    async def update_me(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[ProfilePatch]
    ) -> ProfileOut:
        updated = await container_of(request).update_own_profile()(principal, data.to_changes())
        return ProfileOut.of(updated)
