"""Payouts and payout destinations in PostgreSQL.

The database keeps the promises that must hold under concurrency (migration 0008_payouts):
a partial unique index allows one payout in flight per member, another one default
destination per member and currency, a trigger lets a payout's status move only forward, and
the primary key of ``payout_webhook_events`` records each provider notification once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.postgres.keyset import newest_first
from adapters.postgres.payout_tables import (
    payout_destinations,
    payout_freezes,
    payout_webhook_events,
    payouts,
)
from core.domain.money import Money
from core.domain.payouts import (
    IN_FLIGHT,
    DestinationKind,
    Payout,
    PayoutDestination,
    PayoutStatus,
)

_IN_FLIGHT = [status.value for status in IN_FLIGHT]
_IN_FLIGHT_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in sorted(_IN_FLIGHT)))
_COUNTED = [*_IN_FLIGHT, PayoutStatus.PAID.value, PayoutStatus.REVERSED.value]


def _to_payout(row: sa.Row[Any]) -> Payout:
    return Payout(
        id=row.id,
        profile_id=row.profile_id,
        destination_id=row.destination_id,
        provider=row.provider,
        recipient_code=row.recipient_code,
        amount=Money(row.amount_minor, row.currency),
        status=PayoutStatus(row.status),
        idempotency_key=row.idempotency_key,
        fingerprint=row.fingerprint,
        requested_at=row.requested_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        transfer_code=row.transfer_code,
        failure_code=row.failure_code,
        failure_detail=row.failure_detail,
        finished_at=row.finished_at,
    )


def _changing_fields(payout: Payout) -> dict[str, object]:
    return {
        "status": payout.status.value,
        "attempts": payout.attempts,
        "transfer_code": payout.transfer_code,
        "failure_code": payout.failure_code,
        "failure_detail": payout.failure_detail,
        "updated_at": payout.updated_at,
        "finished_at": payout.finished_at,
    }


def _to_row(payout: Payout) -> dict[str, object]:
    return {
        "id": payout.id,
        "profile_id": payout.profile_id,
        "destination_id": payout.destination_id,
        "provider": payout.provider,
        "recipient_code": payout.recipient_code,
        "amount_minor": payout.amount.amount_minor,
        "currency": payout.amount.currency,
        "idempotency_key": payout.idempotency_key,
        "fingerprint": payout.fingerprint,
        "requested_at": payout.requested_at,
        **_changing_fields(payout),
    }


class PostgresPayoutRepository:
    """Implements ``core.ports.payouts.PayoutRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def lock_request_key(self, profile_id: UUID, key: str) -> bool:
        # A transaction-level advisory lock: released at COMMIT or ROLLBACK, so it works
        # through transaction-mode poolers and can never outlive the request.
        locked = await self._connection.execute(
            sa.text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"payout-request:{profile_id}:{key}"},
        )
        return bool(locked.scalar_one())

    async def by_idempotency_key(self, profile_id: UUID, key: str) -> Payout | None:
        row = (
            await self._connection.execute(
                sa.select(payouts).where(
                    payouts.c.profile_id == profile_id, payouts.c.idempotency_key == key
                )
            )
        ).first()
        return _to_payout(row) if row else None

    async def add(self, payout: Payout) -> bool:
        statement = (
            insert(payouts)
            .values(**_to_row(payout))
            .on_conflict_do_nothing(
                index_elements=["profile_id"], index_where=sa.text(_IN_FLIGHT_SQL)
            )
            .returning(payouts.c.id)
        )
        return (await self._connection.execute(statement)).scalar_one_or_none() is not None

    async def get(self, payout_id: UUID, *, lock: bool = False) -> Payout | None:
        query = sa.select(payouts).where(payouts.c.id == payout_id)
        if lock:
            query = query.with_for_update()
        row = (await self._connection.execute(query)).first()
        return _to_payout(row) if row else None

    async def save(self, payout: Payout) -> None:
        await self._connection.execute(
            sa.update(payouts).where(payouts.c.id == payout.id).values(**_changing_fields(payout))
        )

    async def list_for_member(
        self, profile_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Payout]:
        query = sa.select(payouts).where(payouts.c.profile_id == profile_id)
        return await self._page(query, before, limit)

    async def list_all(
        self,
        *,
        status: PayoutStatus | None,
        before: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Payout]:
        query = sa.select(payouts)
        if status is not None:
            query = query.where(payouts.c.status == status.value)
        return await self._page(query, before, limit)

    async def _page(
        self, query: sa.Select[Any], before: tuple[datetime, UUID] | None, limit: int
    ) -> list[Payout]:
        page = newest_first(query, payouts.c.requested_at, payouts.c.id, before=before, limit=limit)
        return [_to_payout(row) for row in await self._connection.execute(page)]

    async def paid_out_since(self, profile_id: UUID, currency: str, since: datetime) -> Money:
        total = await self._connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(payouts.c.amount_minor), 0)).where(
                payouts.c.profile_id == profile_id,
                payouts.c.currency == currency,
                payouts.c.requested_at >= since,
                payouts.c.status.in_(_COUNTED),
            )
        )
        return Money(int(total.scalar_one()), currency)

    async def in_flight_before(self, updated_before: datetime, limit: int) -> Sequence[Payout]:
        rows = await self._connection.execute(
            sa.select(payouts)
            .where(payouts.c.status.in_(_IN_FLIGHT), payouts.c.updated_at <= updated_before)
            .order_by(payouts.c.updated_at, payouts.c.id)
            .limit(limit)
        )
        return [_to_payout(row) for row in rows]

    async def mark_event_handled(self, provider: str, event_key: str, at: datetime) -> bool:
        statement = (
            insert(payout_webhook_events)
            .values(provider=provider, event_key=event_key, received_at=at)
            .on_conflict_do_nothing()
            .returning(payout_webhook_events.c.event_key)
        )
        return (await self._connection.execute(statement)).scalar_one_or_none() is not None

    async def is_frozen(self, profile_id: UUID) -> bool:
        found = await self._connection.execute(
            sa.select(sa.literal(True)).where(payout_freezes.c.profile_id == profile_id)
        )
        return found.scalar_one_or_none() is not None

    async def set_frozen(
        self, profile_id: UUID, *, frozen: bool, reason: str, at: datetime
    ) -> None:
        if not frozen:
            await self._connection.execute(
                sa.delete(payout_freezes).where(payout_freezes.c.profile_id == profile_id)
            )
            return
        statement = insert(payout_freezes).values(
            profile_id=profile_id, reason=reason, frozen_at=at
        )
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=["profile_id"], set_={"reason": reason, "frozen_at": at}
            )
        )


def _to_destination(row: sa.Row[Any]) -> PayoutDestination:
    return PayoutDestination(
        id=row.id,
        profile_id=row.profile_id,
        kind=DestinationKind(row.kind),
        currency=row.currency,
        provider=row.provider,
        recipient_code=row.recipient_code,
        bank_code=row.bank_code,
        bank_name=row.bank_name,
        account_name=row.account_name,
        last4=row.last4,
        is_default=row.is_default,
        created_at=row.created_at,
        removed_at=row.removed_at,
    )


class PostgresPayoutDestinationRepository:
    """Implements ``core.ports.payouts.PayoutDestinationRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, destination: PayoutDestination) -> None:
        if destination.is_default:
            await self._connection.execute(
                sa.update(payout_destinations)
                .where(
                    payout_destinations.c.profile_id == destination.profile_id,
                    payout_destinations.c.currency == destination.currency,
                    payout_destinations.c.is_default,
                )
                .values(is_default=False)
            )
        await self._connection.execute(
            sa.insert(payout_destinations).values(
                id=destination.id,
                profile_id=destination.profile_id,
                kind=destination.kind.value,
                currency=destination.currency,
                provider=destination.provider,
                recipient_code=destination.recipient_code,
                bank_code=destination.bank_code,
                bank_name=destination.bank_name,
                account_name=destination.account_name,
                last4=destination.last4,
                is_default=destination.is_default,
                created_at=destination.created_at,
                removed_at=destination.removed_at,
            )
        )

    async def get(self, destination_id: UUID) -> PayoutDestination | None:
        row = (
            await self._connection.execute(
                sa.select(payout_destinations).where(payout_destinations.c.id == destination_id)
            )
        ).first()
        return _to_destination(row) if row else None

    async def default_for(self, profile_id: UUID, currency: str) -> PayoutDestination | None:
        row = (
            await self._connection.execute(
                sa.select(payout_destinations).where(
                    payout_destinations.c.profile_id == profile_id,
                    payout_destinations.c.currency == currency,
                    payout_destinations.c.is_default,
                    payout_destinations.c.removed_at.is_(None),
                )
            )
        ).first()
        return _to_destination(row) if row else None

    async def list_for_member(self, profile_id: UUID) -> Sequence[PayoutDestination]:
        rows = await self._connection.execute(
            sa.select(payout_destinations)
            .where(
                payout_destinations.c.profile_id == profile_id,
                payout_destinations.c.removed_at.is_(None),
            )
            .order_by(payout_destinations.c.created_at.desc(), payout_destinations.c.id.desc())
        )
        return [_to_destination(row) for row in rows]

    async def remove(self, destination_id: UUID, at: datetime) -> None:
        await self._connection.execute(
            sa.update(payout_destinations)
            .where(payout_destinations.c.id == destination_id)
            .values(removed_at=at, is_default=False)
        )
