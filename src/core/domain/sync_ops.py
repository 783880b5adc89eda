"""Offline sync, push side: the operations a phone recorded offline, what applying each one
did, and what is remembered so that each is applied exactly once (docs/sync.md).

Rules:
- an operation is identified by its member and ``op_id`` (a UUID the app made); the first
  time it is seen it is applied or rejected and that outcome is remembered (at least
  ``MIN_OP_RETENTION``); seen again with the same type and payload it is a ``duplicate``
  answered with the remembered outcome; seen again with another type or payload the id was
  reused, which is refused (``op_id_reused``) and changes nothing;
- ``occurred_at`` (when the phone says it happened) is recorded for operators and
  analytics only — never used for money, ordering or any rule; a value in the future is
  clamped to the time the server received it;
- an unknown type is refused (``unsupported_op``) and *not* remembered, so the same
  operation can be applied once the server supports its type (an app newer than its
  server);
- a server fault while applying one (not a rule refusing it) remembers nothing: the result
  is ``failed`` and the app sends the same operation again later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

MAX_OPS_PER_PUSH = 500
MIN_OP_RETENTION = timedelta(days=30)
MAX_DEVICE_ID_LENGTH = 200

#: Operation types the app sends. Each is registered with a handler by the composition root
#: (``entrypoints/http/sync_ops.py``).
VALIDATION_SUBMIT = "validation.submit"
CLIP_SKIP = "clip.skip"
FLAG_CREATE = "flag.create"
NOTIFICATION_READ = "notification.read"
PROFILE_UPDATE = "profile.update"


class OpStatus(StrEnum):
    """What happened to one pushed operation."""

    APPLIED = "applied"  # applied now
    REJECTED = "rejected"  # refused now, with the problem the online endpoint gives
    DUPLICATE = "duplicate"  # seen before: ``original`` and the remembered body
    FAILED = "failed"  # a server fault; nothing remembered, send it again later


@dataclass(frozen=True, slots=True)
class SyncOp:
    """One operation as the phone recorded it. ``payload`` is the JSON body the online
    endpoint takes (for ``validation.submit`` the body of ``POST /monetization/validate``),
    as sent: its handler checks it as the endpoint would."""

    op_id: UUID
    type: str
    payload: Any
    occurred_at: datetime | None = None

    def fingerprint(self) -> str:
        """What makes a replay a replay: the type and payload, canonically serialised."""
        canonical = json.dumps(
            {"type": self.type, "payload": self.payload},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OpOutcome:
    """What applying an operation did, as remembered: ``applied`` with the use case's result
    or ``rejected`` with the problem (``code``, ``status``, ``detail``)."""

    status: OpStatus
    body: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.status not in (OpStatus.APPLIED, OpStatus.REJECTED):
            raise ValueError("only applied and rejected outcomes are remembered")


@dataclass(frozen=True, slots=True)
class OpClaim:
    """The first sight of an operation, recorded before it is applied."""

    op_id: UUID
    device_id: str
    type: str
    fingerprint: str
    occurred_at: datetime | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class StoredOp:
    """An operation seen before, and what applying it did."""

    op_id: UUID
    type: str
    fingerprint: str
    outcome: OpOutcome
    received_at: datetime


@dataclass(frozen=True, slots=True)
class OpResult:
    """The answer for one pushed operation, in the order pushed. ``body`` is the result
    (applied) or the problem (rejected, failed); a duplicate carries the remembered body and
    its ``original`` status."""

    op_id: UUID
    status: OpStatus
    body: Mapping[str, Any]
    original: OpStatus | None = None

    @classmethod
    def of_stored(cls, stored: StoredOp) -> OpResult:
        return cls(stored.op_id, OpStatus.DUPLICATE, stored.outcome.body, stored.outcome.status)


@dataclass(frozen=True, slots=True)
class ClampedTime:
    """An ``occurredAt`` in the future, and what was recorded instead (for the log)."""

    op_id: UUID
    sent: datetime
    recorded: datetime


def recorded_occurrence(sent: datetime | None, received_at: datetime) -> datetime | None:
    """``occurredAt`` as recorded: the phone's value, but never later than reception."""
    if sent is None:
        return None
    return min(sent, received_at)
