"""In-memory fakes of the core ports: behavioural, not mocks."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from core.domain.events import DomainEvent
from core.domain.identity import Profile
from core.domain.ledger import MemberBalance
from core.domain.live import LiveGrants, LiveMessage, LiveStream, RoomEvent, RoomEventKind
from core.domain.screening import ALLOWED, ScreeningVerdict
from core.domain.visibility import Visibility
from core.errors import FeatureUnavailable, NotAuthenticated
from core.ports.live_streams import Position
from core.ports.live_video import RoomParticipant
from tests.fake_badges import (
    BadgeState,
    FakeAwardRepository,
    FakeBadgeCatalogue,
    FakeLeaderboardRepository,
    FakeMemberStatsRepository,
)
from tests.fake_clips import (
    ClipState,
    FakeClipQueue,
    FakeClipRepository,
    FakeClipServings,
    FakeReservationRepository,
    FakeSkipRepository,
    FakeValidatorStatsRepository,
    FakeVoteRepository,
)
from tests.fake_ledger import FakeLedgerRepository, FakeRewardRateRepository, LedgerState
from tests.fake_moderation import (
    FakeActivityScan,
    FakeDailyEarnings,
    FakeDecisionLog,
    FakeFlagRepository,
    FakeFraudSignals,
    FakeModerationCases,
    FakeModerationTargets,
    ModerationState,
)
from tests.fake_notifications import (
    FakeNotificationRepository,
    FakePushTokenRepository,
    NotificationState,
)
from tests.fake_payouts import FakePayoutDestinationRepository, FakePayoutRepository, PayoutState
from tests.fake_sync import FakeSyncOpLog, SyncState

VISIBLE = Visibility.VISIBLE


class FixedClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class SequentialIds:
    """Predictable UUIDs: 00000000-0000-0000-0000-000000000001, …"""

    def __init__(self) -> None:
        self.count = 0

    def new_id(self) -> uuid.UUID:
        self.count += 1
        return uuid.UUID(int=self.count)


@dataclass
class InMemoryStore:
    """What the fake database holds; shared by every fake unit of work made from it."""

    profiles: dict[uuid.UUID, Profile] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)
    live: LiveState = field(default_factory=lambda: LiveState())
    clips: ClipState = field(default_factory=ClipState)
    ledger: LedgerState = field(default_factory=LedgerState)
    notifications: NotificationState = field(default_factory=NotificationState)
    payouts: PayoutState = field(default_factory=PayoutState)
    moderation: ModerationState = field(default_factory=ModerationState)
    held_keys: set[tuple[uuid.UUID, str]] = field(default_factory=set)
    badges: BadgeState = field(default_factory=BadgeState)
    sync: SyncState = field(default_factory=SyncState)


class FakeProfileRepository:
    def __init__(self, staged: dict[uuid.UUID, Profile]) -> None:
        self._staged = staged

    async def get(self, profile_id: uuid.UUID) -> Profile | None:
        return self._staged.get(profile_id)

    async def get_many(self, profile_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, Profile]:
        return {i: self._staged[i] for i in profile_ids if i in self._staged}

    async def add_if_absent(self, profile: Profile) -> bool:
        if profile.id in self._staged:
            return False
        self._staged[profile.id] = profile
        return True

    async def save(self, profile: Profile) -> None:
        self._staged[profile.id] = profile


class FakeProfileLookup:
    """``ProfileLookup`` on the store: committed profiles only."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def get(self, profile_id: uuid.UUID) -> Profile | None:
        return self.store.profiles.get(profile_id)


class FakeBalanceLookup:
    """``BalanceLookup`` on the store: committed balances only."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def member_balance(self, profile_id: uuid.UUID, currency: str) -> MemberBalance:
        ledger = FakeLedgerRepository(self.store.ledger, lambda _clip: True)
        return await ledger.member_balance(profile_id, currency)


class FakeUnitOfWork:
    """Changes are staged on a copy and published to the store only on commit."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.committed = False
        self._events: list[DomainEvent] = []
        self._my_keys: set[tuple[uuid.UUID, str]] = set()

    async def __aenter__(self) -> Self:
        self._stage(self.store)
        return self

    def _stage(self, source: InMemoryStore) -> None:
        self._staged = dict(source.profiles)
        self.profiles = FakeProfileRepository(self._staged)
        self._live = source.live.copy()
        self.live_streams = FakeLiveStreamRepository(self._live)
        self._open_clips(source.clips.copy())
        self._open_notifications(source.notifications.copy())
        self._open_ledger(source.ledger.copy())
        self._open_payouts(source.payouts.copy())
        self._open_badges(source.badges.copy())
        self._open_moderation(source.moderation.copy())
        self._sync = source.sync.copy()
        self.sync_ops = FakeSyncOpLog(self._sync)

    def _staged_store(self) -> InMemoryStore:
        """What this unit of work would publish, as a store of its own (the payout keys in
        flight stay shared: they stand for locks held across transactions)."""
        return InMemoryStore(
            profiles=dict(self._staged),
            live=self._live.copy(),
            clips=self._clips.copy(),
            ledger=self._ledger.copy(),
            notifications=self._notifications.copy(),
            payouts=self._payouts.copy(),
            held_keys=self.store.held_keys,
            badges=self._badges.copy(),
            sync=self._sync.copy(),
            moderation=self._moderation.copy(),
        )

    def _open_moderation(self, state: ModerationState) -> None:
        self._moderation = state
        self.moderation_targets = FakeModerationTargets(
            lambda: (self._clips.clips, self._live.streams, self._live.messages, self._staged)
        )
        self.flags = FakeFlagRepository(state)
        self.moderation_cases = FakeModerationCases(state, self.moderation_targets)
        self.decisions = FakeDecisionLog(state)
        self.fraud_signals = FakeFraudSignals(state)
        self.daily_earnings = FakeDailyEarnings(state)
        self.activity = FakeActivityScan(
            lambda: (list(self._clips.clips.values()), list(self._clips.votes.values()))
        )

    def _open_payouts(self, state: PayoutState) -> None:
        self._payouts = state
        self.payouts = FakePayoutRepository(state, self.store.held_keys, self._my_keys)
        self.payout_destinations = FakePayoutDestinationRepository(state)

    def _open_badges(self, state: BadgeState) -> None:
        self._badges = state
        self.badges = FakeBadgeCatalogue(state)
        self.awards = FakeAwardRepository(state, lambda: self._clips.stats, lambda: self._staged)
        self.member_stats = FakeMemberStatsRepository(state)
        self.leaderboards = FakeLeaderboardRepository(state, lambda: self._staged)

    def _open_ledger(self, state: LedgerState) -> None:
        self._ledger = state
        self.ledger = FakeLedgerRepository(state, self._clip_visible)
        self.reward_rates = FakeRewardRateRepository(state)

    def _clip_visible(self, clip_id: uuid.UUID) -> bool:
        clip = self._clips.clips.get(clip_id)
        return clip is not None and clip.is_visible

    def _open_notifications(self, state: NotificationState) -> None:
        self._notifications = state
        self.push_tokens = FakePushTokenRepository(state)
        self.notifications = FakeNotificationRepository(state)

    def _open_clips(self, state: ClipState) -> None:
        self._clips = state
        self.clips = FakeClipRepository(state)
        self.votes = FakeVoteRepository(state)
        self.servings = FakeClipServings(state)
        self.skips = FakeSkipRepository(state)
        self.validator_stats = FakeValidatorStatsRepository(state)
        self.clip_queue = FakeClipQueue(state)
        self.reservations = FakeReservationRepository(state)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._events.clear()
        self.store.held_keys -= self._my_keys

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    async def commit(self) -> None:
        self.store.profiles = dict(self._staged)
        self.store.live = self._live.copy()
        self.store.clips = self._clips.copy()
        self.store.ledger = self._ledger.copy()
        self.store.notifications = self._notifications.copy()
        self.store.payouts = self._payouts.copy()
        self.store.badges = self._badges.copy()
        self.store.sync = self._sync.copy()
        self.store.moderation = self._moderation.copy()
        self.store.outbox.extend(self._events)
        self._events.clear()
        self.committed = True

    async def rollback(self) -> None:
        self._stage(self.store)
        self._events.clear()

    def savepoint(self) -> FakeSavepoint:
        return FakeSavepoint(self)


class FakeSavepoint(FakeUnitOfWork):
    """A unit of work nested in an open one: it stages on a copy of the parent's staged
    state and hands its changes and events to the parent on commit."""

    def __init__(self, parent: FakeUnitOfWork) -> None:
        super().__init__(parent._staged_store())
        self._parent = parent
        self._my_keys = parent._my_keys

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._events.clear()  # the parent still holds its payout keys

    async def commit(self) -> None:
        await super().commit()
        self._parent._stage(self.store)
        self._parent._events.extend(self.store.outbox)
        self.store.outbox.clear()


# --- live streams ---------------------------------------------------------------------------


@dataclass
class LiveState:
    """Live streams, chat messages and handled video-service event ids."""

    streams: dict[uuid.UUID, LiveStream] = field(default_factory=dict)
    messages: list[LiveMessage] = field(default_factory=list)
    handled_events: set[str] = field(default_factory=set)

    def copy(self) -> LiveState:
        return LiveState(dict(self.streams), list(self.messages), set(self.handled_events))


class FakeLiveStreamRepository:
    """Keeps the same promises as ``PostgresLiveStreamRepository`` (one live stream per host,
    the chat limit, keyset pages); locks are no-ops in a single event loop."""

    def __init__(self, state: LiveState) -> None:
        self._state = state

    async def add(self, stream: LiveStream) -> bool:
        if any(s.host_id == stream.host_id and s.is_live for s in self._state.streams.values()):
            return False
        if stream.id in self._state.streams:
            raise ValueError(f"duplicate stream id {stream.id}")
        self._state.streams[stream.id] = stream
        return True

    async def get(self, stream_id: uuid.UUID, *, lock: bool = False) -> LiveStream | None:
        return self._state.streams.get(stream_id)

    async def get_by_room(self, room_name: str, *, lock: bool = False) -> LiveStream | None:
        return next((s for s in self._state.streams.values() if s.room_name == room_name), None)

    async def live_streams_of(self, host_id: uuid.UUID) -> list[LiveStream]:
        return [s for s in self._state.streams.values() if s.host_id == host_id and s.is_live]

    async def save(self, stream: LiveStream) -> None:
        assert stream.id in self._state.streams
        self._state.streams[stream.id] = stream

    async def list_live(self, *, limit: int, after: Position | None) -> list[LiveStream]:
        live = sorted(
            (s for s in self._state.streams.values() if s.is_live and s.visibility is VISIBLE),
            key=lambda s: (s.started_at, s.id),
            reverse=True,
        )
        if after is not None:
            live = [s for s in live if (s.started_at, s.id) < (after.at, after.id)]
        return live[:limit]

    async def mark_event_handled(self, event_id: str, at: datetime) -> bool:
        if event_id in self._state.handled_events:
            return False
        self._state.handled_events.add(event_id)
        return True

    async def add_message_within_limit(
        self, message: LiveMessage, *, limit: int, since: datetime
    ) -> bool:
        recent = [
            m
            for m in self._state.messages
            if m.stream_id == message.stream_id
            and m.author_id == message.author_id
            and m.created_at >= since
        ]
        if len(recent) >= limit:
            return False
        self._state.messages.append(message)
        return True

    async def list_messages(
        self, stream_id: uuid.UUID, *, limit: int, before: Position | None
    ) -> list[LiveMessage]:
        messages = sorted(
            (
                m
                for m in self._state.messages
                if m.stream_id == stream_id and m.visibility is VISIBLE
            ),
            key=lambda m: (m.created_at, m.id),
            reverse=True,
        )
        if before is not None:
            messages = [m for m in messages if (m.created_at, m.id) < (before.at, before.id)]
        return messages[:limit]


@dataclass(frozen=True)
class IssuedToken:
    room: str
    identity: str
    name: str
    grants: LiveGrants


class FakeLiveVideo:
    """Rooms in memory; tokens are ``token-<n>`` with what was granted kept in ``tokens``.
    Set ``failure`` to make every room call raise it (as if the service were down)."""

    def __init__(self, client_url: str = "wss://live.example.test") -> None:
        self._client_url = client_url
        self.rooms: dict[str, dict[str, RoomParticipant]] = {}
        self.deleted: list[str] = []
        self.tokens: dict[str, IssuedToken] = {}
        self.failure: Exception | None = None

    @property
    def client_url(self) -> str:
        return self._client_url

    def _maybe_fail(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def create_room(
        self,
        name: str,
        *,
        empty_timeout: timedelta | None = None,
        max_participants: int | None = None,
    ) -> None:
        self._maybe_fail()
        self.rooms.setdefault(name, {})

    async def delete_room(self, name: str) -> None:
        self._maybe_fail()
        self.rooms.pop(name, None)
        self.deleted.append(name)

    async def list_participants(self, room: str) -> tuple[RoomParticipant, ...]:
        self._maybe_fail()
        return tuple(self.rooms.get(room, {}).values())

    async def remove_participant(self, room: str, identity: str) -> None:
        self._maybe_fail()
        self.rooms.get(room, {}).pop(identity, None)

    def issue_token(
        self,
        room: str,
        identity: str,
        name: str,
        grants: LiveGrants,
        ttl: timedelta | None = None,
    ) -> str:
        token = f"token-{len(self.tokens) + 1}"
        self.tokens[token] = IssuedToken(room, identity, name, grants)
        return token


def video_down() -> FeatureUnavailable:
    return FeatureUnavailable("Live video is down.", code="live_video_unavailable")


class FakeWebhookVerifier:
    """Bodies are JSON ``{"id", "event", "room", "identity", "sid"}``; the signature is
    ``signed:<sha256 of the body>`` (see ``sign``)."""

    def verify(self, body: str, authorization: str) -> RoomEvent:
        if authorization != self.sign(body):
            raise NotAuthenticated("Bad signature.", code="invalid_webhook_signature")
        fields = json.loads(body)
        try:
            kind = RoomEventKind(fields.get("event", ""))
        except ValueError:
            kind = RoomEventKind.UNKNOWN
        return RoomEvent(
            id=fields.get("id", ""),
            kind=kind,
            room_name=fields.get("room", ""),
            participant_identity=fields.get("identity"),
            participant_session=fields.get("sid"),
        )

    @staticmethod
    def sign(body: str) -> str:
        return "signed:" + hashlib.sha256(body.encode()).hexdigest()


class FakeTextScreener:
    """Blocks a text containing one of ``blocked`` (word → category), case-insensitively;
    remembers what it was asked (text, language)."""

    def __init__(self, blocked: dict[str, str] | None = None) -> None:
        self.blocked = dict(blocked or {})
        self.asked: list[tuple[str, str | None]] = []

    async def screen(self, text: str, *, language: str | None) -> ScreeningVerdict:
        self.asked.append((text, language))
        for word, category in self.blocked.items():
            if word.casefold() in text.casefold():
                return ScreeningVerdict(category)
        return ALLOWED
