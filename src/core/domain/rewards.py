"""Reward rates, what a clip decision earns, and when earnings are released or reversed.

Rules:
- a rate pays a positive amount for one action kind in one currency, optionally for one
  language, from ``valid_from`` (inclusive) until ``valid_to`` (exclusive, optional);
- rates are never edited: a new rate takes effect from a date no earlier than its creation,
  and the rate in force when the clip is decided applies — a language-specific rate beats a
  generic one, then the latest ``valid_from`` wins;
- when a clip is decided, the contributor earns ``clip_accepted`` if it was accepted; each
  validator whose verdict matched the decision earns ``validation_agreed``, unless the vote
  was late or the validator is on probation; no rate in force means no earning;
- earnings stay pending for a holding period (default 72 h); if the clip is removed
  meanwhile, its still-pending earnings are reversed, released ones are not.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from core.domain.clips import VoteOutcome
from core.domain.identity import normalise_language
from core.domain.ledger import JournalTransaction, TransactionKind
from core.domain.money import Money, normalise_currency
from core.domain.validation import VoteRecord
from core.errors import Conflict, InvalidInput

DEFAULT_HOLDING_PERIOD = timedelta(hours=72)


class RewardKind(StrEnum):
    CLIP_ACCEPTED = "clip_accepted"
    VALIDATION_AGREED = "validation_agreed"
    FIRST_CLIP_BONUS = "first_clip_bonus"
    STREAK_BONUS = "streak_bonus"


class Decision(StrEnum):
    """How consensus (or a moderator) decided a clip."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: The vote verdict that agrees with each decision.
AGREEING_VERDICT = {Decision.ACCEPTED: "valid", Decision.REJECTED: "invalid"}


class InvalidRewardRate(InvalidInput):
    """The rate breaks a rule about amounts or dates."""

    code = "invalid_reward_rate"


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None:
        raise InvalidInput(f"{name} must be timezone-aware.", code="naive_datetime")


# -- rates ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RewardRate:
    """What one action kind pays, in one currency, optionally for one language only."""

    id: UUID
    kind: RewardKind
    amount: Money
    valid_from: datetime
    valid_to: datetime | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        if not self.amount.is_positive:
            raise InvalidRewardRate("A reward rate must be positive.", code="non_positive_rate")
        _require_aware(self.valid_from, "valid_from")
        if self.valid_to is not None:
            _require_aware(self.valid_to, "valid_to")
            if self.valid_to <= self.valid_from:
                raise InvalidRewardRate(
                    "valid_to must be after valid_from.", code="invalid_rate_period"
                )
        if self.language is not None:
            object.__setattr__(self, "language", normalise_language(self.language))

    def in_force_at(self, instant: datetime) -> bool:
        return self.valid_from <= instant and (self.valid_to is None or instant < self.valid_to)

    def applies_to(self, kind: RewardKind, currency: str, language: str) -> bool:
        """Same kind and currency, and either generic or for exactly this language."""
        return (
            self.kind is kind
            and self.amount.currency == currency
            and self.language in (None, language)
        )


def select_rate(
    rates: Iterable[RewardRate],
    *,
    kind: RewardKind,
    currency: str,
    language: str,
    at: datetime,
) -> RewardRate | None:
    """The rate in force at ``at``: language-specific before generic, then the latest
    ``valid_from`` (then the highest id, so the choice never depends on order)."""
    _require_aware(at, "at")
    currency = normalise_currency(currency)
    language = normalise_language(language)
    candidates = [
        rate for rate in rates if rate.applies_to(kind, currency, language) and rate.in_force_at(at)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r.language is not None, r.valid_from, r.id.int))


def check_new_rate(new: RewardRate, existing: Iterable[RewardRate], now: datetime) -> None:
    """Rates are never edited, so a new one may not start in the past (that would change which
    rate applied to decisions already made), nor start at the same instant as an existing
    rate for the same kind, currency and language."""
    if new.valid_from < now:
        raise InvalidRewardRate("A new rate cannot start in the past.", code="rate_in_past")
    for rate in existing:
        if (rate.kind, rate.amount.currency, rate.language, rate.valid_from) == (
            new.kind,
            new.amount.currency,
            new.language,
            new.valid_from,
        ):
            raise Conflict(
                "A rate for this kind, currency and language already starts then.",
                code="rate_exists",
                rate_id=str(rate.id),
            )


# -- what a decision earns -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ValidatorVote:
    """A validator's vote on the decided clip: ``verdict`` is ``"valid"`` or ``"invalid"``."""

    validator_id: UUID
    verdict: str
    late: bool = False
    on_probation: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in AGREEING_VERDICT.values():
            raise InvalidInput(f"{self.verdict!r} is not a vote.", code="invalid_verdict")


@dataclass(frozen=True, slots=True)
class Earning:
    """One reward to record: ``amount`` for ``profile_id``, paid by the rate ``rate_id``."""

    profile_id: UUID
    kind: RewardKind
    amount: Money
    rate_id: UUID


def calculate_rewards(
    *,
    decision: str,
    contributor_id: UUID,
    votes: Iterable[ValidatorVote],
    currency: str,
    language: str,
    decided_at: datetime,
    rates: Iterable[RewardRate],
) -> tuple[Earning, ...]:
    """The earnings of a clip decision: the contributor's first (if any), then validators'
    in id order, so the result does not depend on the order of ``votes``."""
    try:
        outcome = Decision(decision)
    except ValueError:
        raise InvalidInput(f"{decision!r} is not a decision.", code="invalid_decision") from None
    rates = tuple(rates)
    votes = tuple(votes)
    voter_ids = [vote.validator_id for vote in votes]
    if len(set(voter_ids)) != len(voter_ids):
        raise InvalidInput("One vote per validator per clip.", code="duplicate_vote")
    if contributor_id in voter_ids:
        raise InvalidInput("Nobody votes on their own clip.", code="own_clip_vote")

    def earning(profile_id: UUID, kind: RewardKind) -> Earning | None:
        rate = select_rate(rates, kind=kind, currency=currency, language=language, at=decided_at)
        return None if rate is None else Earning(profile_id, kind, rate.amount, rate.id)

    candidates: list[Earning | None] = []
    if outcome is Decision.ACCEPTED:
        candidates.append(earning(contributor_id, RewardKind.CLIP_ACCEPTED))
    agreeing = sorted(
        vote.validator_id
        for vote in votes
        if vote.verdict == AGREEING_VERDICT[outcome] and not vote.late and not vote.on_probation
    )
    candidates.extend(earning(v, RewardKind.VALIDATION_AGREED) for v in agreeing)
    return tuple(e for e in candidates if e is not None)


# -- holding period and reversal -----------------------------------------------------------


def release_at(earned_at: datetime, holding: timedelta = DEFAULT_HOLDING_PERIOD) -> datetime:
    """When an earning moves from pending to available."""
    return earned_at + holding


def release_due(
    earned_at: datetime, now: datetime, holding: timedelta = DEFAULT_HOLDING_PERIOD
) -> bool:
    """Whether the holding period is over (exactly at its end counts as over)."""
    return now >= release_at(earned_at, holding)


def earnings_due_for_release(
    transactions: Iterable[JournalTransaction],
    *,
    closed: Container[UUID],
    now: datetime,
    holding: timedelta = DEFAULT_HOLDING_PERIOD,
) -> tuple[JournalTransaction, ...]:
    """Earnings past their holding period and neither released nor reversed yet."""
    return tuple(
        tx
        for tx in _open_earnings(transactions, closed)
        if release_due(tx.occurred_at, now, holding)
    )


def earnings_to_reverse(
    clip_transactions: Iterable[JournalTransaction], *, closed: Container[UUID]
) -> tuple[JournalTransaction, ...]:
    """A removed clip's earnings still pending (released ones stay with the member)."""
    return _open_earnings(clip_transactions, closed)


def _open_earnings(
    transactions: Iterable[JournalTransaction], closed: Container[UUID]
) -> tuple[JournalTransaction, ...]:
    return tuple(
        tx
        for tx in transactions
        if tx.kind is TransactionKind.REWARD_EARNED and tx.id not in closed
    )


# -- configuration and votes as stored ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RewardRules:
    """What is configurable about rewards: the currency decisions pay in (rates in other
    currencies are not used), how long earnings stay pending, and the most a member earns
    per UTC day in that currency (``None``: no cap; see ``core.domain.fraud``)."""

    currency: str = "NGN"
    holding: timedelta = DEFAULT_HOLDING_PERIOD
    daily_cap_minor: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", normalise_currency(self.currency))
        if self.holding < timedelta(0):
            raise InvalidInput("The holding period cannot be negative.", code="invalid_config")
        if self.daily_cap_minor is not None and self.daily_cap_minor <= 0:
            raise InvalidInput("The daily earnings cap must be positive.", code="invalid_config")

    @property
    def daily_cap(self) -> Money | None:
        return None if self.daily_cap_minor is None else Money(self.daily_cap_minor, self.currency)


def votes_that_may_earn(votes: Iterable[VoteRecord]) -> tuple[ValidatorVote, ...]:
    """Only votes that counted toward consensus may earn: not late, unsolicited or rushed
    ones, not those of a validator on probation, not weightless ones."""
    return tuple(
        ValidatorVote(vote.validator_id, vote.verdict.value, on_probation=vote.on_probation)
        for vote in votes
        if vote.outcome is VoteOutcome.COUNTED
    )


def gold_answers_that_may_earn(votes: Iterable[VoteRecord]) -> tuple[ValidatorVote, ...]:
    """Gold answers earn like counted votes when their clip's shadow round settles (so that a
    gold clip pays like any other and cannot be told apart by a balance)."""
    return tuple(
        ValidatorVote(vote.validator_id, vote.verdict.value, on_probation=vote.on_probation)
        for vote in votes
        if vote.outcome is VoteOutcome.GOLD
    )
