"""Remembered sync operations and offline batch reservations in PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.sync_tables import sync_ops
from core.domain.clips import ClipStatus, Visibility
from core.domain.reservations import ClipSlots, Reservation, ReservedSlots
from core.domain.sync_ops import OpClaim, OpOutcome, OpStatus, StoredOp

# A conflicting claim in flight makes the INSERT wait for its transaction: once it commits
# the insert does nothing (and the next statement sees its outcome), if it rolls back this
# one claims the operation.
_CLAIM = sa.text(
    "INSERT INTO sync_ops (member_id, op_id, device_id, type, fingerprint, status, "
    "occurred_at, received_at) VALUES (:member_id, :op_id, :device_id, :type, :fingerprint, "
    "'claimed', :occurred_at, :received_at) ON CONFLICT (member_id, op_id) DO NOTHING "
    "RETURNING op_id"
)
_STORED = sa.select(sync_ops).where(
    sync_ops.c.member_id == sa.bindparam("member_id"), sync_ops.c.op_id == sa.bindparam("op_id")
)
_FINISH = sa.text(
    "UPDATE sync_ops SET status = :status, body = CAST(:body AS jsonb) "
    "WHERE member_id = :member_id AND op_id = :op_id AND status = 'claimed'"
)
_PRUNE_OPS = sa.text(
    "DELETE FROM sync_ops WHERE ctid = ANY(ARRAY(SELECT ctid FROM sync_ops "
    "WHERE received_at < :before LIMIT :limit))"
)

_FOR_VOTE = sa.text(
    "SELECT r.batch_id, r.reserved_at, r.expires_at, r.used_at, "
    "(SELECT count(*) FROM clip_reservations o WHERE o.clip_id = :clip_id "
    " AND o.validator_id <> :validator_id AND o.used_at IS NULL AND o.expires_at > :now) "
    "AS others "
    "FROM (SELECT 1) AS one LEFT JOIN clip_reservations r "
    "ON r.clip_id = :clip_id AND r.validator_id = :validator_id"
)
# Locks the row (creating it on first use) and reads it in one statement.
_LOCK_CLOCK = sa.text(
    "INSERT INTO listening_clocks (validator_id) VALUES (:validator_id) "
    "ON CONFLICT (validator_id) DO UPDATE SET listened_until = listening_clocks.listened_until "
    "RETURNING listened_until"
)
_SET_CLOCK = sa.text(
    "UPDATE listening_clocks SET listened_until = :until WHERE validator_id = :validator_id"
)
_MARK_USED = sa.text(
    "UPDATE clip_reservations SET used_at = :at "
    "WHERE validator_id = :validator_id AND clip_id = :clip_id AND used_at IS NULL"
)
_HOLDING = sa.text(
    "SELECT count(*) FROM clip_reservations WHERE validator_id = :validator_id "
    "AND used_at IS NULL AND expires_at > :now"
)
# Rows another transaction holds (a vote, another batch) are skipped, never waited for.
_LOCK_CLIPS = sa.text(
    "SELECT id, status, is_gold, visibility, valid_votes + invalid_votes AS counted "
    "FROM voice_clips WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE SKIP LOCKED"
)
# A separate statement, after the locks: its snapshot sees every reservation of those clips
# (they are only written under the clip's lock).
_HOLDING_PER_CLIP = sa.text(
    "SELECT clip_id, count(*) AS holding FROM clip_reservations "
    "WHERE clip_id = ANY(CAST(:ids AS uuid[])) AND used_at IS NULL AND expires_at > :now "
    "GROUP BY clip_id"
)
_ADD = sa.text(
    "WITH added AS ("
    " INSERT INTO clip_reservations (validator_id, clip_id, batch_id, reserved_at, expires_at)"
    " SELECT * FROM unnest(CAST(:validator_ids AS uuid[]), CAST(:clip_ids AS uuid[]),"
    " CAST(:batch_ids AS uuid[]), CAST(:reserved_at AS timestamptz[]),"
    " CAST(:expires_at AS timestamptz[])) ORDER BY 2, 1"
    " ON CONFLICT (validator_id, clip_id) DO UPDATE SET batch_id = excluded.batch_id,"
    " reserved_at = excluded.reserved_at, expires_at = excluded.expires_at, used_at = NULL"
    " WHERE clip_reservations.used_at IS NULL"
    " AND clip_reservations.expires_at <= excluded.reserved_at"
    " RETURNING clip_id, expires_at"
    ") UPDATE voice_clips c SET reserved_until = greatest(c.reserved_until, a.latest)"
    " FROM (SELECT clip_id, max(expires_at) AS latest FROM added GROUP BY clip_id) AS a"
    " WHERE c.id = a.clip_id"
)
_PRUNE_RESERVATIONS = sa.text(
    "DELETE FROM clip_reservations WHERE ctid = ANY(ARRAY(SELECT ctid FROM clip_reservations "
    "WHERE expires_at < :before LIMIT :limit))"
)


def _to_stored(row: sa.Row[Any]) -> StoredOp:
    if row.status == "claimed":  # pragma: no cover - a claim commits only with its outcome
        raise RuntimeError(f"operation {row.op_id} was committed without an outcome")
    return StoredOp(
        op_id=row.op_id,
        type=row.type,
        fingerprint=row.fingerprint,
        outcome=OpOutcome(OpStatus(row.status), dict(row.body)),
        received_at=row.received_at,
    )


class PostgresSyncOpLog:
    """Implements ``core.ports.sync.SyncOpLog``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(self, member_id: UUID, claim: OpClaim) -> StoredOp | None:
        values = {
            "member_id": member_id,
            "op_id": claim.op_id,
            "device_id": claim.device_id,
            "type": claim.type,
            "fingerprint": claim.fingerprint,
            "occurred_at": claim.occurred_at,
            "received_at": claim.received_at,
        }
        while True:
            if (await self._connection.execute(_CLAIM, values)).first() is not None:
                return None
            row = (
                await self._connection.execute(
                    _STORED, {"member_id": member_id, "op_id": claim.op_id}
                )
            ).one_or_none()
            if row is not None:
                return _to_stored(row)
            # Pruned between the two statements: claim it again.

    async def finish(self, member_id: UUID, op_id: UUID, outcome: OpOutcome) -> None:
        await self._connection.execute(
            _FINISH,
            {
                "member_id": member_id,
                "op_id": op_id,
                "status": outcome.status.value,
                "body": json.dumps(outcome.body, default=str),
            },
        )

    async def prune(self, *, received_before: datetime, limit: int) -> int:
        result = await self._connection.execute(
            _PRUNE_OPS, {"before": received_before, "limit": limit}
        )
        return int(result.rowcount)


class PostgresReservationRepository:
    """Implements ``core.ports.sync.ReservationRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def for_vote(self, clip_id: UUID, validator_id: UUID, now: datetime) -> ReservedSlots:
        row = (
            await self._connection.execute(
                _FOR_VOTE, {"clip_id": clip_id, "validator_id": validator_id, "now": now}
            )
        ).one()
        own = None
        if row.batch_id is not None:
            own = Reservation(
                validator_id, clip_id, row.batch_id, row.reserved_at, row.expires_at, row.used_at
            )
        return ReservedSlots(own, int(row.others))

    async def lock_listening_clock(self, validator_id: UUID) -> datetime | None:
        result = await self._connection.execute(_LOCK_CLOCK, {"validator_id": validator_id})
        until: datetime | None = result.scalar_one()
        return until

    async def set_listening_clock(self, validator_id: UUID, until: datetime) -> None:
        await self._connection.execute(_SET_CLOCK, {"validator_id": validator_id, "until": until})

    async def mark_used(self, validator_id: UUID, clip_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            _MARK_USED, {"validator_id": validator_id, "clip_id": clip_id, "at": at}
        )

    async def holding_count(self, validator_id: UUID, now: datetime) -> int:
        result = await self._connection.execute(
            _HOLDING, {"validator_id": validator_id, "now": now}
        )
        return int(result.scalar_one())

    async def lock_for_batch(
        self, clip_ids: Sequence[UUID], now: datetime
    ) -> Mapping[UUID, ClipSlots]:
        if not clip_ids:
            return {}
        locked = list(await self._connection.execute(_LOCK_CLIPS, {"ids": list(clip_ids)}))
        if not locked:
            return {}
        holding = {
            row.clip_id: int(row.holding)
            for row in await self._connection.execute(
                _HOLDING_PER_CLIP, {"ids": [row.id for row in locked], "now": now}
            )
        }
        return {
            row.id: ClipSlots(
                clip_id=row.id,
                servable=row.visibility == Visibility.VISIBLE.value
                and (row.is_gold or row.status == ClipStatus.PENDING.value),
                counted_votes=int(row.counted),
                holding_reservations=holding.get(row.id, 0),
            )
            for row in locked
        }

    async def add(self, reservations: Sequence[Reservation]) -> None:
        if not reservations:
            return
        await self._connection.execute(
            _ADD,
            {
                "validator_ids": [r.validator_id for r in reservations],
                "clip_ids": [r.clip_id for r in reservations],
                "batch_ids": [r.batch_id for r in reservations],
                "reserved_at": [r.reserved_at for r in reservations],
                "expires_at": [r.expires_at for r in reservations],
            },
        )

    async def prune(self, *, expired_before: datetime, limit: int) -> int:
        result = await self._connection.execute(
            _PRUNE_RESERVATIONS, {"before": expired_before, "limit": limit}
        )
        return int(result.rowcount)
