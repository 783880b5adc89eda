"""Fraud defences: the daily earnings cap, and the signals that put a member's activity in
front of moderators (repeated identical audio, bursts of uploads or votes).

Rules:
- a member earns at most ``cap`` minor units per UTC day in a currency; an earning that would
  take the day's total past the cap is not paid at all (all or nothing per earning, so a
  replayed decision never posts a different amount under the same reference). The vote
  behind it still counts for consensus and for accuracy;
- more uploads or votes in the last hour than the configured rate is a burst: the member's
  profile is flagged for review (one open flag per reason);
- a clip whose audio is byte-for-byte the audio of an earlier clip (same SHA-256), from the
  same member or another, is flagged for review;
- each signal is stored for ``chorus moderation standing``, counted in a metric and logged,
  with ids only (no personal data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from core.domain.money import Money
from core.errors import InvalidInput

#: Defaults per currency (minor units per member per UTC day): ₦20,000, GH₵800, KSh 8,000,
#: R2,000, $200 — two fifths of the default daily payout caps.
DEFAULT_DAILY_EARNINGS_CAPS: Mapping[str, int] = MappingProxyType(
    {"NGN": 2_000_000, "GHS": 80_000, "KES": 800_000, "ZAR": 200_000, "USD": 20_000}
)
DEFAULT_UPLOADS_PER_HOUR = 120
DEFAULT_VOTES_PER_HOUR = 600


class SignalKind(StrEnum):
    EARNINGS_CAP = "earnings_cap"
    REPEATED_AUDIO = "repeated_audio"
    UPLOAD_BURST = "upload_burst"
    VOTE_BURST = "vote_burst"


@dataclass(frozen=True, slots=True)
class FraudSignal:
    """One observation worth a moderator's look. ``detail`` holds ids and counts only."""

    id: UUID
    profile_id: UUID
    kind: SignalKind
    created_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FraudRules:
    """The hourly rates past which activity is a burst (0: never). The daily earnings cap
    is a reward rule (``RewardRules.daily_cap_minor``), applied where rewards are posted."""

    uploads_per_hour: int = DEFAULT_UPLOADS_PER_HOUR
    votes_per_hour: int = DEFAULT_VOTES_PER_HOUR

    def __post_init__(self) -> None:
        if self.uploads_per_hour < 0 or self.votes_per_hour < 0:
            raise InvalidInput("A burst rate cannot be negative.", code="invalid_config")


def earning_day(instant: datetime) -> date:
    """The UTC day an earning counts toward."""
    return instant.astimezone(UTC).date()


class Payable(Protocol):
    """Anything with a member and an amount (an ``Earning``)."""

    @property
    def profile_id(self) -> UUID: ...

    @property
    def amount(self) -> Money: ...


E = TypeVar("E", bound=Payable)


@dataclass(frozen=True, slots=True)
class CapSplit(Generic[E]):
    """Earnings paid and withheld by the daily cap, each in the order given."""

    paid: tuple[E, ...]
    withheld: tuple[E, ...]


def split_by_daily_cap(
    earnings: Sequence[E], earned_today: Mapping[UUID, int], cap: Money | None
) -> CapSplit[E]:
    """Which earnings fit under the cap, given what each member earned earlier today (minor
    units in the cap's currency). Earnings are taken in order; one that would take its
    member's day past the cap is withheld whole, a later smaller one may still fit."""
    if cap is None:
        return CapSplit(tuple(earnings), ())
    totals = dict(earned_today)
    paid: list[E] = []
    withheld: list[E] = []
    for earning in earnings:
        if earning.amount.currency != cap.currency:
            raise InvalidInput("The cap and the earning differ in currency.", code="currency")
        so_far = totals.get(earning.profile_id, 0)
        if so_far + earning.amount.amount_minor <= cap.amount_minor:
            totals[earning.profile_id] = so_far + earning.amount.amount_minor
            paid.append(earning)
        else:
            withheld.append(earning)
    return CapSplit(tuple(paid), tuple(withheld))


def totals_by_member(earnings: Iterable[Payable]) -> dict[UUID, int]:
    """Minor units per member."""
    totals: dict[UUID, int] = {}
    for earning in earnings:
        totals[earning.profile_id] = totals.get(earning.profile_id, 0) + earning.amount.amount_minor
    return totals


def audio_fingerprint(audio: bytes) -> str:
    """The content hash stored with a clip: hex SHA-256 of the uploaded bytes."""
    return hashlib.sha256(audio).hexdigest()


@dataclass(frozen=True, slots=True)
class Burst:
    """A member whose activity of one kind in the last hour passed the rate."""

    profile_id: UUID
    count: int
