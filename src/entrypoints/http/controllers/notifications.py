"""Push devices, the in-app notification feed and notification preferences (SPEC §9)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from entrypoints.http.auth import BEARER_SECURITY, Caller, container_of
from entrypoints.http.openapi import problems
from entrypoints.http.openapi_links import link, linked
from entrypoints.http.schemas.notifications import (
    MarkedRead,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
    PushTokenIn,
    PushTokenList,
    PushTokenOut,
)
from entrypoints.http.schemas.wire import CursorQuery


class NotificationsController(Controller):
    path = "/notifications"
    tags = ["notifications"]
    security = BEARER_SECURITY

    @post(
        "/tokens",
        summary="Register this device for push notifications",
        description=(
            "An Expo push token of the caller's device, with `deviceId`, the app's own id for "
            "this installation. A token another member registered stays theirs (409 "
            "`push_token_in_use`) unless both registrations carry the same `deviceId` (the "
            "same installation signed in to another account): then it moves to the caller. "
            "Registering again reactivates a token. At most 10 devices stay active per member."
        ),
        status_code=201,
        responses=problems(409, 422),
        operation_class=linked(
            (201,),
            Unregister=link(
                "DELETE",
                "/notifications/tokens/{token}",
                "Unregister the device",
                {"token": "$response.body#/token"},
            ),
        ),
    )
    async def register_token(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[PushTokenIn]
    ) -> PushTokenOut:
        token = await container_of(request).register_push_token()(principal, data.to_registration())
        return PushTokenOut.of(token)

    @get(
        "/tokens",
        summary="My active devices, most recently registered first",
        description=(
            "Devices that receive pushes; deactivated ones (unregistered by Expo, superseded "
            "by newer devices, moved to another account) are not listed."
        ),
        responses=problems(422),
    )
    async def list_tokens(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
    ) -> PushTokenList:
        page = await container_of(request).list_push_tokens()(principal, cursor=cursor, limit=limit)
        return PushTokenList(
            items=[PushTokenOut.of(token) for token in page.items], next_cursor=page.next_cursor
        )

    @delete(
        "/tokens/{token:str}",
        summary="Unregister one of my devices",
        description="404 for tokens that are not the caller's.",
        status_code=204,
        responses=problems(404),
    )
    async def delete_token(
        self, request: Request[Any, Any, Any], principal: Caller, token: FromPath[str]
    ) -> None:
        await container_of(request).unregister_push_token()(principal, token)

    @get(
        summary="My notifications, newest first",
        responses=problems(422),
        operation_class=linked(
            (200,),
            MarkRead=link(
                "POST",
                "/notifications/{notification_id}/read",
                "Mark the newest one read",
                {"notification_id": "$response.body#/items/0/id"},
            ),
        ),
    )
    async def feed(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        unread: FromQuery[bool] = False,
    ) -> NotificationPage:
        page = await container_of(request).list_notifications()(
            principal, cursor=cursor, limit=limit, unread_only=unread
        )
        return NotificationPage.of(page)

    @post(
        "/{notification_id:uuid}/read",
        summary="Mark one of my notifications read",
        status_code=200,
        responses=problems(404),
    )
    async def mark_read(
        self, request: Request[Any, Any, Any], principal: Caller, notification_id: FromPath[UUID]
    ) -> NotificationOut:
        notification = await container_of(request).mark_notification_read()(
            principal, notification_id
        )
        return NotificationOut.of(notification)

    @post(
        "/read-all",
        summary="Mark all my notifications read",
        status_code=200,
        responses=problems(),
    )
    async def mark_all_read(self, request: Request[Any, Any, Any], principal: Caller) -> MarkedRead:
        updated = await container_of(request).mark_all_notifications_read()(principal)
        return MarkedRead(updated=updated)

    @get("/preferences", summary="Which categories I get pushes for", responses=problems())
    async def preferences(
        self, request: Request[Any, Any, Any], principal: Caller
    ) -> PreferencesOut:
        preferences = await container_of(request).notification_preferences()(principal)
        return PreferencesOut.of(preferences)

    @put(
        "/preferences",
        summary="Switch push categories on or off",
        description="Categories not listed keep their setting; the answer lists all of them.",
        responses=problems(422),
    )
    async def update_preferences(
        self, request: Request[Any, Any, Any], principal: Caller, data: JSONBody[PreferencesIn]
    ) -> PreferencesOut:
        updated = await container_of(request).update_notification_preferences()(
            principal, data.to_changes()
        )
        return PreferencesOut.of(updated)
