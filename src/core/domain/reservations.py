"""Offline validation batches: clips reserved for one validator for a while, the vote slots
those reservations hold, and the listening clock that keeps batch votes honest.

Rules (docs/sync.md, docs/consensus.md "Offline batches"):

- A clip has ``vote_cap`` slots (a gold clip's shadow too, per round). Counted votes take
  slots; so does every *holding* reservation (not used, not expired). A batch reserves a
  clip only while a slot is free, and a vote without a reservation counts only while a slot
  is free (else it is ``crowded_out``): counted votes + holding reservations never exceed
  the cap, so a decision plus the reserved votes that come after it never pay more
  validators than the cap.
- A vote within its reservation always finds its slot: on a pending clip it counts like
  any vote; on a clip settled meanwhile it is ``late_reserved`` and earns if it agrees.
- Served time: a batch is served when the server hands it out. Its clips are heard one
  after the other, so votes within reservations draw on one listening clock per validator:
  each moves it to max(clock, reserved_at) + ``min_listen_fraction`` × duration, and a vote
  arriving before the clock it would set is ``too_fast``. A phone that listened offline and
  pushes its votes later (in the order it made them) is never too fast; one that pushes 100
  votes a second after downloading a batch is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from core.errors import InvalidInput

MAX_BATCH_SIZE = 100
DEFAULT_RESERVATION_TTL = timedelta(hours=24)
DEFAULT_MAX_RESERVED = 200


@dataclass(frozen=True, slots=True)
class OfflineRules:
    """How long a batch's reservations hold, and how many clips one validator may hold
    reserved at once (a bound on slots kept from everyone else)."""

    reservation_ttl: timedelta = DEFAULT_RESERVATION_TTL
    max_reserved: int = DEFAULT_MAX_RESERVED

    def __post_init__(self) -> None:
        if self.reservation_ttl <= timedelta(0):
            raise InvalidInput("Reservations must last a while.", code="invalid_config")
        if self.max_reserved < 1:
            raise InvalidInput("max_reserved must be ≥ 1.", code="invalid_config")


@dataclass(frozen=True, slots=True)
class Reservation:
    """A clip handed to ``validator_id`` in offline batch ``batch_id``, keeping one of the
    clip's vote slots until ``expires_at`` or until the validator votes on it."""

    validator_id: UUID
    clip_id: UUID
    batch_id: UUID
    reserved_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def holds_at(self, now: datetime) -> bool:
        """Unused and not expired: it keeps its slot, and a vote now is within it."""
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class ReservedSlots:
    """What one vote sees of a clip's reservations: the voter's own (any state) and how
    many holding reservations other validators have."""

    own: Reservation | None = None
    others: int = 0

    def own_holding(self, now: datetime) -> Reservation | None:
        return self.own if self.own is not None and self.own.holds_at(now) else None


NO_RESERVATIONS = ReservedSlots()


def has_free_slot(counted_votes: int, holding_reservations: int, vote_cap: int) -> bool:
    """Whether one more vote (or reservation) fits under the cap."""
    return counted_votes + holding_reservations < vote_cap


@dataclass(frozen=True, slots=True)
class ClipSlots:
    """A clip as a batch finds it once locked: may it be reserved, and how many slots are
    taken (counted votes of the clip, or of a gold clip's current shadow round, plus
    holding reservations)."""

    clip_id: UUID
    servable: bool  # visible, and pending or gold
    counted_votes: int
    holding_reservations: int

    def may_reserve(self, vote_cap: int) -> bool:
        return self.servable and has_free_slot(
            self.counted_votes, self.holding_reservations, vote_cap
        )


def listened_until(
    clock: datetime | None, reserved_at: datetime, duration_ms: int, min_listen_fraction: float
) -> datetime:
    """The listening clock after one more reserved clip was heard: clips are heard one after
    the other, none before its batch was handed out."""
    start = reserved_at if clock is None else max(clock, reserved_at)
    return start + timedelta(milliseconds=duration_ms * min_listen_fraction)
