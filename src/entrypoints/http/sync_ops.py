"""The operation types ``POST /sync/push`` applies, each through the use case of its online
endpoint with that endpoint's wire structs, so a pushed operation is checked, answered and
refused exactly as the online request would be.

Adding a type: one ``_register`` call in ``build_op_handlers`` with the endpoint's request
struct and a function calling its use case (built with the unit of work it is given), plus
the use case's provider as an argument.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
import structlog

from core.domain.clips import Verdict
from core.domain.identity import Principal
from core.domain.sync_ops import (
    CLIP_SKIP,
    FLAG_CREATE,
    NOTIFICATION_READ,
    PROFILE_UPDATE,
    VALIDATION_SUBMIT,
)
from core.errors import DomainError, InvalidInput
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.moderation import CreateFlag
from core.use_cases.notifications import MarkNotificationRead
from core.use_cases.profiles import UpdateOwnProfile
from core.use_cases.sync import OpHandlers
from core.use_cases.validation import SkipClip, SubmitVote
from entrypoints.http.errors import status_of
from entrypoints.http.schemas.clips import SkipIn, VoteIn, VoteOut
from entrypoints.http.schemas.me import ProfileOut, ProfilePatch
from entrypoints.http.schemas.moderation import FlagIn, FlagOut
from entrypoints.http.schemas.notifications import NotificationOut

log = structlog.get_logger("chorus.sync")

In = TypeVar("In", bound=msgspec.Struct)
UnitsOfWork = Callable[[], UnitOfWork]
Build = Callable[..., Any]  # a use case's provider: called with ``uow_factory=``


class NotificationReadIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``notification.read``: the id the online path ``/notifications/{id}/read`` takes."""

    notification_id: UUID


def problem_of(error: BaseException) -> dict[str, Any]:
    """The problem an operation's error gives, as the online endpoint would answer it."""
    if isinstance(error, DomainError):
        return {"code": error.code, "status": status_of(error), "detail": error.message}
    log.error("sync_op_failed", error_type=type(error).__name__, exc_info=error)
    return {
        "code": "internal_error",
        "status": 500,
        "detail": "Something went wrong on our side; it has been logged. Push it again later.",
    }


@dataclass(frozen=True, slots=True)
class _PayloadOp(Generic[In]):
    """Decode the payload with the endpoint's request struct (a bad payload is the
    endpoint's 422 ``validation_failed``), apply, answer with the endpoint's response."""

    payload: type[In]
    apply: Callable[[Principal, In, UnitsOfWork], Awaitable[msgspec.Struct | None]]

    async def __call__(
        self, principal: Principal, payload: Any, uow_factory: UnitsOfWork
    ) -> Mapping[str, Any]:
        try:
            body = msgspec.convert(payload, self.payload)
        except msgspec.ValidationError as error:
            raise InvalidInput(f"Invalid payload: {error}", code="validation_failed") from None
        answer = await self.apply(principal, body, uow_factory)
        result: dict[str, Any] = msgspec.to_builtins(answer) if answer is not None else {}
        return result


def build_op_handlers(
    *,
    submit_vote: Build,
    skip_clip: Build,
    mark_notification_read: Build,
    update_own_profile: Build,
    create_flag: Build,
) -> OpHandlers:
    handlers = OpHandlers()

    def _register(op_type: str, payload: type[In], apply: Any) -> None:
        handlers.register(op_type, _PayloadOp(payload, apply))

    async def vote(principal: Principal, body: VoteIn, uow: UnitsOfWork) -> VoteOut:
        use_case: SubmitVote = submit_vote(uow_factory=uow)
        return VoteOut.of(await use_case(principal, body.clip_id, Verdict(body.verdict)))

    async def skip(principal: Principal, body: SkipIn, uow: UnitsOfWork) -> None:
        use_case: SkipClip = skip_clip(uow_factory=uow)
        await use_case(principal, body.clip_id)

    async def read(principal: Principal, body: NotificationReadIn, uow: UnitsOfWork) -> Any:
        use_case: MarkNotificationRead = mark_notification_read(uow_factory=uow)
        return NotificationOut.of(await use_case(principal, body.notification_id))

    async def profile(principal: Principal, body: ProfilePatch, uow: UnitsOfWork) -> Any:
        use_case: UpdateOwnProfile = update_own_profile(uow_factory=uow)
        return ProfileOut.of(await use_case(principal, body.to_changes()))

    async def flag(principal: Principal, body: FlagIn, uow: UnitsOfWork) -> FlagOut:
        use_case: CreateFlag = create_flag(uow_factory=uow)
        return FlagOut.of(await use_case(principal, body.to_command()))

    _register(VALIDATION_SUBMIT, VoteIn, vote)
    _register(FLAG_CREATE, FlagIn, flag)
    _register(CLIP_SKIP, SkipIn, skip)
    _register(NOTIFICATION_READ, NotificationReadIn, read)
    _register(PROFILE_UPDATE, ProfilePatch, profile)
    return handlers
