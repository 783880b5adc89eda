"""Storage of clips, votes, skips and validator statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.accuracy import ValidatorAccuracy
from core.domain.clips import Clip, ClipTally
from core.domain.validation import VoteRecord


class ClipRepository(Protocol):
    """Voice clips, inside the current unit of work."""

    async def add_if_absent(self, clip: Clip) -> bool:
        """Insert ``clip`` unless the contributor already has one with its ``client_id``;
        ``True`` if this call inserted it (race-safe)."""
        ...

    async def get(self, clip_id: UUID) -> Clip | None:
        """The clip, or ``None``."""
        ...

    async def get_for_update(self, clip_id: UUID) -> Clip | None:
        """The clip, locked until the unit of work ends, so that votes on one clip are
        applied one after the other."""
        ...

    async def by_client_id(self, contributor_id: UUID, client_id: UUID) -> Clip | None:
        """The contributor's clip uploaded with ``client_id``, or ``None``."""
        ...

    async def list_by_contributor(
        self, contributor_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Clip]:
        """The contributor's clips, newest first, strictly before the ``before`` cursor."""
        ...

    async def save_tally(
        self, clip_id: UUID, tally: ClipTally, queue_rank: int, decided_at: datetime | None
    ) -> None:
        """Store a clip's new tally, queue rank and decision time."""
        ...


class VoteRepository(Protocol):
    """Votes (the seed's ``validations``)."""

    async def add_if_absent(self, vote: VoteRecord) -> bool:
        """Insert ``vote`` unless the validator already voted on the clip; ``True`` if this
        call inserted it (race-safe: one vote per validator per clip)."""
        ...

    async def for_clip(self, clip_id: UUID) -> Sequence[VoteRecord]:
        """Every vote on the clip, oldest first."""
        ...


class SkipRepository(Protocol):
    """Clips a validator chose not to judge (recorded, but not a vote)."""

    async def add(self, validator_id: UUID, clip_id: UUID, at: datetime) -> None:
        """Record a skip; skipping twice is the same as once."""
        ...


class ValidatorStatsRepository(Protocol):
    """The answer counters behind each validator's accuracy."""

    async def get(self, validator_id: UUID) -> ValidatorAccuracy:
        """The validator's counters (all zero for a newcomer)."""
        ...

    async def add(self, deltas: Mapping[UUID, ValidatorAccuracy]) -> None:
        """Add ``deltas`` to the validators' counters atomically (concurrent additions for
        one validator never lose an update)."""
        ...


class ClipQueue(Protocol):
    """Reads for the validation queue; must not scan the clips table."""

    async def pending(self, validator_id: UUID, language: str, limit: int) -> Sequence[Clip]:
        """Pending, visible, non-gold clips in ``language`` that are not the validator's own
        and that the validator has neither voted on nor skipped: closest to a decision
        first, then oldest."""
        ...

    async def gold(
        self, validator_id: UUID, language: str, limit: int, pivot: UUID
    ) -> Sequence[Clip]:
        """Visible gold clips in ``language`` the validator has not answered or skipped
        and did not record, starting from ``pivot`` in id order (wrapping around), so that
        different requests see different gold clips."""
        ...
