"""Push deliveries as a job queue in PostgreSQL (``FOR UPDATE SKIP LOCKED``), each call in its
own short transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.errors import storage_errors
from adapters.postgres.notification_tables import push_deliveries, push_tokens
from core.domain.member_notifications import (
    ClaimedDelivery,
    DeliveryOutcome,
    DeliveryState,
    ReceiptUpdate,
    SentDelivery,
    TokenDeactivation,
)
from core.domain.notifications import NotificationCategory, PushMessage

# Lock a due batch, then mark each row 'sending' — or 'skipped' when its device was deleted,
# deactivated or now belongs to another member — and return the message to send.
_CLAIM = sa.text(
    """
    WITH picked AS (
        SELECT id FROM push_deliveries
        WHERE state = 'queued' AND available_at <= :now
        ORDER BY available_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ),
    classified AS (
        SELECT d.id,
               (t.token IS NOT NULL AND t.active AND t.profile_id = d.profile_id) AS deliverable
        FROM picked
        JOIN push_deliveries d ON d.id = picked.id
        LEFT JOIN push_tokens t ON t.token = d.token
    )
    UPDATE push_deliveries d SET
        state = CASE WHEN c.deliverable THEN 'sending' ELSE 'skipped' END,
        attempts = CASE WHEN c.deliverable THEN d.attempts + 1 ELSE d.attempts END,
        sending_since = CASE WHEN c.deliverable THEN CAST(:now AS timestamptz) END,
        locked_by = CASE WHEN c.deliverable THEN CAST(:worker AS text) END,
        error = CASE WHEN c.deliverable THEN d.error ELSE 'device_unavailable' END,
        updated_at = :now
    FROM classified c, notifications n
    WHERE d.id = c.id AND n.id = d.notification_id
    RETURNING d.id, d.notification_id, d.token, d.attempts, d.state,
              n.category, n.title, n.body, n.data
    """
)

_SETTLE = (
    sa.update(push_deliveries)
    .where(
        push_deliveries.c.id == sa.bindparam("b_id"),
        push_deliveries.c.attempts == sa.bindparam("b_attempts"),
        # A literal list: expanding IN parameters cannot be used with executemany.
        sa.text("push_deliveries.state IN ('sending', 'uncertain')"),
    )
    .values(
        state=sa.bindparam("b_state"),
        ticket_id=sa.bindparam("b_ticket_id"),
        sent_at=sa.bindparam("b_sent_at"),
        available_at=sa.func.coalesce(
            sa.bindparam("b_retry_at", type_=push_deliveries.c.available_at.type),
            push_deliveries.c.available_at,
        ),
        error=sa.bindparam("b_error"),
        locked_by=None,
        sending_since=None,
        updated_at=sa.bindparam("b_now"),
    )
)

_RECEIPT = (
    sa.update(push_deliveries)
    .where(push_deliveries.c.id == sa.bindparam("b_id"))
    .values(
        receipt_status=sa.bindparam("b_status"),
        receipt_checked_at=sa.bindparam("b_now"),
        updated_at=sa.bindparam("b_now"),
    )
)

_FINAL_STATES = [
    DeliveryState.SENT.value,
    DeliveryState.FAILED.value,
    DeliveryState.SKIPPED.value,
    DeliveryState.UNCERTAIN.value,
]


def _to_claimed(row: sa.Row[Any]) -> ClaimedDelivery:
    data = {**dict(row.data), "notificationId": str(row.notification_id)}
    message = PushMessage(
        token=row.token,
        title=row.title,
        body=row.body,
        category=NotificationCategory(row.category),
        data=data,
    )
    return ClaimedDelivery(
        id=row.id, notification_id=row.notification_id, attempts=row.attempts, message=message
    )


class PostgresPushDeliveryQueue:
    """Implements ``core.ports.notifications.PushDeliveryQueue``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, *, now: datetime, limit: int, worker: str) -> list[ClaimedDelivery]:
        async with storage_errors(), self._engine.begin() as connection:
            result = await connection.execute(
                _CLAIM, {"now": now, "limit": limit, "worker": worker}
            )
            rows = result.all()
        sending = [row for row in rows if row.state == DeliveryState.SENDING.value]
        return [_to_claimed(row) for row in sorted(sending, key=lambda row: row.id)]

    async def record(self, outcomes: Sequence[DeliveryOutcome], *, now: datetime) -> int:
        if not outcomes:
            return 0
        parameters = [
            {
                "b_id": outcome.delivery.id,
                "b_attempts": outcome.delivery.attempts,
                "b_state": outcome.state.value,
                "b_ticket_id": outcome.ticket_id,
                "b_sent_at": now if outcome.state is DeliveryState.SENT else None,
                "b_retry_at": outcome.retry_at,
                "b_error": outcome.error,
                "b_now": now,
            }
            for outcome in outcomes
        ]
        gone = sorted({outcome.deactivate for outcome in outcomes if outcome.deactivate})
        async with storage_errors(), self._engine.begin() as connection:
            result = await connection.execute(_SETTLE, parameters)
            if gone:
                await connection.execute(
                    sa.update(push_tokens)
                    .where(push_tokens.c.token.in_(gone), push_tokens.c.active)
                    .values(
                        active=False,
                        deactivated_at=now,
                        deactivated_reason=TokenDeactivation.DEVICE_NOT_REGISTERED.value,
                    )
                )
        return int(result.rowcount)

    async def resolve_stalled(self, *, sending_before: datetime, now: datetime) -> int:
        async with storage_errors(), self._engine.begin() as connection:
            result = await connection.execute(
                sa.update(push_deliveries)
                .where(
                    push_deliveries.c.state == DeliveryState.SENDING.value,
                    push_deliveries.c.sending_since < sending_before,
                )
                .values(
                    state=DeliveryState.UNCERTAIN.value,
                    error="worker stopped mid-send: outcome unknown, not resent",
                    updated_at=now,
                )
            )
        return int(result.rowcount)

    async def awaiting_receipts(
        self, *, sent_before: datetime, after_id: int, limit: int
    ) -> list[SentDelivery]:
        query = (
            sa.select(
                push_deliveries.c.id,
                push_deliveries.c.token,
                push_deliveries.c.ticket_id,
                push_deliveries.c.sent_at,
            )
            .where(
                push_deliveries.c.state == DeliveryState.SENT.value,
                push_deliveries.c.ticket_id.is_not(None),
                push_deliveries.c.receipt_status.is_(None),
                push_deliveries.c.sent_at <= sent_before,
                push_deliveries.c.id > after_id,
            )
            .order_by(push_deliveries.c.id)
            .limit(limit)
        )
        async with storage_errors(), self._engine.connect() as connection:
            result = await connection.execute(query)
            return [SentDelivery(row.id, row.token, row.ticket_id, row.sent_at) for row in result]

    async def record_receipts(self, updates: Sequence[ReceiptUpdate], *, now: datetime) -> None:
        if not updates:
            return
        parameters = [
            {"b_id": update.delivery_id, "b_status": update.receipt_status, "b_now": now}
            for update in updates
        ]
        async with storage_errors(), self._engine.begin() as connection:
            await connection.execute(_RECEIPT, parameters)
            for update in updates:
                if update.deactivate is None or update.sent_at is None:
                    continue
                # Not if the device registered again after this push went out.
                await connection.execute(
                    sa.update(push_tokens)
                    .where(
                        push_tokens.c.token == update.deactivate,
                        push_tokens.c.active,
                        push_tokens.c.updated_at <= update.sent_at,
                    )
                    .values(
                        active=False,
                        deactivated_at=now,
                        deactivated_reason=TokenDeactivation.DEVICE_NOT_REGISTERED.value,
                    )
                )

    async def prune(self, *, finished_before: datetime, limit: int) -> int:
        victims = (
            sa.select(push_deliveries.c.id)
            .where(
                push_deliveries.c.state.in_(_FINAL_STATES),
                push_deliveries.c.updated_at < finished_before,
            )
            .limit(limit)
            .scalar_subquery()
        )
        async with storage_errors(), self._engine.begin() as connection:
            result = await connection.execute(
                sa.delete(push_deliveries).where(push_deliveries.c.id.in_(victims))
            )
        return int(result.rowcount)
