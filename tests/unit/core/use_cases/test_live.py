"""Live stream use cases against the in-memory fakes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.identity import Principal, Profile, ProfileStatus, Role
from core.domain.live import (
    HOST_GRANTS,
    MAX_MESSAGE_LENGTH,
    READ_ONLY_VIEWER_GRANTS,
    VIEWER_GRANTS,
    LiveRole,
    StreamStatus,
    participant_identity,
)
from core.errors import (
    Conflict,
    FeatureUnavailable,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from core.use_cases.live import (
    CHAT_MESSAGES_PER_WINDOW,
    CHAT_WINDOW,
    EndStream,
    GetStream,
    HandleLiveWebhook,
    IssueStreamToken,
    ListChatMessages,
    ListLiveStreams,
    PostChatMessage,
    StartStream,
    StartStreamCommand,
    StreamJoin,
    WebhookOutcome,
)
from tests.fakes import (
    FakeLiveVideo,
    FakeTextScreener,
    FakeUnitOfWork,
    FakeWebhookVerifier,
    FixedClock,
    InMemoryStore,
    SequentialIds,
    video_down,
)


@dataclass
class World:
    """The fakes and a few members; use cases are built on demand from them."""

    store: InMemoryStore = field(default_factory=InMemoryStore)
    clock: FixedClock = field(default_factory=FixedClock)
    ids: SequentialIds = field(default_factory=SequentialIds)
    video: FakeLiveVideo = field(default_factory=FakeLiveVideo)
    webhooks: FakeWebhookVerifier = field(default_factory=FakeWebhookVerifier)
    screener: FakeTextScreener = field(default_factory=FakeTextScreener)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def member(
        self, role: Role = Role.MEMBER, status: ProfileStatus = ProfileStatus.ACTIVE
    ) -> Principal:
        profile = replace(
            Profile.new(uuid.uuid4(), self.clock.now()),
            role=role,
            status=status,
            display_name="Ada",
        )
        self.store.profiles[profile.id] = profile
        return Principal(profile=profile)

    def start(self) -> StartStream:
        return StartStream(uow_factory=self.uow, clock=self.clock, ids=self.ids, video=self.video)

    def token(self) -> IssueStreamToken:
        return IssueStreamToken(uow_factory=self.uow, video=self.video)

    def end(self) -> EndStream:
        return EndStream(uow_factory=self.uow, clock=self.clock, ids=self.ids, video=self.video)

    def post(self) -> PostChatMessage:
        return PostChatMessage(
            uow_factory=self.uow, clock=self.clock, ids=self.ids, screener=self.screener
        )

    def messages(self) -> ListChatMessages:
        return ListChatMessages(uow_factory=self.uow)

    def webhook(self) -> HandleLiveWebhook:
        return HandleLiveWebhook(
            uow_factory=self.uow, clock=self.clock, ids=self.ids, verifier=self.webhooks
        )

    async def go_live(self, host: Principal, title: str = "Yoruba hour") -> StreamJoin:
        return await self.start()(host, StartStreamCommand(title=title, language="yo"))

    async def deliver(self, event: str, room: str, **fields: str) -> WebhookOutcome:
        body = json.dumps({"event": event, "room": room, **fields})
        return await self.webhook()(body, self.webhooks.sign(body))

    def events(self) -> list[str]:
        return [e.name for e in self.store.outbox]


@pytest.fixture
def world() -> World:
    return World()


# --- going live ------------------------------------------------------------------------------


async def test_going_live_creates_the_stream_its_room_and_a_publish_token(world):
    host = world.member()
    join = await world.go_live(host, title="  Yoruba   hour ")
    stream = join.stream
    assert (stream.title, stream.language, stream.status) == ("Yoruba hour", "yo", "live")
    assert stream.host_id == host.profile_id
    assert world.store.live.streams == {stream.id: stream}
    assert stream.room_name in world.video.rooms
    assert (join.role, join.grants, join.url) == (
        LiveRole.HOST,
        HOST_GRANTS,
        world.video.client_url,
    )
    issued = world.video.tokens[join.token]
    assert (issued.room, issued.identity, issued.name) == (
        stream.room_name,
        str(host.profile_id),
        "Ada",
    )
    assert issued.grants == HOST_GRANTS
    assert world.events() == ["stream.started"]
    assert world.store.outbox[0].payload == {
        "streamId": str(stream.id),
        "hostId": str(host.profile_id),
        "language": "yo",
    }


async def test_a_second_live_stream_is_refused_and_nothing_is_added(world):
    host = world.member()
    await world.go_live(host)
    with pytest.raises(Conflict) as refused:
        await world.go_live(host, title="Another")
    assert refused.value.code == "already_live"
    assert len(world.store.live.streams) == 1
    assert world.events() == ["stream.started"]


async def test_after_ending_the_host_may_go_live_again(world):
    host = world.member()
    first = await world.go_live(host)
    await world.end()(host, first.stream.id)
    second = await world.go_live(host)
    assert second.stream.id != first.stream.id
    assert [s.status for s in world.store.live.streams.values()] == ["ended", "live"]


async def test_when_the_video_service_fails_nothing_is_kept(world):
    host = world.member()
    world.video.failure = video_down()
    with pytest.raises(FeatureUnavailable):
        await world.go_live(host)
    assert world.store.live.streams == {}
    assert world.events() == []


@pytest.mark.parametrize(
    ("status", "code"),
    [(ProfileStatus.SUSPENDED, "account_suspended"), (ProfileStatus.BANNED, "account_banned")],
)
async def test_only_members_who_may_write_go_live(world, status, code):
    with pytest.raises(PermissionDenied) as refused:
        await world.go_live(world.member(status=status))
    assert refused.value.code == code
    assert world.store.live.streams == {}


async def test_the_service_identity_does_not_go_live(world):
    with pytest.raises(PermissionDenied) as refused:
        await world.go_live(Principal(profile=None, is_service=True))
    assert refused.value.code == "member_required"


@pytest.mark.parametrize(("title", "language"), [("   ", "yo"), ("x" * 121, "yo"), ("Hi", "y0")])
async def test_bad_titles_and_languages_are_invalid(world, title, language):
    with pytest.raises(InvalidInput):
        await world.start()(world.member(), StartStreamCommand(title=title, language=language))
    assert world.store.live.streams == {}
    assert world.video.rooms == {}


# --- tokens ---------------------------------------------------------------------------------


async def test_viewers_get_subscribe_and_chat_never_publish(world):
    stream = (await world.go_live(world.member())).stream
    viewer = world.member()
    join = await world.token()(viewer, stream.id)
    assert (join.role, join.grants) == (LiveRole.VIEWER, VIEWER_GRANTS)
    assert join.identity == participant_identity(viewer.profile.id)
    assert world.video.tokens[join.token].grants == VIEWER_GRANTS


async def test_the_host_gets_a_publish_token_and_may_ask_to_watch(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    assert (await world.token()(host, stream.id)).grants == HOST_GRANTS
    assert (await world.token()(host, stream.id, LiveRole.HOST)).grants == HOST_GRANTS
    assert (await world.token()(host, stream.id, LiveRole.VIEWER)).grants == VIEWER_GRANTS


async def test_a_non_host_asking_to_publish_is_refused(world):
    stream = (await world.go_live(world.member())).stream
    with pytest.raises(PermissionDenied) as refused:
        await world.token()(world.member(role=Role.ADMIN), stream.id, LiveRole.HOST)
    assert refused.value.code == "host_only"


async def test_suspended_members_watch_without_chatting(world):
    stream = (await world.go_live(world.member())).stream
    join = await world.token()(world.member(status=ProfileStatus.SUSPENDED), stream.id)
    assert join.grants == READ_ONLY_VIEWER_GRANTS


async def test_no_tokens_for_banned_members_ended_or_unknown_streams(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    with pytest.raises(PermissionDenied) as banned:
        await world.token()(world.member(status=ProfileStatus.BANNED), stream.id)
    assert banned.value.code == "account_banned"
    await world.end()(host, stream.id)
    issued = len(world.video.tokens)
    with pytest.raises(Conflict) as ended:
        await world.token()(world.member(), stream.id)
    assert ended.value.code == "stream_ended"
    with pytest.raises(Conflict):
        await world.token()(host, stream.id, LiveRole.HOST)
    with pytest.raises(NotFound) as missing:
        await world.token()(world.member(), uuid.uuid4())
    assert missing.value.code == "stream_not_found"
    assert len(world.video.tokens) == issued


# --- ending ---------------------------------------------------------------------------------


async def test_the_host_ends_the_stream_closing_the_room_and_recording_its_duration(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    world.clock.advance(minutes=42)
    ended = await world.end()(host, stream.id)
    assert ended.status is StreamStatus.ENDED
    assert ended.duration == timedelta(minutes=42)
    assert world.store.live.streams[stream.id] == ended
    assert stream.room_name not in world.video.rooms
    assert world.events() == ["stream.started", "stream.ended"]
    assert world.store.outbox[-1].payload == {
        "streamId": str(stream.id),
        "hostId": str(host.profile_id),
        "endedBy": str(host.profile_id),
        "durationSeconds": 42 * 60,
        "peakViewers": 0,
    }


async def test_ending_twice_is_a_conflict_and_changes_nothing(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    ended = await world.end()(host, stream.id)
    world.clock.advance(minutes=5)
    with pytest.raises(Conflict) as refused:
        await world.end()(host, stream.id)
    assert refused.value.code == "stream_ended"
    assert world.store.live.streams[stream.id] == ended
    assert world.events() == ["stream.started", "stream.ended"]


async def test_a_viewer_cannot_end_someone_elses_stream(world):
    stream = (await world.go_live(world.member())).stream
    with pytest.raises(PermissionDenied) as refused:
        await world.end()(world.member(), stream.id)
    assert refused.value.code == "not_stream_host"
    assert world.store.live.streams[stream.id].is_live
    assert stream.room_name in world.video.rooms


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
async def test_moderators_and_admins_end_any_stream(world, role):
    stream = (await world.go_live(world.member())).stream
    moderator = world.member(role=role)
    await world.end()(moderator, stream.id)
    assert not world.store.live.streams[stream.id].is_live
    assert world.store.outbox[-1].payload["endedBy"] == str(moderator.profile_id)


async def test_the_service_identity_ends_streams(world):
    stream = (await world.go_live(world.member())).stream
    await world.end()(Principal(profile=None, is_service=True), stream.id)
    assert world.store.outbox[-1].payload["endedBy"] == "service"


async def test_ending_an_unknown_stream_is_not_found(world):
    with pytest.raises(NotFound):
        await world.end()(world.member(), uuid.uuid4())


async def test_if_the_room_cannot_be_closed_the_stream_stays_live(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    world.video.failure = video_down()
    with pytest.raises(FeatureUnavailable):
        await world.end()(host, stream.id)
    assert world.store.live.streams[stream.id].is_live
    assert world.events() == ["stream.started"]


# --- listing --------------------------------------------------------------------------------


async def test_live_streams_are_listed_newest_first_a_page_at_a_time(world):
    started = []
    for _ in range(5):
        started.append((await world.go_live(world.member())).stream)
        world.clock.advance(seconds=1)
    ended_host = world.member()
    ended = (await world.go_live(ended_host)).stream
    await world.end()(ended_host, ended.id)
    listing = ListLiveStreams(uow_factory=world.uow)
    seen, after, pages = [], None, 0
    while True:
        page = await listing(limit=2, after=after)
        seen += page.items
        pages += 1
        if page.next is None:
            break
        after = page.next
    assert [s.id for s in seen] == [s.id for s in reversed(started)]
    assert pages == 3


@pytest.mark.parametrize("limit", [0, 101])
async def test_page_sizes_are_1_to_100(world, limit):
    with pytest.raises(InvalidInput):
        await ListLiveStreams(uow_factory=world.uow)(limit=limit)
    with pytest.raises(InvalidInput):
        await world.messages()(uuid.uuid4(), limit=limit)


async def test_get_stream(world):
    stream = (await world.go_live(world.member())).stream
    assert await GetStream(uow_factory=world.uow)(stream.id) == stream
    with pytest.raises(NotFound):
        await GetStream(uow_factory=world.uow)(uuid.uuid4())


# --- chat -----------------------------------------------------------------------------------


async def test_chat_messages_are_trimmed_kept_and_listed_newest_first(world):
    stream = (await world.go_live(world.member())).stream
    viewer = world.member()
    posted = []
    for text in ("  hello  ", "second", "third"):
        posted.append(await world.post()(viewer, stream.id, text))
        world.clock.advance(seconds=3)
    assert posted[0].body == "hello"
    assert posted[0].author_id == viewer.profile_id
    first = await world.messages()(stream.id, limit=2)
    assert [m.body for m in first.items] == ["third", "second"]
    assert first.next is not None
    rest = await world.messages()(stream.id, limit=2, before=first.next)
    assert [m.body for m in rest.items] == ["hello"]
    assert rest.next is None


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (MAX_MESSAGE_LENGTH + 1)])
async def test_empty_and_oversized_messages_are_refused(world, body):
    stream = (await world.go_live(world.member())).stream
    with pytest.raises(InvalidInput) as refused:
        await world.post()(world.member(), stream.id, body)
    assert refused.value.code == "invalid_message"
    assert world.store.live.messages == []


async def test_a_message_of_exactly_the_limit_is_accepted(world):
    stream = (await world.go_live(world.member())).stream
    message = await world.post()(world.member(), stream.id, "x" * MAX_MESSAGE_LENGTH)
    assert len(message.body) == MAX_MESSAGE_LENGTH


async def test_no_messages_into_ended_or_unknown_streams(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    await world.end()(host, stream.id)
    with pytest.raises(Conflict) as ended:
        await world.post()(world.member(), stream.id, "hello?")
    assert ended.value.code == "stream_ended"
    with pytest.raises(NotFound):
        await world.post()(world.member(), uuid.uuid4(), "hello?")
    with pytest.raises(NotFound):
        await world.messages()(uuid.uuid4())
    assert world.store.live.messages == []


async def test_suspended_members_cannot_chat(world):
    stream = (await world.go_live(world.member())).stream
    with pytest.raises(PermissionDenied):
        await world.post()(world.member(status=ProfileStatus.SUSPENDED), stream.id, "hi")


async def test_flooding_is_refused_per_member_per_stream_until_the_window_passes(world):
    first = (await world.go_live(world.member())).stream
    second = (await world.go_live(world.member())).stream
    chatty, calm = world.member(), world.member()
    for i in range(CHAT_MESSAGES_PER_WINDOW):
        await world.post()(chatty, first.id, f"m{i}")
        world.clock.advance(seconds=1)
    with pytest.raises(RateLimited) as flooded:
        await world.post()(chatty, first.id, "one too many")
    assert flooded.value.code == "chat_rate_limited"
    assert flooded.value.extra == {"retry_after_seconds": 10}
    await world.post()(calm, first.id, "other members are not limited")
    await world.post()(chatty, second.id, "nor other streams")
    world.clock.advance(seconds=CHAT_WINDOW.total_seconds() - CHAT_MESSAGES_PER_WINDOW + 1)
    await world.post()(chatty, first.id, "the oldest left the window")
    assert len(world.store.live.messages) == CHAT_MESSAGES_PER_WINDOW + 3


async def test_refused_messages_do_not_count_against_the_limit(world):
    stream = (await world.go_live(world.member())).stream
    viewer = world.member()
    for _ in range(CHAT_MESSAGES_PER_WINDOW):
        with pytest.raises(InvalidInput):
            await world.post()(viewer, stream.id, " ")
    for i in range(CHAT_MESSAGES_PER_WINDOW):
        await world.post()(viewer, stream.id, f"m{i}")


@settings(max_examples=50, deadline=None)
@given(gaps=st.lists(st.integers(min_value=0, max_value=4000), min_size=1, max_size=30))
def test_no_member_ever_has_more_than_the_limit_in_any_window(gaps):
    """Whatever the timing, any window holds at most the limit of one member's messages."""

    async def scenario() -> list:
        world = World()
        stream = (await world.go_live(world.member())).stream
        viewer = world.member()
        for gap in gaps:
            world.clock.advance(milliseconds=gap)
            with contextlib.suppress(RateLimited):
                await world.post()(viewer, stream.id, "hi")
        return [m.created_at for m in world.store.live.messages]

    times = asyncio.run(scenario())
    for start in times:
        in_window = [t for t in times if start <= t < start + CHAT_WINDOW]
        assert len(in_window) <= CHAT_MESSAGES_PER_WINDOW


# --- webhooks -------------------------------------------------------------------------------


async def test_joins_and_leaves_keep_current_and_peak_viewers(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    room = stream.room_name
    deliver = world.deliver
    assert await deliver("participant_joined", room, id="E1", identity="a", sid="PA_a") == "applied"
    await deliver("participant_joined", room, id="E2", identity="b", sid="PA_b")
    await deliver("participant_joined", room, id="E3", identity=str(host.profile_id), sid="PA_h")
    await deliver("participant_left", room, id="E4", identity="a", sid="PA_a")
    now = world.store.live.streams[stream.id]
    assert (now.current_viewers, now.peak_viewers) == (1, 2)


async def test_duplicate_deliveries_are_harmless_in_any_order(world):
    stream = (await world.go_live(world.member())).stream
    room = stream.room_name
    await world.deliver("participant_joined", room, id="E1", identity="a", sid="PA_a")
    await world.deliver("participant_left", room, id="E2", identity="a", sid="PA_a")
    again = await world.deliver("participant_joined", room, id="E1", identity="a", sid="PA_a")
    assert again == WebhookOutcome.DUPLICATE
    now = world.store.live.streams[stream.id]
    assert (now.current_viewers, now.peak_viewers) == (0, 1)


async def test_a_finished_room_ends_its_stream_once(world):
    host = world.member()
    stream = (await world.go_live(host)).stream
    world.clock.advance(minutes=3)
    assert await world.deliver("room_finished", stream.room_name, id="E9") == "applied"
    ended = world.store.live.streams[stream.id]
    assert ended.status is StreamStatus.ENDED
    assert ended.duration == timedelta(minutes=3)
    assert await world.deliver("room_finished", stream.room_name, id="E9") == "ignored"
    assert await world.deliver("room_finished", stream.room_name, id="E10") == "ignored"
    assert world.events() == ["stream.started", "stream.ended"]
    assert world.store.outbox[-1].payload["endedBy"] == "video_service"


async def test_unknown_events_and_rooms_are_ignored(world):
    stream = (await world.go_live(world.member())).stream
    before = world.store.live.streams[stream.id]
    assert await world.deliver("track_published", stream.room_name, id="E1") == "ignored"
    assert await world.deliver("participant_joined", "live-elsewhere", id="E2", sid="x") == (
        "ignored"
    )
    assert world.store.live.streams[stream.id] == before
    assert world.store.live.handled_events == set()


async def test_a_badly_signed_webhook_changes_nothing(world):
    stream = (await world.go_live(world.member())).stream
    body = json.dumps({"event": "room_finished", "room": stream.room_name, "id": "E1"})
    with pytest.raises(NotAuthenticated):
        await world.webhook()(body, "signed:forged")
    assert world.store.live.streams[stream.id].is_live
    assert world.store.live.handled_events == set()


@settings(max_examples=50, deadline=None)
@given(
    deliveries=st.lists(
        st.tuples(st.sampled_from(["participant_joined", "participant_left"]), st.integers(0, 3)),
        max_size=25,
    ),
    repeats=st.lists(st.integers(1, 3), min_size=25, max_size=25),
)
def test_redelivering_events_changes_nothing(deliveries, repeats):
    """Delivering every event one to three times (redeliveries right after the original or
    at the end) ends in the same counts as delivering each once."""

    async def scenario(times: list[int], replay: bool) -> tuple[int, int]:
        world = World()
        stream = (await world.go_live(world.member())).stream
        sent = []
        for n, (kind, who) in enumerate(deliveries):
            fields = {"id": f"E{n}", "identity": f"v{who}", "sid": f"PA_{who}"}
            for _ in range(times[n]):
                await world.deliver(kind, stream.room_name, **fields)
            sent.append((kind, fields))
        for kind, fields in sent if replay else []:
            await world.deliver(kind, stream.room_name, **fields)
        final = world.store.live.streams[stream.id]
        return final.current_viewers, final.peak_viewers

    once = asyncio.run(scenario([1] * len(deliveries), replay=False))
    assert asyncio.run(scenario(repeats, replay=True)) == once
