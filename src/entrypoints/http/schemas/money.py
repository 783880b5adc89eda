"""Wire structs for balances, ledger history and reward rates. Amounts are integer minor units
(kobo, pesewas, cents) with their ISO currency; never floats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from core.domain.ledger import MemberBalance, TransactionKind
from core.domain.money import MAX_AMOUNT_MINOR
from core.domain.rewards import RewardRate
from core.ports.ledger import LedgerEntry, RateRecord
from core.use_cases.reward_rates import NewRewardRate
from entrypoints.http.schemas.wire import CurrencyCode, LanguageTag

# The largest integer every JSON client reads exactly (JavaScript's Number.MAX_SAFE_INTEGER),
# far above any rate; the OpenAPI document can state it exactly, unlike 2**63 - 1.
MAX_JSON_SAFE_INTEGER = min(MAX_AMOUNT_MINOR, 2**53 - 1)


class BalanceOut(msgspec.Struct, rename="camel"):
    """``available`` can be withdrawn; ``pending`` is inside the holding period; ``onHold`` is
    reserved for a payout in flight; ``lifetimeEarned`` is everything earned minus reversals."""

    currency: str
    available_minor: int
    pending_minor: int
    on_hold_minor: int
    lifetime_earned_minor: int

    @classmethod
    def of(cls, balance: MemberBalance) -> BalanceOut:
        return cls(
            currency=balance.currency,
            available_minor=balance.available.amount_minor,
            pending_minor=balance.pending.amount_minor,
            on_hold_minor=balance.on_hold.amount_minor,
            lifetime_earned_minor=balance.lifetime_earned.amount_minor,
        )


_REWARD_DESCRIPTIONS = {
    "clip_accepted": "your clip was accepted",
    "validation_agreed": "your validation agreed with the decision",
    "first_clip_bonus": "first clip bonus",
    "streak_bonus": "streak bonus",
}


def describe(entry: LedgerEntry) -> str:
    """What the entry was for, in plain words (the app may localise from ``kind``)."""
    reward = _REWARD_DESCRIPTIONS.get(entry.reward_kind or "", "a reward")
    kind = entry.transaction.kind
    if kind is TransactionKind.REWARD_EARNED:
        return f"Earned: {reward} (pending during the holding period)"
    if kind is TransactionKind.REWARD_RELEASED:
        return f"Released to your available balance: {reward}"
    if kind is TransactionKind.REWARD_REVERSED:
        return f"Reversed: {reward} (the clip was removed by moderation)"
    if kind is TransactionKind.PAYOUT_HELD:
        return "Payout requested: held until the transfer completes"
    if kind is TransactionKind.PAYOUT_SETTLED:
        return "Payout sent"
    if kind is TransactionKind.PAYOUT_REVERSED:
        return "Payout reversed by the provider: returned to your available balance"
    return "Payout failed: returned to your available balance"


class LedgerEntryOut(msgspec.Struct, rename="camel"):
    """One movement of the member's money: ``amountMinor`` moved from ``fromAccount`` to
    ``toAccount`` (``pending``, ``available``, ``payout_hold`` are the member's; the others the
    platform's). ``kind``: ``reward_earned`` | ``reward_released`` | ``reward_reversed`` |
    ``payout_held`` | ``payout_settled`` | ``payout_failed`` | ``payout_reversed``."""

    id: UUID
    kind: str
    amount_minor: int
    currency: str
    from_account: str
    to_account: str
    occurred_at: datetime
    description: str
    clip_id: UUID | None = None
    reward_kind: str | None = None
    closes: UUID | None = None

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryOut:
        tx = entry.transaction
        return cls(
            id=tx.id,
            kind=tx.kind.value,
            amount_minor=tx.amount.amount_minor,
            currency=tx.amount.currency,
            from_account=tx.debited.kind.value,
            to_account=tx.credited.kind.value,
            occurred_at=tx.occurred_at,
            description=describe(entry),
            clip_id=entry.clip_id,
            reward_kind=entry.reward_kind,
            closes=tx.closes,
        )


class HistoryPage(msgspec.Struct, rename="camel"):
    items: list[LedgerEntryOut]
    next_cursor: str | None


RewardKindName = Literal["clip_accepted", "validation_agreed", "first_clip_bonus", "streak_bonus"]


class RateIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """A new rate: ``amountMinor`` per action of ``kind``, in ``currency``, optionally for one
    ``language``; from ``validFrom`` (now if omitted; never in the past) until ``validTo``
    (exclusive, optional). Times need a UTC offset."""

    kind: RewardKindName
    amount_minor: Annotated[int, msgspec.Meta(gt=0, le=MAX_JSON_SAFE_INTEGER)]
    currency: CurrencyCode
    language: LanguageTag | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None

    def to_command(self) -> NewRewardRate:
        return NewRewardRate(
            kind=self.kind,
            amount_minor=self.amount_minor,
            currency=self.currency,
            language=self.language,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
        )


class RateInForceOut(msgspec.Struct, rename="camel"):
    """What a rate pays, for what and when (members see these in their pulls)."""

    id: UUID
    kind: str
    amount_minor: int
    currency: str
    language: str | None
    valid_from: datetime
    valid_to: datetime | None

    @classmethod
    def of_rate(cls, rate: RewardRate) -> RateInForceOut:
        return cls(**_rate_fields(rate))


class RateOut(RateInForceOut):
    """A rate as admins see it: also who added it and when."""

    created_by: UUID | None
    created_at: datetime

    @classmethod
    def of(cls, record: RateRecord) -> RateOut:
        return cls(
            **_rate_fields(record.rate),
            created_by=record.created_by,
            created_at=record.created_at,
        )


def _rate_fields(rate: RewardRate) -> dict[str, Any]:
    return {
        "id": rate.id,
        "kind": rate.kind.value,
        "amount_minor": rate.amount.amount_minor,
        "currency": rate.amount.currency,
        "language": rate.language,
        "valid_from": rate.valid_from,
        "valid_to": rate.valid_to,
    }


class RateList(msgspec.Struct, rename="camel"):
    """A page of reward rates; ``nextCursor`` is null on the last page."""

    items: list[RateOut]
    next_cursor: str | None
