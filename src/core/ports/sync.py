"""Storage of offline sync: remembered operations, reservations of offline batches, and
the feed of changes a pull reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.reservations import ClipSlots, Reservation, ReservedSlots
from core.domain.sync_cursor import ChangePage, SyncCursor
from core.domain.sync_ops import OpClaim, OpOutcome, StoredOp


class SyncOpLog(Protocol):
    """Operations pushed by members, remembered by (member, op id), inside the current unit
    of work."""

    async def claim(self, member_id: UUID, claim: OpClaim) -> StoredOp | None:
        """Record the first sight of an operation; ``None`` if this call recorded it, else
        the operation as recorded before. Race-safe: of concurrent claims of one op exactly
        one gets ``None``; the others wait until that one's unit of work ends and then see
        its outcome (or, if it rolled back, claim it themselves)."""
        ...

    async def finish(self, member_id: UUID, op_id: UUID, outcome: OpOutcome) -> None:
        """Remember what applying the claimed operation did."""
        ...

    async def prune(self, *, received_before: datetime, limit: int) -> int:
        """Forget up to ``limit`` operations received before ``received_before``."""
        ...


class ReservationRepository(Protocol):
    """Reservations of offline batches and validators' listening clocks, inside the current
    unit of work. Reservations of a clip are written and read only while the clip is
    locked (``ClipRepository.get_for_vote`` or ``lock_for_batch``)."""

    async def for_vote(self, clip_id: UUID, validator_id: UUID, now: datetime) -> ReservedSlots:
        """The validator's reservation of the clip (in any state) and how many other
        validators hold one at ``now``; the clip is locked by the caller."""
        ...

    async def lock_listening_clock(self, validator_id: UUID) -> datetime | None:
        """The validator's listening clock (``None``: never set), locked until the unit of
        work ends so concurrent votes move it one after the other."""
        ...

    async def set_listening_clock(self, validator_id: UUID, until: datetime) -> None: ...

    async def mark_used(self, validator_id: UUID, clip_id: UUID, at: datetime) -> None:
        """The validator voted on the clip: the reservation no longer holds a slot."""
        ...

    async def holding_count(self, validator_id: UUID, now: datetime) -> int:
        """How many reservations the validator holds at ``now``."""
        ...

    async def lock_for_batch(
        self, clip_ids: Sequence[UUID], now: datetime
    ) -> Mapping[UUID, ClipSlots]:
        """Lock those of the clips that no other unit of work holds (never waiting: the
        others are left out) and say how their slots stand at ``now``."""
        ...

    async def add(self, reservations: Sequence[Reservation]) -> None:
        """Record reservations of clips locked by ``lock_for_batch`` (a validator's
        expired, unused reservation of the same clip is replaced) and push each clip's
        ``reserved_until`` to its latest expiry."""
        ...

    async def prune(self, *, expired_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` reservations that expired before ``expired_before``."""
        ...


class ChangeFeed(Protocol):
    """What changed for a member, read in one consistent snapshot per page."""

    async def page(
        self, member_id: UUID, cursor: SyncCursor, limit: int, *, currency: str, now: datetime
    ) -> ChangePage:
        """The next page after ``cursor``: at most ``limit`` list items (clips, then
        notifications) changed in the cursor's window, ordered by (xid, id) per list; on the
        first page of a window (``cursor.until`` unset) the window ends at a snapshot taken
        now, and the balance in ``currency`` and the rates in ``currency`` in force at
        ``now`` or later come with it when anything about them changed in the window."""
        ...
