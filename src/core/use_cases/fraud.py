"""Fraud defences run by the worker: bursts of uploads or votes put the member in front of
moderators (the daily earnings cap is applied where rewards are posted, repeated audio where
clips are uploaded)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.domain.fraud import Burst, FraudRules, SignalKind
from core.domain.moderation import FlagReason, TargetRef, TargetType
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.moderation import ActivityWindow
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.flagging import file_automatic_flag
from core.use_cases.fraud_signals import record_fraud_signal

BURST_WINDOW = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class BurstReport:
    """How many members this scan newly flagged for each kind of burst."""

    upload_bursts: int = 0
    vote_bursts: int = 0


@dataclass(frozen=True, slots=True)
class FlagActivityBursts:
    """Periodic task ``moderation.scan_bursts``: a member who uploaded more than
    ``rules.uploads_per_hour`` clips, or voted more than ``rules.votes_per_hour`` times, in
    the last hour has their profile flagged for review (``upload_burst`` / ``vote_burst``)
    and a fraud signal recorded — once while that flag is open, however long the burst
    lasts. A rate of 0 switches that check off. Requests past the per-member write limit
    were already refused at the edge; this catches sustained activity under it."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    rules: FraudRules
    window: timedelta = BURST_WINDOW

    async def __call__(self) -> BurstReport:
        now = self.clock.now()
        since = now - self.window
        async with self.uow_factory() as uow:
            uploads: Sequence[Burst] = ()
            votes: Sequence[Burst] = ()
            if self.rules.uploads_per_hour:
                window = ActivityWindow(since, self.rules.uploads_per_hour)
                uploads = await uow.activity.heavy_uploaders(window)
            if self.rules.votes_per_hour:
                window = ActivityWindow(since, self.rules.votes_per_hour)
                votes = await uow.activity.heavy_voters(window)
            upload_bursts = await self._flag_all(
                uow, uploads, SignalKind.UPLOAD_BURST, "uploads", self.rules.uploads_per_hour
            )
            vote_bursts = await self._flag_all(
                uow, votes, SignalKind.VOTE_BURST, "votes", self.rules.votes_per_hour
            )
            await uow.commit()
        return BurstReport(upload_bursts, vote_bursts)

    async def _flag_all(
        self, uow: UnitOfWork, bursts: Sequence[Burst], kind: SignalKind, what: str, rate: int
    ) -> int:
        flagged = 0
        now = self.clock.now()
        for burst in sorted(bursts, key=lambda b: b.profile_id):
            target = await uow.moderation_targets.lock(
                TargetRef(TargetType.PROFILE, burst.profile_id)
            )
            if target is None:  # pragma: no cover - activity always has a profile
                continue
            note = f"{burst.count} {what} in the last hour (rate {rate} per hour)"
            if not await file_automatic_flag(
                uow, target, FlagReason(kind.value), note, now=now, ids=self.ids
            ):
                continue
            await record_fraud_signal(
                uow,
                profile_id=burst.profile_id,
                kind=kind,
                detail={"count": burst.count, "perHour": rate},
                now=now,
                ids=self.ids,
            )
            flagged += 1
        return flagged
