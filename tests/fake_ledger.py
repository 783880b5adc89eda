"""In-memory fakes of the ledger and reward-rate ports, backed by the domain's reference
``Ledger`` (so the fake refuses exactly what the domain refuses)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.ledger import JournalTransaction, Ledger, MemberBalance, TransactionKind
from core.domain.rewards import RewardKind, RewardRate
from core.ports.ledger import LedgerEntry, RateRecord


@dataclass
class LedgerState:
    transactions: list[JournalTransaction] = field(default_factory=list)
    rates: list[RateRecord] = field(default_factory=list)

    def copy(self) -> LedgerState:
        return LedgerState(list(self.transactions), list(self.rates))


def _clip_of(tx: JournalTransaction) -> uuid.UUID | None:
    clip_id = tx.metadata.get("clip_id")
    return uuid.UUID(clip_id) if clip_id else None


class FakeLedgerRepository:
    """``clip_visible`` answers whether a clip exists and is visible (earnings of hidden or
    removed clips are held back from release, as in Postgres)."""

    def __init__(self, state: LedgerState, clip_visible: Callable[[uuid.UUID], bool]) -> None:
        self._state = state
        self._ledger = Ledger(state.transactions)
        self._clip_visible = clip_visible

    async def post(self, transaction: JournalTransaction) -> bool:
        return (await self.post_all([transaction]))[0]

    async def post_all(self, transactions: Sequence[JournalTransaction]) -> tuple[bool, ...]:
        flags = []
        for tx in transactions:
            new = self._ledger.apply(tx)
            if new:
                self._state.transactions.append(tx)
            flags.append(new)
        return tuple(flags)

    async def by_reference(self, reference: str) -> JournalTransaction | None:
        return self._ledger.by_reference(reference)

    async def member_balance(self, profile_id: uuid.UUID, currency: str) -> MemberBalance:
        return self._ledger.member_balance(profile_id, currency)

    async def history(
        self, profile_id: uuid.UUID, *, before: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[LedgerEntry]:
        mine = sorted(
            (tx for tx in self._state.transactions if tx.member_id == profile_id),
            key=lambda tx: (tx.occurred_at, tx.id),
            reverse=True,
        )
        if before is not None:
            mine = [tx for tx in mine if (tx.occurred_at, tx.id) < before]
        by_id = {tx.id: tx for tx in self._state.transactions}
        entries = []
        for tx in mine[:limit]:
            described = by_id[tx.closes] if tx.closes else tx
            entries.append(
                LedgerEntry(tx, _clip_of(described), described.metadata.get("reward_kind"))
            )
        return entries

    def _open_earnings(self) -> list[JournalTransaction]:
        return sorted(
            (
                tx
                for tx in self._state.transactions
                if tx.kind is TransactionKind.REWARD_EARNED and not self._ledger.is_closed(tx.id)
            ),
            key=lambda tx: (tx.occurred_at, tx.id),
        )

    async def lock_due_earnings(
        self, *, earned_up_to: datetime, limit: int
    ) -> Sequence[JournalTransaction]:
        def releasable(tx: JournalTransaction) -> bool:
            clip_id = _clip_of(tx)
            return clip_id is None or self._clip_visible(clip_id)

        due = [
            tx for tx in self._open_earnings() if tx.occurred_at <= earned_up_to and releasable(tx)
        ]
        return due[:limit]

    async def lock_open_earnings_of_clip(self, clip_id: uuid.UUID) -> Sequence[JournalTransaction]:
        found = [tx for tx in self._open_earnings() if _clip_of(tx) == clip_id]
        return sorted(found, key=lambda tx: tx.id)

    async def earnings_of_clip(self, clip_id: uuid.UUID) -> Sequence[JournalTransaction]:
        return [
            tx
            for tx in sorted(self._state.transactions, key=lambda tx: (tx.occurred_at, tx.id))
            if tx.kind is TransactionKind.REWARD_EARNED and _clip_of(tx) == clip_id
        ]


class FakeRewardRateRepository:
    def __init__(self, state: LedgerState) -> None:
        self._state = state

    async def in_force(self, *, currency: str, language: str, at: datetime) -> Sequence[RewardRate]:
        return [
            record.rate
            for record in self._state.rates
            if record.rate.amount.currency == currency
            and record.rate.language in (None, language)
            and record.rate.in_force_at(at)
        ]

    async def add_if_absent(self, record: RateRecord) -> bool:
        def slot(rate: RewardRate) -> tuple[object, ...]:
            return (rate.kind, rate.amount.currency, rate.language, rate.valid_from)

        if any(slot(r.rate) == slot(record.rate) for r in self._state.rates):
            return False
        self._state.rates.append(record)
        return True

    async def list_rates(
        self,
        *,
        currency: str | None = None,
        kind: RewardKind | None = None,
        after=None,
        limit: int | None = None,
    ) -> Sequence[RateRecord]:
        found = [
            r
            for r in self._state.rates
            if (currency is None or r.rate.amount.currency == currency)
            and (kind is None or r.rate.kind is kind)
        ]
        found.sort(key=lambda r: r.rate.id)
        found.sort(key=lambda r: (r.rate.valid_from, r.created_at), reverse=True)
        if after is not None:
            keys = [(r.rate.valid_from, r.created_at, r.rate.id) for r in found]
            found = [r for r, key in zip(found, keys, strict=True) if _after(key, after)]
        return found if limit is None else found[:limit]


def _after(key, position) -> bool:
    """``key`` comes after ``position`` in the rates' order (stamps descending, id ascending)."""
    (valid_from, created_at, rate_id), (at_from, at_created, at_id) = key, position
    if (valid_from, created_at) != (at_from, at_created):
        return (valid_from, created_at) < (at_from, at_created)
    return rate_id > at_id
