"""Offline sync, pull side: the opaque cursor and the visibility windows it stands for.

Every row a pull can return carries the number of the transaction that last changed it
(``xid``; transactions are numbered when they first write, so numbers follow start order,
*not* commit order). A snapshot says which transactions had committed when it was taken:
all below ``xmin``, none from ``xmax`` on, and between them all but those in progress
(``xip``). A pull takes a snapshot ``until`` and returns the rows whose xid is visible in
``until`` but was not visible in the previous pull's snapshot ``since``. Snapshots only ever
gain transactions, and every commit becomes visible in some snapshot for the first time,
exactly once, whatever the commit order — so consecutive windows hand out every change
once, including a transaction that commits after a later one (it is still in ``xip`` of
the snapshot that saw the later one). docs/sync.md has the proof; a cursor of a plain
sequence or timestamp would skip that late commit.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from core.domain.clips import ClipStatus, Visibility
from core.domain.ledger import MemberBalance
from core.domain.member_notifications import Notification
from core.domain.rewards import RewardRate
from core.errors import InvalidInput

MAX_XID = 2**63 - 1
MAX_IN_PROGRESS = 100_000
MAX_CURSOR_LENGTH = 65_536
DEFAULT_PULL_PAGE = 100
MAX_PULL_PAGE = 500
_VERSION = "1"


@dataclass(frozen=True, slots=True)
class XidSnapshot:
    """Which transactions had committed when a snapshot was taken (PostgreSQL's
    ``pg_snapshot``: ``xmin:xmax:xip,…``)."""

    xmin: int
    xmax: int
    xip: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.xmin <= self.xmax <= MAX_XID:
            raise ValueError("need 1 ≤ xmin ≤ xmax")
        if len(self.xip) > MAX_IN_PROGRESS:
            raise ValueError("too many transactions in progress")
        previous = self.xmin - 1
        for xid in self.xip:
            if not previous < xid < self.xmax:
                raise ValueError("xip must rise strictly within [xmin, xmax)")
            previous = xid

    def visible(self, xid: int) -> bool:
        """Whether transaction ``xid`` had committed (or ended) when this was taken."""
        if xid < self.xmin:
            return True
        if xid >= self.xmax:
            return False
        return xid not in self.xip

    @property
    def text(self) -> str:
        return f"{self.xmin}:{self.xmax}:{','.join(str(x) for x in self.xip)}"

    @classmethod
    def parse(cls, text: str) -> XidSnapshot:
        xmin, xmax, xip = text.split(":")
        return cls(int(xmin), int(xmax), tuple(int(x) for x in xip.split(",") if x))


#: Before anything: every real transaction is invisible in it (rows written before offline
#: sync existed carry xid 1, visible in every real snapshot but this one).
ORIGIN = XidSnapshot(1, 1)


def in_window(since: XidSnapshot, until: XidSnapshot, xid: int) -> bool:
    """Whether a change by transaction ``xid`` belongs to the window (since, until]."""
    return until.visible(xid) and not since.visible(xid)


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Where a page of one window ended: in which list (``source``), after which row."""

    source: str
    xid: int
    item_id: UUID


@dataclass(frozen=True, slots=True)
class SyncCursor:
    """What the app hands back to pull the next changes. Between windows only ``since`` is
    set; while a window is being paged, ``until`` and ``position`` say which window and
    where the last page ended."""

    since: XidSnapshot = ORIGIN
    until: XidSnapshot | None = None
    position: FeedPosition | None = None

    @property
    def is_first_page(self) -> bool:
        return self.until is None

    def next_window(self, until: XidSnapshot) -> SyncCursor:
        """The cursor after the last page of the window ending at ``until``."""
        return SyncCursor(since=until)

    def next_page(self, until: XidSnapshot, position: FeedPosition) -> SyncCursor:
        return SyncCursor(since=self.since, until=until, position=position)

    def encode(self) -> str:
        data: dict[str, Any] = {"v": _VERSION, "s": self.since.text}
        if self.until is not None:
            data["u"] = self.until.text
        if self.position is not None:
            data["p"] = [self.position.source, self.position.xid, str(self.position.item_id)]
        raw = zlib.compress(json.dumps(data, separators=(",", ":")).encode())
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> SyncCursor:
        """The cursor in ``text``; ``InvalidInput`` (``invalid_cursor``) for anything this
        code did not make."""
        try:
            if len(text) > MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            raw = zlib.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("v") != _VERSION:
                raise ValueError("unknown version")
            since = XidSnapshot.parse(data["s"])
            until = XidSnapshot.parse(data["u"]) if "u" in data else None
            position = _position(data.get("p"))
            if (until is None) != (position is None):
                raise ValueError("a position needs its window")
            return cls(since, until, position)
        except (ValueError, KeyError, TypeError, binascii.Error, zlib.error, AttributeError):
            raise InvalidInput(
                "The cursor is not valid; use the cursor of a previous pull, or none.",
                code="invalid_cursor",
                field="cursor",
            ) from None


def _position(raw: object) -> FeedPosition | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) != 3:
        raise ValueError("bad position")
    source, xid, item_id = raw
    if not isinstance(source, str) or not isinstance(xid, int) or not 0 <= xid <= MAX_XID:
        raise ValueError("bad position")
    return FeedPosition(source, xid, UUID(item_id))


@dataclass(frozen=True, slots=True)
class ClipChange:
    """One of the member's own clips as it stands now (status, moderation, decision)."""

    id: UUID
    client_id: UUID
    language: str
    status: ClipStatus
    visibility: Visibility
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """One page of a pull. List items replace the app's copy of the same id; ``balance``
    and ``reward_rates`` are ``None`` when unchanged since the cursor, else the whole current
    value (the rates: every rate in force now or later, in the reward currency). They come
    on the first page of a window. ``has_more``: pull again at once with ``cursor``.

    Adding a kind of change (badges, when they land): give its table an ``xid8`` column the
    way migration 0010_sync does, add a source to the feed adapter and a field here."""

    cursor: SyncCursor
    has_more: bool
    clips: Sequence[ClipChange] = ()
    notifications: Sequence[Notification] = ()
    balance: MemberBalance | None = None
    reward_rates: Sequence[RewardRate] | None = None
