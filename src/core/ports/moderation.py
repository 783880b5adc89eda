"""Storage of moderation: what can be flagged, flags, open cases, the audit log, fraud
signals, the daily earnings cap's totals and the reads that find bursts of activity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from core.domain.fraud import Burst, FraudSignal
from core.domain.moderation import Decision, Flag, FlagReason, FlagStatus, Target, TargetRef
from core.domain.visibility import Visibility


class ModerationTargets(Protocol):
    """Clips, chat messages, streams and profiles as moderation sees them."""

    async def lock(self, ref: TargetRef) -> Target | None:
        """The target, locked until the unit of work ends — so that flags and decisions on one
        target happen one after another — or ``None`` when there is no such thing."""
        ...

    async def set_visibility(self, ref: TargetRef, visibility: Visibility) -> None:
        """Show, hide or remove the target (the queue and listings then follow)."""
        ...


class FlagRepository(Protocol):
    """Flags, inside the current unit of work."""

    async def add(self, flag: Flag, owner_id: UUID) -> bool:
        """Store a new open flag on a target owned by ``owner_id``; ``False`` (nothing
        written) when the reporter already has an open flag on it — or, for an automatic
        flag, when one with the same reason is open. Race-safe."""
        ...

    async def counting_reporters(self, target: TargetRef) -> int:
        """How many distinct reporters have an open flag on the target that counts."""
        ...

    async def settle(self, target: TargetRef, status: FlagStatus, at: datetime) -> int:
        """The target's open flags become ``status``; returns how many."""
        ...

    async def reasons_for(
        self, targets: Sequence[TargetRef]
    ) -> Mapping[TargetRef, Mapping[FlagReason, int]]:
        """How many flags (any status) each target received, per reason (one round trip)."""
        ...

    async def against_member(self, owner_id: UUID) -> Mapping[FlagStatus, Mapping[FlagReason, int]]:
        """Flags on the member's content and profile, per status and reason."""
        ...

    async def raised_by(self, reporter_id: UUID) -> Mapping[FlagStatus, int]:
        """The member's own flags, per status (how often their reports were upheld)."""
        ...


@dataclass(frozen=True, slots=True)
class Case:
    """A target under review. ``auto_hidden``: hidden because flags reached the threshold."""

    id: UUID
    target: TargetRef
    owner_id: UUID
    is_open: bool
    opened_at: datetime
    auto_hidden: bool = False


@dataclass(frozen=True, slots=True)
class QueueItem:
    """An open case as moderators see it: the target now, its open flags (how many, how many
    distinct reporters count, per reason) and the latest notes."""

    case: Case
    visibility: Visibility
    preview: str
    open_flags: int
    counting_reporters: int
    reasons: Mapping[FlagReason, int]
    notes: tuple[str, ...] = ()


class ModerationCases(Protocol):
    """Targets under review (the moderators' queue)."""

    async def open(self, target: Target, at: datetime, case_id: UUID) -> Case:
        """Open the target's case (``case_id`` when there was none; a closed one reopens,
        from ``at``), or return it as it is when already open."""
        ...

    async def get(self, target: TargetRef) -> Case | None: ...

    async def mark_auto_hidden(self, target: TargetRef) -> None:
        """Remember that the flag threshold hid the target."""
        ...

    async def close(self, target: Target, at: datetime, case_id: UUID) -> None:
        """Close the target's case after a decision (creating it closed when a moderator
        decided without any flag); it is no longer auto-hidden."""
        ...

    async def queue(
        self, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[QueueItem]:
        """Open cases, oldest first (by opening time, then id), strictly after ``after``."""
        ...


class DecisionLog(Protocol):
    """The append-only audit log of decisions. Entries are never changed or deleted."""

    async def append(self, decision: Decision) -> None: ...

    async def page(
        self,
        *,
        before: tuple[datetime, UUID] | None,
        limit: int,
        target: TargetRef | None = None,
        member_id: UUID | None = None,
    ) -> Sequence[Decision]:
        """Newest first, optionally about one target or one member (as owner)."""
        ...

    async def latest_for(self, targets: Sequence[TargetRef]) -> Mapping[TargetRef, Decision]:
        """The latest decision about each target that has one (one round trip)."""
        ...


class FraudSignalRepository(Protocol):
    async def add(self, signal: FraudSignal) -> None: ...

    async def for_member(self, profile_id: UUID, limit: int) -> Sequence[FraudSignal]:
        """The member's latest signals, newest first."""
        ...


@dataclass(frozen=True, slots=True)
class CapDay:
    """What the daily cap withheld from a member on one day."""

    day: date
    currency: str
    earned_minor: int
    withheld_minor: int


class DailyEarnings(Protocol):
    """Each member's earnings per UTC day and currency, the daily cap's running total."""

    async def lock(
        self, day: date, currency: str, members: Sequence[UUID]
    ) -> Mapping[UUID, CapDay]:
        """What each member earned and had withheld that day (zeros if nothing yet), their
        rows locked until the unit of work ends: two decisions paying one member queue here,
        so both cannot pass the cap. Rows are locked in member-id order (no deadlocks)."""
        ...

    async def add(
        self,
        day: date,
        currency: str,
        *,
        paid: Mapping[UUID, int],
        withheld: Mapping[UUID, int],
    ) -> None:
        """Add what was paid and withheld (minor units) to the members' day rows (locked
        by ``lock`` first)."""
        ...

    async def withheld_days(self, profile_id: UUID, limit: int) -> Sequence[CapDay]:
        """The member's latest days on which the cap withheld something, newest first."""
        ...


@dataclass(frozen=True, slots=True)
class ActivityWindow:
    since: datetime
    more_than: int


class ActivityScan(Protocol):
    """Reads for burst detection. They must not scan whole tables: activity is found by
    time (PostgreSQL: BRIN indexes on the creation times)."""

    async def heavy_uploaders(self, window: ActivityWindow) -> Sequence[Burst]:
        """Members who uploaded more than ``window.more_than`` clips since ``window.since``."""
        ...

    async def heavy_voters(self, window: ActivityWindow) -> Sequence[Burst]:
        """Members who voted more than ``window.more_than`` times since ``window.since``."""
        ...
