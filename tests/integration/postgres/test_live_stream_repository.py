"""One contract for ``LiveStreamRepository``, run against the in-memory fake and against
PostgreSQL, so the fake the unit tests rely on keeps the adapter's promises."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.identity import Profile
from core.domain.live import LiveMessage, LiveStream, StreamStatus, room_name_for
from core.ports.live_streams import Position
from core.ports.unit_of_work import UnitOfWork
from tests.fakes import FakeUnitOfWork, InMemoryStore

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@pytest.fixture(params=["fake", "postgres"])
def uow_factory(request: pytest.FixtureRequest) -> Callable[[], UnitOfWork]:
    if request.param == "fake":
        store = InMemoryStore()
        return lambda: FakeUnitOfWork(store)
    engine = request.getfixturevalue("engine")
    return lambda: PostgresUnitOfWork(engine)


async def a_member(uow_factory: Callable[[], UnitOfWork]) -> uuid.UUID:
    member = uuid.uuid4()
    async with uow_factory() as uow:
        await uow.profiles.add_if_absent(Profile.new(member, T0))
        await uow.commit()
    return member


def a_stream(host: uuid.UUID, started_at: datetime = T0, **changes: object) -> LiveStream:
    stream_id = uuid.uuid4()
    stream = LiveStream(
        id=stream_id,
        host_id=host,
        title="Yoruba hour",
        language="yo",
        room_name=room_name_for(stream_id),
        status=StreamStatus.LIVE,
        started_at=started_at,
        ended_at=None,
        viewer_sessions=frozenset(),
        peak_viewers=0,
    )
    return replace(stream, **changes)  # type: ignore[arg-type]


def ended(stream: LiveStream, at: datetime) -> LiveStream:
    return replace(stream, status=StreamStatus.ENDED, ended_at=at, viewer_sessions=frozenset())


async def test_streams_round_trip_and_save(uow_factory):
    host = await a_member(uow_factory)
    stream = a_stream(host)
    async with uow_factory() as uow:
        assert await uow.live_streams.add(stream)
        await uow.commit()
    watched = replace(stream, viewer_sessions=frozenset({"PA_1", "PA_2"}), peak_viewers=3)
    async with uow_factory() as uow:
        assert await uow.live_streams.get(stream.id, lock=True) == stream
        await uow.live_streams.save(watched)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.live_streams.get(stream.id) == watched
        assert await uow.live_streams.get_by_room(stream.room_name, lock=True) == watched
        assert await uow.live_streams.get(uuid.uuid4()) is None
        assert await uow.live_streams.get_by_room("live-nothing") is None
        assert await uow.live_streams.live_streams_of(host) == [watched]


async def test_one_live_stream_per_host(uow_factory):
    host, other = await a_member(uow_factory), await a_member(uow_factory)
    first = a_stream(host)
    async with uow_factory() as uow:
        assert await uow.live_streams.add(first)
        assert not await uow.live_streams.add(a_stream(host))
        assert await uow.live_streams.add(a_stream(other))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.live_streams.save(ended(first, T0 + timedelta(minutes=1)))
        assert await uow.live_streams.live_streams_of(host) == []
        assert await uow.live_streams.add(a_stream(host))
        await uow.commit()


async def test_nothing_is_kept_without_commit(uow_factory):
    host = await a_member(uow_factory)
    stream = a_stream(host)
    async with uow_factory() as uow:
        await uow.live_streams.add(stream)
        await uow.live_streams.mark_event_handled("EV_1", T0)
    async with uow_factory() as uow:
        assert await uow.live_streams.get(stream.id) is None
        assert await uow.live_streams.mark_event_handled("EV_1", T0)


async def test_live_streams_are_paged_newest_first_then_by_id(uow_factory):
    streams = []
    for minute in (0, 1, 1, 1, 2):
        host = await a_member(uow_factory)
        streams.append(a_stream(host, T0 + timedelta(minutes=minute)))
    gone = a_stream(await a_member(uow_factory), T0 + timedelta(minutes=5))
    async with uow_factory() as uow:
        for stream in [*streams, gone]:
            assert await uow.live_streams.add(stream)
        await uow.live_streams.save(ended(gone, T0 + timedelta(minutes=6)))
        await uow.commit()
    expected = sorted(streams, key=lambda s: (s.started_at, s.id), reverse=True)
    seen: list[LiveStream] = []
    after = None
    async with uow_factory() as uow:
        while True:
            page = await uow.live_streams.list_live(limit=2, after=after)
            seen += page
            if len(page) < 2:
                break
            after = Position(at=page[-1].started_at, id=page[-1].id)
    assert [s.id for s in seen] == [s.id for s in expected]


async def test_events_are_handled_once(uow_factory):
    async with uow_factory() as uow:
        assert await uow.live_streams.mark_event_handled("EV_1", T0)
        assert not await uow.live_streams.mark_event_handled("EV_1", T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.live_streams.mark_event_handled("EV_1", T0 + timedelta(hours=1))
        assert await uow.live_streams.mark_event_handled("EV_2", T0)


async def test_the_chat_limit_counts_one_author_in_one_stream_since_a_time(uow_factory):
    host, author, other = [await a_member(uow_factory) for _ in range(3)]
    stream = a_stream(host)
    second = a_stream(other)
    async with uow_factory() as uow:
        await uow.live_streams.add(stream)
        await uow.live_streams.add(second)
        await uow.commit()

    def message(who: uuid.UUID, at: datetime, where: LiveStream = stream) -> LiveMessage:
        return LiveMessage(uuid.uuid4(), where.id, who, "hi", at)

    since = T0 + timedelta(seconds=10)
    async with uow_factory() as uow:
        add = uow.live_streams.add_message_within_limit
        assert await add(message(author, T0), limit=2, since=since)  # before the window
        assert await add(message(author, since), limit=2, since=since)
        assert await add(message(author, since + timedelta(seconds=1)), limit=2, since=since)
        assert not await add(message(author, since + timedelta(seconds=2)), limit=2, since=since)
        assert await add(message(other, since), limit=2, since=since)
        assert await add(message(author, since, second), limit=2, since=since)
        await uow.commit()
    async with uow_factory() as uow:
        page = await uow.live_streams.list_messages(stream.id, limit=10, before=None)
    assert len(page) == 4


async def test_messages_are_paged_newest_first_then_by_id(uow_factory):
    host = await a_member(uow_factory)
    stream = a_stream(host)
    messages = [
        LiveMessage(uuid.uuid4(), stream.id, host, f"m{i}", T0 + timedelta(seconds=i // 2))
        for i in range(7)
    ]
    async with uow_factory() as uow:
        await uow.live_streams.add(stream)
        for m in messages:
            assert await uow.live_streams.add_message_within_limit(m, limit=100, since=T0)
        await uow.commit()
    expected = sorted(messages, key=lambda m: (m.created_at, m.id), reverse=True)
    seen: list[LiveMessage] = []
    before = None
    async with uow_factory() as uow:
        while True:
            page = await uow.live_streams.list_messages(stream.id, limit=3, before=before)
            seen += page
            if len(page) < 3:
                break
            before = Position(at=page[-1].created_at, id=page[-1].id)
        assert await uow.live_streams.list_messages(uuid.uuid4(), limit=3, before=None) == []
    assert seen == expected
