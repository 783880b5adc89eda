"""In-memory fake of the remembered sync operations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from core.domain.sync_ops import OpClaim, OpOutcome, OpStatus, StoredOp

_CLAIMED = OpOutcome(OpStatus.REJECTED, {"code": "claimed"})  # never seen after a commit


@dataclass
class SyncState:
    ops: dict[tuple[uuid.UUID, uuid.UUID], StoredOp] = field(default_factory=dict)

    def copy(self) -> SyncState:
        return SyncState(dict(self.ops))


class FakeSyncOpLog:
    """Keeps the promises of ``PostgresSyncOpLog`` for one event loop: a claim is visible to
    other units of work only once committed."""

    def __init__(self, state: SyncState) -> None:
        self._state = state

    async def claim(self, member_id: uuid.UUID, claim: OpClaim) -> StoredOp | None:
        key = (member_id, claim.op_id)
        if key in self._state.ops:
            return self._state.ops[key]
        self._state.ops[key] = StoredOp(
            claim.op_id, claim.type, claim.fingerprint, _CLAIMED, claim.received_at
        )
        return None

    async def finish(self, member_id: uuid.UUID, op_id: uuid.UUID, outcome: OpOutcome) -> None:
        key = (member_id, op_id)
        self._state.ops[key] = replace(self._state.ops[key], outcome=outcome)

    async def prune(self, *, received_before: datetime, limit: int) -> int:
        old = [k for k, op in self._state.ops.items() if op.received_at < received_before]
        for key in old[:limit]:
            del self._state.ops[key]
        return min(len(old), limit)
