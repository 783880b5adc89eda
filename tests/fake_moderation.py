"""In-memory fakes of the moderation ports: targets, flags, cases, the audit log, fraud
signals, the daily earnings rows and the activity reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from core.domain.clips import Clip
from core.domain.fraud import Burst, FraudSignal
from core.domain.identity import Profile
from core.domain.live import LiveMessage, LiveStream
from core.domain.moderation import (
    Decision,
    Flag,
    FlagReason,
    FlagStatus,
    Target,
    TargetRef,
    TargetType,
    preview,
)
from core.domain.visibility import Visibility
from core.ports.moderation import ActivityWindow, CapDay, Case, QueueItem


@dataclass
class StoredFlag:
    flag: Flag
    owner_id: uuid.UUID
    resolved_at: datetime | None = None


@dataclass
class ModerationState:
    flags: list[StoredFlag] = field(default_factory=list)
    cases: dict[TargetRef, Case] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    signals: list[FraudSignal] = field(default_factory=list)
    days: dict[tuple[uuid.UUID, str, date], CapDay] = field(default_factory=dict)

    def copy(self) -> ModerationState:
        return ModerationState(
            [replace(stored) for stored in self.flags],
            dict(self.cases),
            list(self.decisions),
            list(self.signals),
            dict(self.days),
        )


class FakeModerationTargets:
    """Targets read from (and hidden in) the unit of work's staged clips, chat, streams and
    profiles: ``world()`` gives ``(clips, streams, messages, profiles)``."""

    def __init__(
        self,
        world: Callable[
            [],
            tuple[
                dict[uuid.UUID, Clip],
                dict[uuid.UUID, LiveStream],
                list[LiveMessage],
                dict[uuid.UUID, Profile],
            ],
        ],
    ) -> None:
        self._world = world

    async def lock(self, ref: TargetRef) -> Target | None:
        clips, streams, messages, profiles = self._world()
        if ref.type is TargetType.CLIP and (clip := clips.get(ref.id)):
            return Target(ref, clip.contributor_id, clip.visibility, preview(clip.prompt))
        if ref.type is TargetType.LIVE_STREAM and (stream := streams.get(ref.id)):
            return Target(
                ref, stream.host_id, stream.visibility, preview(stream.title), stream.is_live
            )
        if ref.type is TargetType.LIVE_MESSAGE:
            for message in messages:
                if message.id == ref.id:
                    return Target(ref, message.author_id, message.visibility, preview(message.body))
        if ref.type is TargetType.PROFILE and (profile := profiles.get(ref.id)):
            return Target(ref, profile.id, profile.visibility, preview(profile.display_name))
        return None

    async def set_visibility(self, ref: TargetRef, visibility: Visibility) -> None:
        clips, streams, messages, profiles = self._world()
        if ref.type is TargetType.CLIP:
            clips[ref.id] = replace(clips[ref.id], visibility=visibility)
        elif ref.type is TargetType.LIVE_STREAM:
            streams[ref.id] = replace(streams[ref.id], visibility=visibility)
        elif ref.type is TargetType.LIVE_MESSAGE:
            for index, message in enumerate(messages):
                if message.id == ref.id:
                    messages[index] = replace(message, visibility=visibility)
        else:
            profiles[ref.id] = replace(profiles[ref.id], visibility=visibility)


def _open(stored: StoredFlag, target: TargetRef) -> bool:
    return stored.flag.target == target and stored.flag.status is FlagStatus.OPEN


class FakeFlagRepository:
    def __init__(self, state: ModerationState) -> None:
        self._state = state

    async def add(self, flag: Flag, owner_id: uuid.UUID) -> bool:
        for stored in self._state.flags:
            if not _open(stored, flag.target):
                continue
            if flag.reporter_id is not None and stored.flag.reporter_id == flag.reporter_id:
                return False
            automatic = flag.reporter_id is None and stored.flag.automatic
            if automatic and stored.flag.reason is flag.reason:
                return False
        self._state.flags.append(StoredFlag(flag, owner_id))
        return True

    async def counting_reporters(self, target: TargetRef) -> int:
        return len(
            {s.flag.reporter_id for s in self._state.flags if _open(s, target) and s.flag.counts}
        )

    async def settle(self, target: TargetRef, status: FlagStatus, at: datetime) -> int:
        settled = 0
        for stored in self._state.flags:
            if _open(stored, target):
                stored.flag = replace(stored.flag, status=status)
                stored.resolved_at = at
                settled += 1
        return settled

    async def reasons_for(
        self, targets: Sequence[TargetRef]
    ) -> Mapping[TargetRef, Mapping[FlagReason, int]]:
        found: dict[TargetRef, dict[FlagReason, int]] = {}
        for stored in self._state.flags:
            if stored.flag.target in targets:
                reasons = found.setdefault(stored.flag.target, {})
                reasons[stored.flag.reason] = reasons.get(stored.flag.reason, 0) + 1
        return found

    async def against_member(
        self, owner_id: uuid.UUID
    ) -> Mapping[FlagStatus, Mapping[FlagReason, int]]:
        found: dict[FlagStatus, dict[FlagReason, int]] = {}
        for stored in self._state.flags:
            if stored.owner_id == owner_id:
                reasons = found.setdefault(stored.flag.status, {})
                reasons[stored.flag.reason] = reasons.get(stored.flag.reason, 0) + 1
        return found

    async def raised_by(self, reporter_id: uuid.UUID) -> Mapping[FlagStatus, int]:
        found: dict[FlagStatus, int] = {}
        for stored in self._state.flags:
            if stored.flag.reporter_id == reporter_id:
                found[stored.flag.status] = found.get(stored.flag.status, 0) + 1
        return found


class FakeModerationCases:
    def __init__(self, state: ModerationState, targets: FakeModerationTargets) -> None:
        self._state = state
        self._targets = targets

    async def open(self, target: Target, at: datetime, case_id: uuid.UUID) -> Case:
        case = self._state.cases.get(target.ref)
        if case is None:
            case = Case(case_id, target.ref, target.owner_id, True, at)
        elif not case.is_open:
            case = replace(case, is_open=True, opened_at=at)
        self._state.cases[target.ref] = case
        return case

    async def get(self, target: TargetRef) -> Case | None:
        return self._state.cases.get(target)

    async def mark_auto_hidden(self, target: TargetRef) -> None:
        self._state.cases[target] = replace(self._state.cases[target], auto_hidden=True)

    async def close(self, target: Target, at: datetime, case_id: uuid.UUID) -> None:
        case = self._state.cases.get(target.ref) or Case(case_id, target.ref, target.owner_id,
                                                         False, at)  # fmt: skip
        self._state.cases[target.ref] = replace(case, is_open=False, auto_hidden=False)

    async def queue(
        self, *, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> Sequence[QueueItem]:
        cases = sorted(
            (c for c in self._state.cases.values() if c.is_open),
            key=lambda c: (c.opened_at, c.id),
        )
        if after is not None:
            cases = [c for c in cases if (c.opened_at, c.id) > after]
        items = []
        for case in cases[:limit]:
            target = await self._targets.lock(case.target)
            open_flags = [s.flag for s in self._state.flags if _open(s, case.target)]
            reasons: dict[FlagReason, int] = {}
            for flag in open_flags:
                reasons[flag.reason] = reasons.get(flag.reason, 0) + 1
            notes = [f.note for f in sorted(open_flags, key=lambda f: f.created_at) if f.note]
            items.append(
                QueueItem(
                    case=case,
                    visibility=target.visibility if target else Visibility.REMOVED,
                    preview=target.preview if target else "",
                    open_flags=len(open_flags),
                    counting_reporters=len({f.reporter_id for f in open_flags if f.counts}),
                    reasons=reasons,
                    notes=tuple(reversed(notes))[:3],
                )
            )
        return items


class FakeDecisionLog:
    def __init__(self, state: ModerationState) -> None:
        self._state = state

    async def append(self, decision: Decision) -> None:
        self._state.decisions.append(decision)

    async def page(
        self,
        *,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
        target: TargetRef | None = None,
        member_id: uuid.UUID | None = None,
    ) -> Sequence[Decision]:
        found = sorted(self._state.decisions, key=lambda d: (d.created_at, d.id), reverse=True)
        found = [
            d
            for d in found
            if (target is None or d.target == target)
            and (member_id is None or d.owner_id == member_id)
            and (before is None or (d.created_at, d.id) < before)
        ]
        return found[:limit]

    async def latest_for(self, targets: Sequence[TargetRef]) -> Mapping[TargetRef, Decision]:
        latest: dict[TargetRef, Decision] = {}
        for decision in sorted(self._state.decisions, key=lambda d: (d.created_at, d.id)):
            if decision.target in targets:
                latest[decision.target] = decision
        return latest


class FakeFraudSignals:
    def __init__(self, state: ModerationState) -> None:
        self._state = state

    async def add(self, signal: FraudSignal) -> None:
        self._state.signals.append(signal)

    async def for_member(self, profile_id: uuid.UUID, limit: int) -> Sequence[FraudSignal]:
        mine = [s for s in self._state.signals if s.profile_id == profile_id]
        return sorted(mine, key=lambda s: (s.created_at, s.id), reverse=True)[:limit]


class FakeDailyEarnings:
    def __init__(self, state: ModerationState) -> None:
        self._state = state

    async def lock(
        self, day: date, currency: str, members: Sequence[uuid.UUID]
    ) -> Mapping[uuid.UUID, CapDay]:
        return {
            member: self._state.days.setdefault(
                (member, currency, day), CapDay(day, currency, 0, 0)
            )
            for member in sorted(set(members))
        }

    async def add(
        self,
        day: date,
        currency: str,
        *,
        paid: Mapping[uuid.UUID, int],
        withheld: Mapping[uuid.UUID, int],
    ) -> None:
        for member in set(paid) | set(withheld):
            row = self._state.days[(member, currency, day)]
            self._state.days[(member, currency, day)] = replace(
                row,
                earned_minor=row.earned_minor + paid.get(member, 0),
                withheld_minor=row.withheld_minor + withheld.get(member, 0),
            )

    async def withheld_days(self, profile_id: uuid.UUID, limit: int) -> Sequence[CapDay]:
        days = [
            row
            for (member, _, _), row in self._state.days.items()
            if member == profile_id and row.withheld_minor > 0
        ]
        return sorted(days, key=lambda row: (row.day, row.currency), reverse=True)[:limit]


class FakeActivityScan:
    """Counts uploads and votes by time in the staged clips: ``world()`` gives ``(clips,
    votes)`` where votes are ``(validator_id, created_at)`` pairs."""

    def __init__(self, world: Callable[[], tuple[Sequence[Clip], Sequence[Any]]]) -> None:
        self._world = world

    async def heavy_uploaders(self, window: ActivityWindow) -> Sequence[Burst]:
        clips, _ = self._world()
        return _heavy([(c.contributor_id, c.created_at) for c in clips], window)

    async def heavy_voters(self, window: ActivityWindow) -> Sequence[Burst]:
        _, votes = self._world()
        return _heavy([(v.validator_id, v.created_at) for v in votes], window)


def _heavy(events: list[tuple[uuid.UUID, datetime]], window: ActivityWindow) -> list[Burst]:
    counts: dict[uuid.UUID, int] = {}
    for who, at in events:
        if at >= window.since:
            counts[who] = counts.get(who, 0) + 1
    return [Burst(who, n) for who, n in sorted(counts.items()) if n > window.more_than]
