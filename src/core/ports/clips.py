"""Storage of clips, votes, skips and validator statistics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.clips import Clip, ClipStatus, ClipTally
from core.domain.dawid_skene import CrowdModel
from core.domain.validation import VoteRecord, VoteTarget


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

    async def get_for_vote(self, clip_id: UUID, validator_id: UUID) -> VoteTarget | None:
        """The clip locked as ``get_for_update`` does, with its serving to ``validator_id``
        and whether its language has visible gold clips; ``None`` if there is no such clip."""
        ...

    async def by_client_id(self, contributor_id: UUID, client_id: UUID) -> Clip | None:
        """The contributor's clip uploaded with ``client_id``, or ``None``."""
        ...

    async def with_same_audio(self, clip: Clip, limit: int) -> Sequence[Clip]:
        """Up to ``limit`` other clips whose audio has ``clip``'s content hash, oldest first.
        Uploads of one audio are serialised (the lock is held until the unit of work ends),
        so of two identical uploads at once the second always sees the first."""
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

    async def save_shadow(
        self,
        clip_id: UUID,
        shadow: ClipTally,
        settled: tuple[ClipStatus, datetime] | None,
    ) -> None:
        """Store a gold clip's shadow counters (``shadow``'s counts; its status is not
        stored) and, when the shadow just settled, the status it settled on and when."""
        ...


class VoteRepository(Protocol):
    """Votes (the seed's ``validations``)."""

    async def add_if_absent(self, vote: VoteRecord) -> bool:
        """Insert ``vote`` unless the validator already voted on the clip; ``True`` if this
        call inserted it (race-safe: one vote per validator per clip)."""
        ...

    async def for_clip(
        self, clip_id: UUID, *, after: datetime | None = None
    ) -> Sequence[VoteRecord]:
        """Every vote on the clip (only those cast after ``after`` when given), oldest first."""
        ...


class ClipServings(Protocol):
    """Which clips were handed to which validator, and when: a vote counts only on a clip
    that was served to its validator."""

    async def record(self, validator_id: UUID, clip_ids: Sequence[UUID], at: datetime) -> None:
        """Remember that ``clip_ids`` were served to the validator at ``at``; a clip served
        before keeps its first serving time."""
        ...


class SkipRepository(Protocol):
    """Clips a validator chose not to judge (recorded, but not a vote)."""

    async def add(self, validator_id: UUID, clip_id: UUID, at: datetime) -> None:
        """Record a skip; skipping twice is the same as once."""
        ...


class ValidatorStatsRepository(Protocol):
    """Each validator's answer history, what the last refit decided for them, and the crowd
    model their standing is read against."""

    async def get(self, validator_id: UUID) -> ValidatorRecord:
        """The validator's record (empty for a newcomer)."""
        ...

    async def get_with_model(self, validator_id: UUID) -> tuple[ValidatorRecord, CrowdModel]:
        """The validator's record and the current crowd model, read together."""
        ...

    async def add(self, deltas: Mapping[UUID, ValidatorAccuracy]) -> None:
        """Add ``deltas`` to the validators' histories atomically (concurrent additions for
        one validator never lose an update)."""
        ...


class ClipQueue(Protocol):
    """Reads for the validation queue and offline batches; must not scan the clips table.

    Both leave out clips whose vote slots are all taken at ``now`` (counted votes, of a gold
    clip's current shadow round, plus reservations holding a slot reach ``vote_cap``) and
    clips the validator holds a reservation on (they are in the validator's batch)."""

    async def pending(
        self, validator_id: UUID, language: str, limit: int, *, now: datetime, vote_cap: int
    ) -> Sequence[Clip]:
        """Pending, visible, non-gold clips in ``language`` that are not the validator's own
        and that the validator has neither voted on nor skipped: closest to a decision
        first, then oldest."""
        ...

    async def gold(
        self,
        validator_id: UUID,
        language: str,
        limit: int,
        pivot: UUID,
        *,
        now: datetime,
        vote_cap: int,
    ) -> Sequence[Clip]:
        """Visible gold clips in ``language`` the validator has not answered or skipped,
        did not record, and was not served before the clip's shadow last settled (as a
        decided clip leaves queues), starting from ``pivot`` in id order (wrapping around),
        so that different requests see different gold clips."""
        ...
