"""Use cases of offline sync: push recorded operations, reserve an offline batch, pull what
changed, forget what is no longer needed (docs/sync.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from core.domain.clips import Clip
from core.domain.identity import Principal, ensure_may_read, ensure_may_write, normalise_language
from core.domain.reservations import MAX_BATCH_SIZE, OfflineRules, Reservation
from core.domain.rewards import RewardRules
from core.domain.sync_cursor import MAX_PULL_PAGE, ChangePage, SyncCursor
from core.domain.sync_ops import (
    MAX_OPS_PER_PUSH,
    MIN_OP_RETENTION,
    ClampedTime,
    OpClaim,
    OpOutcome,
    OpResult,
    OpStatus,
    SyncOp,
    recorded_occurrence,
)
from core.domain.validation import ValidationRules
from core.errors import Conflict, DomainError, InvalidInput, StorageUnavailable
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.randomness import RandomSource
from core.ports.sync import ChangeFeed
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.validation import clips_to_serve

# -- push ----------------------------------------------------------------------------------


class OpHandler(Protocol):
    """Applies one type of operation by calling the use case of its online endpoint, in the
    unit of work it is given. Returns the JSON result the endpoint would answer; raises the
    ``DomainError`` the endpoint would answer with (a malformed payload included)."""

    async def __call__(
        self, principal: Principal, payload: Any, uow_factory: Callable[[], UnitOfWork]
    ) -> Mapping[str, Any]: ...


class OpHandlers:
    """Which handler applies which operation type. Adding a type is one ``register`` call
    in the composition root."""

    def __init__(self) -> None:
        self._handlers: dict[str, OpHandler] = {}

    def register(self, op_type: str, handler: OpHandler) -> None:
        if op_type in self._handlers:
            raise ValueError(f"operation type {op_type!r} is already registered")
        self._handlers[op_type] = handler

    def get(self, op_type: str) -> OpHandler | None:
        return self._handlers.get(op_type)

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self._handlers)


ProblemOf = Callable[[BaseException], Mapping[str, Any]]
"""The problem an error gives on the wire (``code``, ``status``, ``detail``): the HTTP edge
knows statuses, core does not."""


@dataclass(frozen=True, slots=True)
class PushReport:
    """One result per pushed operation, in order, and the ``occurredAt`` values that were in
    the future (clamped; the caller logs them)."""

    results: Sequence[OpResult]
    clamped: Sequence[ClampedTime] = ()


@dataclass(frozen=True, slots=True)
class PushOps:
    """Apply operations a phone recorded offline, each exactly once.

    Rules: members only (what each operation may do is its use case's business: a suspended
    member's vote is refused as online). At most ``MAX_OPS_PER_PUSH``. Operations are applied
    in the order given, each in its own transaction: the record of the operation is claimed
    first (a concurrent push of the same operation waits for it and then sees its outcome),
    then its use case runs in a savepoint — a refusal undoes only what that use case did —
    and the outcome is remembered in the same transaction as its effects. Seen before: the
    remembered outcome as ``duplicate``; the same id with another type or payload:
    ``op_id_reused``. Unknown types: ``unsupported_op``, not remembered. A server fault:
    ``failed``, not remembered. The database being unreachable stops the push (the app
    retries it; what was applied comes back as duplicates). ``occurredAt`` is only
    recorded, and never later than reception.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    handlers: OpHandlers
    problem_of: ProblemOf

    async def __call__(
        self, principal: Principal, device_id: str, ops: Sequence[SyncOp]
    ) -> PushReport:
        member = principal.require_member()
        ensure_may_read(member)
        if len(ops) > MAX_OPS_PER_PUSH:
            raise InvalidInput(f"At most {MAX_OPS_PER_PUSH} operations.", code="too_many_ops")
        results: list[OpResult] = []
        clamped: list[ClampedTime] = []
        for op in ops:
            received_at = self.clock.now()
            occurred_at = recorded_occurrence(op.occurred_at, received_at)
            if op.occurred_at is not None and occurred_at != op.occurred_at:
                assert occurred_at is not None
                clamped.append(ClampedTime(op.op_id, op.occurred_at, occurred_at))
            claim = OpClaim(
                op.op_id, device_id, op.type, op.fingerprint(), occurred_at, received_at
            )
            results.append(await self._apply(principal, member.id, op, claim))
        return PushReport(results, clamped)

    async def _apply(
        self, principal: Principal, member_id: UUID, op: SyncOp, claim: OpClaim
    ) -> OpResult:
        handler = self.handlers.get(op.type)
        if handler is None:
            unsupported = InvalidInput(
                f"Operation type {op.type!r} is not supported (yet); keep it and push it "
                "again after an update.",
                code="unsupported_op",
            )
            return OpResult(op.op_id, OpStatus.REJECTED, self.problem_of(unsupported))
        async with self.uow_factory() as uow:
            stored = await uow.sync_ops.claim(member_id, claim)
            if stored is not None:
                if stored.fingerprint == claim.fingerprint:
                    return OpResult.of_stored(stored)
                reused = Conflict(
                    "This opId was used for another operation; give each operation its own.",
                    code="op_id_reused",
                )
                return OpResult(op.op_id, OpStatus.REJECTED, self.problem_of(reused))
            try:
                body = await handler(principal, op.payload, uow.savepoint)
                outcome = OpOutcome(OpStatus.APPLIED, body)
            except StorageUnavailable:
                raise
            except DomainError as refusal:
                outcome = OpOutcome(OpStatus.REJECTED, self.problem_of(refusal))
            except Exception as fault:  # a bug, not a refusal: nothing is remembered
                return OpResult(op.op_id, OpStatus.FAILED, self.problem_of(fault))
            await uow.sync_ops.finish(member_id, op.op_id, outcome)
            await uow.commit()
        return OpResult(op.op_id, outcome.status, outcome.body)


# -- offline batches -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfflineBatch:
    """Clips handed out to validate offline, each reserved for the caller until
    ``expires_at``. Possibly fewer than asked for (or none)."""

    id: UUID
    reserved_at: datetime
    expires_at: datetime
    clips: Sequence[Clip]


@dataclass(frozen=True, slots=True)
class ReserveOfflineBatch:
    """Hand a validator up to ``size`` clips in one language to validate offline.

    Rules: active members only; ``size`` 1–``MAX_BATCH_SIZE``. Clips are picked as the
    queue picks them (gold mixed in at the validator's rate, indistinguishable), then
    locked — clips another request holds are left out, never waited for — and only those
    with a free vote slot are reserved (``ClipSlots.may_reserve``). Each is recorded as
    served now and reserved for ``offline.reservation_ttl``. A validator holds at most
    ``offline.max_reserved`` reservations at once (``too_many_reserved`` beyond).
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    random: RandomSource
    rules: ValidationRules
    offline: OfflineRules = field(default_factory=OfflineRules)

    async def __call__(self, principal: Principal, language: str, size: int) -> OfflineBatch:
        member = principal.require_member()
        ensure_may_write(member)
        if not 1 <= size <= MAX_BATCH_SIZE:
            raise InvalidInput(f"size must be 1–{MAX_BATCH_SIZE}.", code="invalid_batch_size")
        wanted_language = normalise_language(language)
        batch_id = self.ids.new_id()
        async with self.uow_factory() as uow:
            now = self.clock.now()
            expires_at = now + self.offline.reservation_ttl
            held = await uow.reservations.holding_count(member.id, now)
            room = self.offline.max_reserved - held
            if room <= 0:
                raise Conflict(
                    f"You hold {held} reserved clips already; validate or let them expire first.",
                    code="too_many_reserved",
                )
            candidates = await clips_to_serve(
                uow,
                member.id,
                wanted_language,
                min(size, room),
                now=now,
                ids=self.ids,
                random=self.random,
                rules=self.rules,
            )
            slots = await uow.reservations.lock_for_batch([c.id for c in candidates], now)
            cap = self.rules.policy.config.vote_cap
            chosen = [c for c in candidates if c.id in slots and slots[c.id].may_reserve(cap)]
            if chosen:
                await uow.reservations.add(
                    [Reservation(member.id, clip.id, batch_id, now, expires_at) for clip in chosen]
                )
                await uow.servings.record(member.id, [clip.id for clip in chosen], now)
                await uow.commit()
        return OfflineBatch(batch_id, now, expires_at, chosen)


# -- pull ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PullChanges:
    """What changed for the caller since ``cursor`` (everything, without one): their clips'
    statuses, notifications, balance and the reward rates in force, a page of at most
    ``limit`` list items at a time, with the cursor to pull next.

    Rules: members only (suspended members too: they must see their account); only one's own
    changes — a cursor carries no member, so someone else's finds nothing of theirs. No
    change is ever skipped, whatever order transactions commit in (``core.domain.sync_cursor``).
    """

    feed: ChangeFeed
    clock: Clock
    rewards: RewardRules = field(default_factory=RewardRules)

    async def __call__(self, principal: Principal, cursor: str | None, limit: int) -> ChangePage:
        member = principal.require_member()
        ensure_may_read(member)
        if not 1 <= limit <= MAX_PULL_PAGE:
            raise InvalidInput(f"limit must be 1–{MAX_PULL_PAGE}.", code="invalid_limit")
        position = SyncCursor.decode(cursor) if cursor else SyncCursor()
        return await self.feed.page(
            member.id, position, limit, currency=self.rewards.currency, now=self.clock.now()
        )


# -- housekeeping --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PruneSyncState:
    """Periodic: forget pushed operations older than ``retention`` (never less than
    ``MIN_OP_RETENTION``: a replay within it must find its outcome) and delete expired
    reservations, ``batch`` rows per transaction. Returns how many rows went."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    retention: timedelta = MIN_OP_RETENTION
    batch: int = 10_000

    async def __call__(self) -> int:
        if self.retention < MIN_OP_RETENTION:
            raise InvalidInput(
                f"Operations are remembered at least {MIN_OP_RETENTION.days} days.",
                code="invalid_config",
            )
        now = self.clock.now()
        removed = 0
        for prune in (self._ops, self._reservations):
            while True:
                async with self.uow_factory() as uow:
                    gone = await prune(uow, now)
                    await uow.commit()
                removed += gone
                if gone < self.batch:
                    break
        return removed

    async def _ops(self, uow: UnitOfWork, now: datetime) -> int:
        return await uow.sync_ops.prune(received_before=now - self.retention, limit=self.batch)

    async def _reservations(self, uow: UnitOfWork, now: datetime) -> int:
        return await uow.reservations.prune(expired_before=now, limit=self.batch)
