"""Wire structs for ``/sync`` (docs/sync.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from core.domain.reservations import MAX_BATCH_SIZE
from core.domain.sync_cursor import ChangePage, ClipChange
from core.domain.sync_ops import MAX_DEVICE_ID_LENGTH, MAX_OPS_PER_PUSH, OpResult, SyncOp
from core.use_cases.sync import OfflineBatch
from entrypoints.http.schemas.clips import ClipOut
from entrypoints.http.schemas.money import BalanceOut, RateInForceOut
from entrypoints.http.schemas.notifications import NotificationOut


class SyncOpIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """One operation recorded offline. ``opId``: a UUID the app made for it, kept across
    retries. ``payload``: the body of the online endpoint (checked per operation: a bad one
    is that operation's ``rejected``). ``occurredAt``: when it happened on the phone (with a
    UTC offset); recorded only."""

    op_id: UUID
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    payload: Any = None
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None

    def to_op(self) -> SyncOp:
        return SyncOp(self.op_id, self.type, self.payload, self.occurred_at)


class PushIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DEVICE_ID_LENGTH)]
    ops: Annotated[list[SyncOpIn], msgspec.Meta(max_length=MAX_OPS_PER_PUSH)]


class OpResultOut(msgspec.Struct, rename="camel"):
    """``status``: ``applied`` (``result``: what the online endpoint answers), ``rejected``
    (``problem``: its ``code``, ``status`` and ``detail``), ``duplicate`` (seen before:
    ``original`` is ``applied`` or ``rejected``, with the remembered ``result`` or
    ``problem``), ``failed`` (a server fault, nothing recorded: push it again later)."""

    op_id: UUID
    status: str
    original: str | None = None
    result: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None

    @classmethod
    def of(cls, result: OpResult) -> OpResultOut:
        outcome = result.original or result.status
        body = dict(result.body)
        return cls(
            op_id=result.op_id,
            status=result.status.value,
            original=result.original.value if result.original else None,
            result=body if outcome.value == "applied" else None,
            problem=None if outcome.value == "applied" else body,
        )


class PushOut(msgspec.Struct, rename="camel"):
    results: list[OpResultOut]


class BatchIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    language: Annotated[str, msgspec.Meta(min_length=2, max_length=35)]
    size: Annotated[int, msgspec.Meta(ge=1, le=MAX_BATCH_SIZE)] = 50


class BatchOut(msgspec.Struct, rename="camel"):
    """Clips to validate offline, each reserved for you until ``expiresAt``: download the
    audio (``audioUrl``) now, vote with ``validation.submit`` operations before then."""

    id: UUID
    reserved_at: datetime
    expires_at: datetime
    items: list[ClipOut]

    @classmethod
    def of(cls, batch: OfflineBatch) -> BatchOut:
        return cls(
            id=batch.id,
            reserved_at=batch.reserved_at,
            expires_at=batch.expires_at,
            items=[ClipOut.of(clip, details=False) for clip in batch.clips],
        )


class ClipChangeOut(msgspec.Struct, rename="camel"):
    id: UUID
    client_id: UUID
    language: str
    status: str
    visibility: str
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, clip: ClipChange) -> ClipChangeOut:
        return cls(
            id=clip.id,
            client_id=clip.client_id,
            language=clip.language,
            status=clip.status.value,
            visibility=clip.visibility.value,
            created_at=clip.created_at,
            decided_at=clip.decided_at,
        )


class PullOut(msgspec.Struct, rename="camel"):
    """Changes since the cursor you sent. ``clips`` and ``notifications`` replace your copies
    of the same ids; ``balance`` and ``rewardRates`` are null when unchanged, else the whole
    value (rates: all in force now or later). Keep ``cursor`` for the next pull; when
    ``hasMore``, pull again at once with it."""

    cursor: str
    has_more: bool
    clips: list[ClipChangeOut]
    notifications: list[NotificationOut]
    balance: BalanceOut | None
    reward_rates: list[RateInForceOut] | None

    @classmethod
    def of(cls, page: ChangePage) -> PullOut:
        return cls(
            cursor=page.cursor.encode(),
            has_more=page.has_more,
            clips=[ClipChangeOut.of(clip) for clip in page.clips],
            notifications=[NotificationOut.of(item) for item in page.notifications],
            balance=BalanceOut.of(page.balance) if page.balance is not None else None,
            reward_rates=[RateInForceOut.of_rate(rate) for rate in page.reward_rates]
            if page.reward_rates is not None
            else None,
        )
