"""Storage of the money ledger and of reward rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.ledger import JournalTransaction, MemberBalance
from core.domain.rewards import RewardKind, RewardRate


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One line of a member's history: the transaction, and what it was for — the clip and
    reward kind of an earning, or of the earning a release or reversal closes."""

    transaction: JournalTransaction
    clip_id: UUID | None = None
    reward_kind: str | None = None


class LedgerRepository(Protocol):
    """The double-entry journal, inside the current unit of work. It keeps every promise of
    ``core.domain.ledger.Ledger`` (the reference model) and keeps them under concurrency:
    concurrent posts of one reference record it once, an earning is closed once, and a member
    account never goes negative."""

    async def post(self, transaction: JournalTransaction) -> bool:
        """Record ``transaction`` and update balances; ``False`` when its reference already
        holds the same movement (a replay: nothing changes). Raises ``DuplicateReference``
        (a different movement under a used reference, or a used id), ``AlreadyClosed``,
        ``UnknownTransaction`` or ``InsufficientFunds``; the unit of work must then be
        abandoned."""
        ...

    async def post_all(self, transactions: Sequence[JournalTransaction]) -> tuple[bool, ...]:
        """``post`` for several transactions at once (one flag per transaction, in order; a
        reference repeated in the list is a replay the second time)."""
        ...

    async def by_reference(self, reference: str) -> JournalTransaction | None:
        """The transaction recorded under ``reference``, or ``None``."""
        ...

    async def member_balance(self, profile_id: UUID, currency: str) -> MemberBalance:
        """The member's balances in ``currency`` (all zero for a member with none)."""
        ...

    async def history(
        self, profile_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[LedgerEntry]:
        """The member's transactions, newest first (by ``occurred_at`` then id), strictly
        before the ``before`` cursor."""
        ...

    async def lock_due_earnings(
        self, *, earned_up_to: datetime, limit: int
    ) -> Sequence[JournalTransaction]:
        """Up to ``limit`` open earnings (neither released nor reversed) recorded at or
        before ``earned_up_to``, oldest first, locked until the unit of work ends. Earnings
        locked by another unit of work are skipped, so several processes can release at once
        without waiting for or repeating each other. Earnings of a clip that moderation hid
        or removed are held back."""
        ...

    async def lock_open_earnings_of_clip(self, clip_id: UUID) -> Sequence[JournalTransaction]:
        """The clip's open earnings, locked until the unit of work ends (waiting for a
        release in progress, after which a released earning is no longer open)."""
        ...

    async def earnings_of_clip(self, clip_id: UUID) -> Sequence[JournalTransaction]:
        """Every earning ever recorded for the clip, open or closed, oldest first."""
        ...


@dataclass(frozen=True, slots=True)
class RateRecord:
    """A reward rate as stored: who added it (``None`` for the service identity) and when."""

    rate: RewardRate
    created_by: UUID | None
    created_at: datetime


class RewardRateRepository(Protocol):
    """Reward rates (the seed's ``rewardRates``). Rows are never edited or deleted."""

    async def in_force(self, *, currency: str, language: str, at: datetime) -> Sequence[RewardRate]:
        """Every rate in ``currency`` in force at ``at`` that is generic or for exactly
        ``language`` (all kinds); ``core.domain.rewards.select_rate`` chooses among them."""
        ...

    async def add_if_absent(self, record: RateRecord) -> bool:
        """Store a new rate; ``False`` when a rate for the same kind, currency and language
        already starts at the same instant (race-safe)."""
        ...

    async def list_rates(
        self,
        *,
        currency: str | None = None,
        kind: RewardKind | None = None,
        after: tuple[datetime, datetime, UUID] | None = None,
        limit: int | None = None,
    ) -> Sequence[RateRecord]:
        """Every rate (optionally of one currency and kind), latest ``valid_from`` first, then
        latest ``created_at``, then id; with ``after`` (``valid_from``, ``created_at``, id of
        the last rate of the previous page) only those after it, and at most ``limit``."""
        ...


class BalanceLookup(Protocol):
    """One member's balance read on its own, outside any unit of work: the member's accounts
    in one currency are one statement, which needs no transaction around it (balances
    change only through postings, whose trigger updates them in the posting's transaction).
    Sees only committed balances."""

    async def member_balance(self, profile_id: UUID, currency: str) -> MemberBalance:
        """The member's balance in ``currency`` (zeros when they have no account in it)."""
        ...
